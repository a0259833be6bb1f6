// The shared memory of the fused convolution kernels (convolution.cuh), laid
// out the same way by the kernels and by the host, which sizes the launches
// and the backward passes (device_model.cpp) from it.
#pragma once
#include <cstddef>

#include "cuda/views.hpp"

namespace flashtp::cuda {

// Width of the hidden-layer buffers: every hidden layer, and the last one's
// gradient (K), fit.
template <class R>
FLASHTP_DEVICE int hidden_buffer_width(const ConvView<R>& cv) {
  return cv.hidden.max_hidden > cv.K ? cv.hidden.max_hidden : cv.K;
}

// Arrays in elements of the kernel's number type (then the chunk's EdgeIndex
// arrays), each 32-byte aligned for vector loads. The last hidden activations
// a[e][k] are aT[k][e], or PackedA (heads and tails) for the tensor cores.
// `strips`: tasks whose per-edge weights are staged at once (forward: one a
// warp; backward: the widest pass).
struct ConvShared {
  int geo, emb, Y, ping, pong, aT, wt, z, gY, total;
  int row;  // stride of an edge's row of per-slot weights wt[e][slot] (padded against bank conflicts)
  template <class R>
  FLASHTP_DEVICE ConvShared(int EC, int warps, int strips, const EmbeddingView<R>& em, const ConvView<R>& cv,
                            bool backward, bool tensor_cores) {
    const int width = hidden_buffer_width(cv), ns = em.sh_size();
    int at = 0;
    auto take = [&at](int n) {
      const int start = at;
      at += (n + 7) / 8 * 8;
      return start;
    };
    row = strips * kTaskSlots + 4;
    geo = take(4 * EC);
    emb = take(em.num_basis * EC);
    Y = take(ns * EC);
    ping = take(width * EC);
    pong = take(width * EC);
    aT = take((tensor_cores ? 2 : 1) * cv.K * EC);
    wt = take(EC * row);
    z = take(backward ? cv.hidden.depth * width * EC : 0);
    gY = take(backward ? warps * ns * EC : 0);
    total = at;
  }
  // for numbers of `value_bytes` each
  size_t bytes(int EC, size_t value_bytes) const {
    return static_cast<size_t>(total) * value_bytes + (4 * static_cast<size_t>(EC) + 2) * sizeof(int);
  }
};

}  // namespace flashtp::cuda
