// The backward pass's per-edge ends, outside the fused convolution. The fused
// kernel of layer l leaves, per edge e (by edge id),
//   dL/da_e   (a: the radial MLP's last hidden activations; overwritten per layer),
//   dL/dY_e  += its layer's part (summed over layers);
// radial_backward takes dL/da_e back through layer l's hidden layers to
// dL/demb_e (summed over layers), and edge_forces takes both sums back through
// the geometry, once for all layers:
//   dL/dr_e = demb/dr_e^T dL/demb_e + dY/dr_e^T dL/dY_e.
// Here edges run in plain order, a warp on its own tile of them, not inside
// every 32-edge chunk of the fused kernel, where they cost block barriers. Every sum has one writer per kernel, and the
// layers add in a fixed order: results are reproducible.
#pragma once
#include <cstdint>

#include "cuda/team_mlp.cuh"
#include "cuda/edge_geometry.cuh"

namespace flashtp::cuda {

// A warp's shared memory in radial_backward, in elements of T: its edges'
// embeddings (then dL/demb), the hidden pre-activations, two hidden-width
// buffers, for kMmaRows edges.
struct RadialShared {
  static constexpr int rows = kMmaRows;
  int emb, z, ping, pong, total;
  FLASHTP_DEVICE RadialShared(int num_basis, int depth, int width) {
    emb = 0;
    z = (num_basis * rows + 7) / 8 * 8;
    ping = z + depth * hidden_row(width) * rows;
    pong = ping + hidden_row(width) * rows;
    total = pong + hidden_row(width) * rows;
  }
};

// Widest row radial_backward holds: every hidden layer and dL/da (K).
template <class R>
FLASHTP_DEVICE int radial_width(const MlpView<R>& mlp, int K) {
  return mlp.max_hidden > K ? mlp.max_hidden : K;
}

// grad_emb[e] += dL/demb_e: each warp takes its own kMmaRows edges (one
// tensor-core tile of rows) through the hidden layers forward again (their
// pre-activations), then backward from grad_a[e] (rows of K); no block barrier.
template <class T, int THREADS>
FLASHTP_KERNEL FLASHTP_LAUNCH_BOUNDS(THREADS, 1) void radial_backward(MlpView<real_t<T>> mlp,
                                                                      EmbeddingView<real_t<T>> em, int K,
                                                                      int64_t num_edges, const T* vec,
                                                                      const T* grad_a, T* grad_emb) {
  constexpr int ROWS = RadialShared::rows;
  const int nb = em.num_basis, width = radial_width(mlp, K), lane = lane_id();
  const RadialShared L(nb, mlp.depth, width);
  T* sm = reinterpret_cast<T*>(shared_memory()) + warp_id() * L.total;
  T *emb = sm + L.emb, *z = sm + L.z, *ping = sm + L.ping, *pong = sm + L.pong;
  const int64_t first = (static_cast<int64_t>(blockIdx.x) * (THREADS / kWarpSize) + warp_id()) * ROWS;
  if (first >= num_edges) return;
  const int n = static_cast<int>(num_edges - first < ROWS ? num_edges - first : ROWS);

  const T* g = grad_a + first * K;
  if (mlp.depth == 0) {  // a is the embedding
    for (int idx = lane; idx < n * nb; idx += kWarpSize) grad_emb[first * nb + idx] += g[idx];
    return;
  }
  for (int e = lane; e < ROWS; e += kWarpSize) {
    if (e < n) {
      const T* v = vec + 3 * (first + e);
      radial_embedding(em, math::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]), emb + nb * e);
    } else {
      for (int b = 0; b < nb; ++b) emb[nb * e + b] = T(0);
    }
  }
  const WarpTeam warp;
  warp.sync();
  const int z_stride = ROWS * hidden_row(width);
  team_mlp_forward(warp, mlp, true, ROWS, emb, z, z_stride, ping, pong, [](int, int, T) {});
  for (int idx = lane; idx < ROWS * K; idx += kWarpSize)
    ping[idx / K * hidden_row(K) + idx % K] = idx < n * K ? g[idx] : T(0);
  warp.sync();
  team_mlp_backward(warp, mlp, true, ROWS, z, z_stride, ping, pong, emb);
  for (int idx = lane; idx < n * nb; idx += kWarpSize) grad_emb[first * nb + idx] += emb[idx];
}

// grad_vec[e] = dL/dr_e from the sums over layers (grad_Y is left as it was).
template <class T>
FLASHTP_KERNEL void edge_forces(EmbeddingView<real_t<T>> em, int64_t num_edges, const T* vec, const T* grad_emb,
                                const T* grad_Y, T* grad_vec) {
  const int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= num_edges) return;
  constexpr int kShMax = (kMaxL + 1) * (kMaxL + 1);
  const int ns = em.sh_size();
  T geo[4], Y[kShMax], gY[kShMax];
  edge_harmonics(em, vec + 3 * e, geo, Y);
  for (int k = 0; k < ns; ++k) gY[k] = grad_Y[e * ns + k];
  edge_backward(em, geo, Y, grad_emb + e * em.num_basis, gY, grad_vec + 3 * e);
}

}  // namespace flashtp::cuda
