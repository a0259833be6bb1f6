// The backward pass's per-edge ends, outside the fused convolution. The
// edges go through layer l's backward a batch at a time (positions of their
// order, edges by sender, GraphLayout::sender_edges, from the batch's first
// p = 0): a batch's per-edge arrays bound the memory (Pipeline's
// kEdgeScratchBytes). The fused kernel leaves, per position p,
//   dL/da_p     (a: the radial MLP's last hidden activations),
//   z_p         (its hidden layers' pre-activations),
// and adds the layer's dL/dY_p; radial_backward takes dL/da_p back through
// the hidden layers and adds the layer's dL/demb_p. Once dL/demb_p and
// dL/dY_p hold their sums (over every layer when one batch holds all edges,
// else over the batch's layer), edge_forces takes them back through the
// geometry:
//   dL/dr_e += demb/dr_e^T dL/demb_p + dY/dr_e^T dL/dY_p,  e = order[p].
// Here a warp takes its own tile of positions, not every 32-edge chunk of the
// fused kernel, where these cost block barriers. Every sum has one writer per
// kernel, and the layers add in a fixed order: results are reproducible.
#pragma once
#include <cstdint>
#include <type_traits>

#include "cuda/team_mlp.cuh"
#include "cuda/edge_geometry.cuh"

namespace flashtp::cuda {

// Float with every layer's transpose but the first's packed for the tensor
// cores (K of the first is the basis, often 8): radial_backward's fast path.
template <class T, class R>
FLASHTP_DEVICE bool radial_backward_on_tensor_cores(const MlpView<R>& mlp) {
  bool packed = std::is_same_v<T, float> && mlp.depth > 0;
  for (int l = 1; l < mlp.depth; ++l) packed = packed && mlp.packed_transpose[l] != nullptr;
  return packed;
}

// A warp's shared memory in radial_backward, in elements of T, for kMmaRows
// edges: two hidden-width buffers, and off the fast path the hidden
// pre-activations and dL/demb.
struct RadialShared {
  static constexpr int rows = kMmaRows;
  int ping, pong, z, emb, total;
  FLASHTP_DEVICE RadialShared(int num_basis, int depth, int width, bool tensor_cores) {
    ping = 0;
    pong = ping + hidden_row(width) * rows;
    z = pong + hidden_row(width) * rows;
    emb = z + (tensor_cores ? 0 : depth * hidden_row(width) * rows);
    total = emb + (tensor_cores ? 0 : (num_basis * rows + 7) / 8 * 8);
  }
};

// Widest row radial_backward holds: every hidden layer and dL/da (K).
template <class R>
FLASHTP_DEVICE int radial_width(const MlpView<R>& mlp, int K) {
  return mlp.max_hidden > K ? mlp.max_hidden : K;
}

// out(r, k, C[r][k], f) for k < K, C = G B over a warp's 16 rows: G in shared
// memory (N columns, row stride ld), B packed and split (N x K, PackedB,
// loaded when used: loaded a k-step ahead it spills at radial_backward's 80
// registers); 32 columns, 4 tiles, a warp_mma at a time, so that a k-step's
// 12 products are independent of each other. f = factor(r, k) is read before
// the products, so that its load's latency hides behind them.
template <class Factor, class Out>
FLASHTP_DEVICE_ONLY void warp_rows_product(const float* G, int ld, int N, const float* B, int K,
                                           const Factor& factor, const Out& out) {
  for (int c0 = 0; c0 < K; c0 += 32) {
    auto columns = [&](auto tiles) {
      constexpr int NT = decltype(tiles)::value;
      const int lane = lane_id();
      float f[NT * 4];
      FLASHTP_UNROLL
      for (int x = 0; x < NT * 4; ++x) f[x] = factor(accumulator_row<NT>(lane, x), c0 + accumulator_col<NT>(lane, x));
      Accumulators<1, NT> c;
      zero_accumulators(c);
      warp_mma<false>(N / kMmaDepth, RowMajorA{G, ld}, PackedB{B, N, 0, c0 / kMmaCols}, c);
      FLASHTP_UNROLL
      for (int x = 0; x < NT * 4; ++x)
        out(accumulator_row<NT>(lane, x), c0 + accumulator_col<NT>(lane, x), accumulator(c, x), f[x]);
    };
    if (K - c0 >= 32) {  // K is a multiple of 16
      columns(std::integral_constant<int, 4>{});
    } else {
      columns(std::integral_constant<int, 2>{});
    }
  }
}

// The fast path of radial_backward for a warp's rows [first, first + n):
//   G = dL/da . act'(z_{depth-1}),  G <- (G W_l^T) . act'(z_{l-1}), l = depth-1 .. 1,
//   dL/demb = G W_0^T,
// each product one warp_mma per 32 columns, act' applied to the accumulators
// as they leave (z read where the fused kernel left it), W_0^T (few columns)
// by FMA loops unless packed. The same sums in the same order as
// team_mlp_backward's.
template <int ROWS>
FLASHTP_DEVICE_ONLY void radial_backward_rows(const MlpView<float>& mlp, int nb, int64_t first, int n,
                                              int64_t num_edges, const float* hidden_z, const float* grad_a,
                                              float* in, float* out, float* grad_emb) {
  const int lane = lane_id();
  auto z_of = [&](int l) {  // layer l's pre-activations of the warp's rows
    return pre_activation_layer(mlp, hidden_z, num_edges, l) + first * mlp.widths[l + 1];
  };
  const int K = mlp.widths[mlp.depth];
  const float* z = z_of(mlp.depth - 1);
  // a lane's column of all ROWS rows loaded before any is stored: ROWS loads
  // of each array in flight, not one
  for (int c = lane; c < K; c += kWarpSize) {
    float g[ROWS], zc[ROWS];
    FLASHTP_UNROLL
    for (int r = 0; r < ROWS; ++r) {
      g[r] = r < n ? grad_a[(first + r) * K + c] : 0.0f;
      zc[r] = r < n ? z[r * K + c] : 0.0f;
    }
    FLASHTP_UNROLL
    for (int r = 0; r < ROWS; ++r) in[r * hidden_row(K) + c] = g[r] * activate_derivative(mlp.act, zc[r]);
  }
  sync_warp();
  for (int l = mlp.depth - 1; l >= 1; --l) {
    const int N = mlp.widths[l + 1], Kl = mlp.widths[l];
    const float* zl = z_of(l - 1);
    auto z_at = [&](int r, int c) { return r < n ? zl[r * Kl + c] : 0.0f; };
    warp_rows_product(in, hidden_row(N), N, mlp.packed_transpose[l], Kl, z_at, [&](int r, int c, float v, float zv) {
      out[r * hidden_row(Kl) + c] = r < n ? v * activate_derivative(mlp.act, zv) : 0.0f;
    });
    sync_warp();
    float* t = in;
    in = out;
    out = t;
  }
  const int N = mlp.widths[1];
  if (mlp.packed_transpose[0]) {
    auto none = [](int, int) { return 0.0f; };
    warp_rows_product(in, hidden_row(N), N, mlp.packed_transpose[0], nb, none, [&](int r, int c, float v, float) {
      if (r < n) grad_emb[(first + r) * nb + c] += v;
    });
    return;
  }
  for (int idx = lane; idx < n * nb; idx += kWarpSize) {
    const int r = idx / nb, c = idx % nb;
    const float* x = in + r * hidden_row(N);
    float sum = 0.0f;
    for (int k = 0; k < N; ++k) sum += x[k] * mlp.transpose[0][k * nb + c];
    grad_emb[(first + r) * nb + c] += sum;
  }
}

// grad_emb[p] += dL/demb_p: each warp takes its own kMmaRows positions (one
// tensor-core tile of rows), with their pre-activations hidden_z (rows of
// mlp.widths[l + 1] per layer l, layer after layer) back from grad_a[p] (rows
// of K) through the hidden layers; no block barrier. Latency-bound: 6 blocks
// a multiprocessor (80 registers), which the shared memory of an 8-64-64 MLP
// allows, ran faster than 5 with no spills.
template <class T, int THREADS>
FLASHTP_KERNEL FLASHTP_LAUNCH_BOUNDS(THREADS, 6) void radial_backward(MlpView<real_t<T>> mlp, int num_basis, int K,
                                                                      int64_t num_edges, const T* hidden_z,
                                                                      const T* grad_a, T* grad_emb) {
  constexpr int ROWS = RadialShared::rows;
  const int nb = num_basis, width = radial_width(mlp, K), lane = lane_id();
  const bool tensor_cores = radial_backward_on_tensor_cores<T>(mlp);
  const RadialShared L(nb, mlp.depth, width, tensor_cores);
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
  if constexpr (std::is_same_v<T, float>) {
    if (tensor_cores)
      return radial_backward_rows<ROWS>(mlp, nb, first, n, num_edges, hidden_z, grad_a, ping, pong, grad_emb);
  }
  const WarpTeam warp;
  const int z_stride = ROWS * hidden_row(width);
  team_load_pre_activations(warp, mlp, ROWS, n, first, num_edges, hidden_z, z, z_stride);
  for (int idx = lane; idx < ROWS * K; idx += kWarpSize)
    ping[idx / K * hidden_row(K) + idx % K] = idx < n * K ? g[idx] : T(0);
  warp.sync();
  team_mlp_backward(warp, mlp, true, ROWS, z, z_stride, ping, pong, emb);
  for (int idx = lane; idx < n * nb; idx += kWarpSize) grad_emb[first * nb + idx] += emb[idx];
}

// grad_vec[e] += dL/dr_e of grad_emb and grad_Y, e = order[p].
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
  T gv[3];
  edge_backward(em, geo, Y, grad_emb + p * em.num_basis, gY, gv);
  for (int a = 0; a < 3; ++a) grad_vec[3 * e + a] += gv[a];
}

}  // namespace flashtp::cuda
