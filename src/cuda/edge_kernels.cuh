// The backward pass's per-edge ends, outside the fused convolution. The fused
// kernel of layer l leaves, per edge at position p of its order (edges by
// sender, GraphLayout::sender_edges),
//   dL/da_p     (a: the radial MLP's last hidden activations),
//   z_p         (its hidden layers' pre-activations; both overwritten per layer),
//   dL/dY_p    += its layer's part (summed over layers);
// radial_backward takes dL/da_p back through layer l's hidden layers to
// dL/demb_p (summed over layers), and edge_forces takes both sums back through
// the geometry, once for all layers:
//   dL/dr_e = demb/dr_e^T dL/demb_p + dY/dr_e^T dL/dY_p,  e = order[p].
// Here a warp takes its own tile of positions, not every 32-edge chunk of the
// fused kernel, where these cost block barriers. Every sum has one writer per
// kernel, and the layers add in a fixed order: results are reproducible.
#pragma once
#include <cstdint>

#include "cuda/team_mlp.cuh"
#include "cuda/edge_geometry.cuh"

namespace flashtp::cuda {

// A warp's shared memory in radial_backward, in elements of T, for kMmaRows
// edges: the hidden pre-activations, two hidden-width buffers, dL/demb.
struct RadialShared {
  static constexpr int rows = kMmaRows;
  int z, ping, pong, emb, total;
  FLASHTP_DEVICE RadialShared(int num_basis, int depth, int width) {
    z = 0;
    ping = z + depth * hidden_row(width) * rows;
    pong = ping + hidden_row(width) * rows;
    emb = pong + hidden_row(width) * rows;
    total = emb + (num_basis * rows + 7) / 8 * 8;
  }
};

// Widest row radial_backward holds: every hidden layer and dL/da (K).
template <class R>
FLASHTP_DEVICE int radial_width(const MlpView<R>& mlp, int K) {
  return mlp.max_hidden > K ? mlp.max_hidden : K;
}

// grad_emb[p] += dL/demb_p: each warp takes its own kMmaRows positions (one
// tensor-core tile of rows), with their pre-activations hidden_z (rows of
// mlp.widths[l + 1] per layer l, layer after layer) back from grad_a[p] (rows
// of K) through the hidden layers; no block barrier.
template <class T, int THREADS>
FLASHTP_KERNEL FLASHTP_LAUNCH_BOUNDS(THREADS, 1) void radial_backward(MlpView<real_t<T>> mlp, int num_basis, int K,
                                                                      int64_t num_edges, const T* hidden_z,
                                                                      const T* grad_a, T* grad_emb) {
  constexpr int ROWS = RadialShared::rows;
  const int nb = num_basis, width = radial_width(mlp, K), lane = lane_id();
  const RadialShared L(nb, mlp.depth, width);
  T* sm = reinterpret_cast<T*>(shared_memory()) + warp_id() * L.total;
  T *z = sm + L.z, *ping = sm + L.ping, *pong = sm + L.pong, *emb = sm + L.emb;
  const int64_t first = (static_cast<int64_t>(blockIdx.x) * (THREADS / kWarpSize) + warp_id()) * ROWS;
  if (first >= num_edges) return;
  const int n = static_cast<int>(num_edges - first < ROWS ? num_edges - first : ROWS);

  const T* g = grad_a + first * K;
  if (mlp.depth == 0) {  // a is the embedding
    for (int idx = lane; idx < n * nb; idx += kWarpSize) grad_emb[first * nb + idx] += g[idx];
    return;
  }
  const WarpTeam warp;
  const int z_stride = ROWS * hidden_row(width);
  team_copy_pre_activations<false>(warp, mlp, ROWS, n, first, num_edges, z, z_stride, hidden_z);
  for (int idx = lane; idx < ROWS * K; idx += kWarpSize)
    ping[idx / K * hidden_row(K) + idx % K] = idx < n * K ? g[idx] : T(0);
  warp.sync();
  team_mlp_backward(warp, mlp, true, ROWS, z, z_stride, ping, pong, emb);
  for (int idx = lane; idx < n * nb; idx += kWarpSize) grad_emb[first * nb + idx] += emb[idx];
}

// grad_vec[e] = dL/dr_e, e = order[p], from the sums over layers.
template <class T>
FLASHTP_KERNEL void edge_forces(EmbeddingView<real_t<T>> em, int64_t num_edges, const int64_t* order, const T* vec,
                                const T* grad_emb, const T* grad_Y, T* grad_vec) {
  const int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (p >= num_edges) return;
  constexpr int kShMax = (kMaxL + 1) * (kMaxL + 1);
  const int ns = em.sh_size();
  const int64_t e = order[p];
  T geo[4], Y[kShMax], gY[kShMax];
  edge_harmonics(em, vec + 3 * e, geo, Y);
  for (int k = 0; k < ns; ++k) gY[k] = grad_Y[p * ns + k];
  edge_backward(em, geo, Y, grad_emb + p * em.num_basis, gY, grad_vec + 3 * e);
}

}  // namespace flashtp::cuda
