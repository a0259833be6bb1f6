// The sizes of a Clebsch-Gordan coupling (l1, l2, l3) and how many channels of
// it one lane takes, shared by the kernels (compile time) and the host's task
// schedule (task_schedule.hpp).
#pragma once
#include "cuda/platform.hpp"

namespace flashtp::cuda {

struct CouplingShape {
  int d1, d2, d3;  // 2l + 1 of the input, the spherical harmonic, the output
  int nnz;         // nonzero entries of M[i][k] = sum_j C[i][j][k] Y[j]
  int entries;     // nonzero entries of C
};

// Channels of a path per lane, U, in the forward or backward pass: the most
// of 4, 2 and 1 for which the lane's arrays of the coupling, counted in 4-byte
// registers (`words` per number: 1 float, 2 double, 4 dual double), stay
// within a budget that leaves the kernels' 128 registers a thread unspilled
// (from ptxas: the rest of a lane's state takes about 40). Forward: x, the
// message sums and M; backward: x, dL/dx, dL/dm, M and P.
constexpr int kLaneWords = 72;
FLASHTP_DEVICE constexpr int lane_words(int words, int d1, int d3, int nnz, bool backward, int U) {
  return words * (backward ? U * (2 * d1 + d3) + 2 * nnz : U * (d1 + d3) + nnz);
}
FLASHTP_DEVICE constexpr int lane_channels(int words, int d1, int d3, int nnz, bool backward) {
  return lane_words(words, d1, d3, nnz, backward, 4) <= kLaneWords
             ? 4
             : (lane_words(words, d1, d3, nnz, backward, 2) <= kLaneWords ? 2 : 1);
}

}  // namespace flashtp::cuda
