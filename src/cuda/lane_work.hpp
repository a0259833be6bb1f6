// How much of a task (a path's 32 channels) one lane of the fused
// convolution kernels takes, and what a task costs: shared by the kernels
// (convolution.cuh) and the host, which orders the tasks by cost
// (device_model.cpp).
#pragma once
#include "cuda/coupling_generated.hpp"

namespace flashtp::cuda {

// Channels of a path per lane, U, in the forward or backward pass: the most
// of 4, 2 and 1 for which the lane's arrays of the coupling C, counted in
// 4-byte registers, stay within a budget that leaves the kernels' 128
// registers a thread unspilled (from ptxas: the rest of a lane's state takes
// about 40). Forward: x, the message sums and M; backward: x, dL/dx, dL/dm,
// M and P.
constexpr int kLaneWords = 72;
template <class T, class C, bool backward>
FLASHTP_DEVICE constexpr int lane_words(int U) {
  return static_cast<int>(sizeof(T) / 4) *
         (backward ? U * (2 * C::d1 + C::d3) + 2 * C::nnz : U * (C::d1 + C::d3) + C::nnz);
}
template <class T, class C, bool backward>
FLASHTP_DEVICE constexpr int lane_channels() {
  return lane_words<T, C, backward>(4) <= kLaneWords ? 4 : (lane_words<T, C, backward>(2) <= kLaneWords ? 2 : 1);
}

// A lane's instructions per edge and channel of a task, forward plus
// backward, roughly: the per-edge work (indices, Y, M) shared by U channels,
// and each channel's coupling. aligned: the most channels the path's rows
// allow a lane (4, 2 or 1).
template <class T>
inline int task_cost(int coupling, int aligned) {
  int cost = 0;
  dispatch_coupling(coupling, [&](auto c) {
    using C = decltype(c);
    const int uf = lane_channels<T, C, false>() <= aligned ? lane_channels<T, C, false>() : 1;
    const int ub = lane_channels<T, C, true>() <= aligned ? lane_channels<T, C, true>() : 1;
    cost = (30 + C::nnz) / uf + C::nnz + C::d1 + (40 + 3 * C::nnz) / ub + 2 * C::nnz + 3 * C::d1;
  });
  return cost;
}

}  // namespace flashtp::cuda
