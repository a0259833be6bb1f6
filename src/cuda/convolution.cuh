// The fused convolution of one interaction layer, forward and backward.
//
// Forward (one block per tile of centre atoms, edges in CSR order):
//   per chunk of EC edges:  geometry (r, u, Bessel x envelope, Y) -> radial
//   MLP hidden layers -> for each slot s = (path, u), one per thread:
//     w[e][s] = sum_k a[e][k] W[k][s]       (the MLP's last layer: each warp's
//                                            32 slots x EC edges as one GEMM)
//     m_i[s] += w[e][s] TP_path(h_j[u], Y_e) (sparse Clebsch-Gordan, registers)
//   Per-edge weights and messages never leave the block; each message entry
//   has one writer (its slot's thread), summed in CSR order.
//
// Backward (one block per tile of sender atoms, edges grouped by sender):
//   the same per-edge recomputation, then per slot
//     dL/dh_j[u] += w[e] (M^T g_i[u]),  dL/dw[e] = h_j[u] . M^T g_i[u],
//     dL/dY_e    += w[e] sum C h_j[u] g_i[u]   (summed over the warp, then
//                                               over warps in a fixed order),
//   dL/da[e][k] = sum_s dL/dw[e][s] W[k][s] (a block GEMM over staged dL/dw),
//   float's two weight GEMMs on the tensor cores (warp_gemm.cuh) when K is a
//   multiple of 16, the others as per-thread FMA loops,
//   and back through the hidden layers and the geometry to dL/dr_e. Every
//   sum has one writer and a fixed order: no atomics, results reproducible.
//   Two blocks per SM (at most 128 registers a thread): dL/da accumulates in
//   shared memory.
#pragma once
#include <cstdint>
#include <type_traits>

#include "cuda/block_mlp.cuh"
#include "cuda/coupling_generated.hpp"
#include "cuda/edge_geometry.cuh"
#include "cuda/warp_gemm.cuh"

namespace flashtp::cuda {

// Shared memory of the fused kernels, in elements of T (then the chunk's
// EdgeIndex arrays), each array 32-byte aligned for the tensor cores.
struct ConvShared {
  int geo, emb, Y, ping, pong, aT, wt, z, gY, total;
  int row;  // stride of an edge's row of per-slot weights wt[e][slot] (padded against bank conflicts)
  FLASHTP_DEVICE ConvShared(int EC, int threads, int num_basis, int sh_size, int depth, int width, int K,
                            bool backward) {
    int at = 0;
    auto take = [&at](int n) {
      const int start = at;
      at += (n + 7) / 8 * 8;
      return start;
    };
    row = threads + 4;
    geo = take(4 * EC);
    emb = take(num_basis * EC);
    Y = take(sh_size * EC);
    ping = take(width * EC);
    pong = take(width * EC);
    aT = take(K * EC);
    wt = take(EC * row);
    z = take(backward ? depth * width * EC : 0);
    gY = take(backward ? threads / kWarpSize * sh_size * EC : 0);
    total = at;
  }
  template <class T>
  size_t bytes(int EC) const {
    return static_cast<size_t>(total) * sizeof(T) + 3 * static_cast<size_t>(EC) * sizeof(int);
  }
};

// Width of the hidden-layer buffers: every hidden layer, and the last one's
// gradient (K), fit.
template <class R>
FLASHTP_DEVICE int hidden_buffer_width(const ConvView<R>& cv) {
  return cv.hidden.max_hidden > cv.K ? cv.hidden.max_hidden : cv.K;
}

// The chunk's edges in shared memory: edge id, centre atom i, sender atom j.
struct EdgeIndex {
  int *id, *centre, *sender;
  template <int EC>
  FLASHTP_DEVICE static EdgeIndex at(void* p) {
    int* a = static_cast<int*>(p);
    return {a, a + EC, a + 2 * EC};
  }
};

// Geometry and atoms of the chunk's edges e < n: edge first + e, or
// order[first + e] when an order is given. Rows past n get a zero embedding.
template <class T, class R, int EC>
FLASHTP_DEVICE_ONLY void chunk_geometry(const EmbeddingView<R>& em, const T* vec, const int* center,
                                        const int* neighbor, int64_t first, const int64_t* order, int n, T* geo,
                                        T* emb, T* Y, EdgeIndex edges) {
  const int nb = em.num_basis, ns = em.sh_size();
  for (int e = threadIdx.x; e < EC; e += blockDim.x) {
    if (e < n) {
      const int64_t edge = order ? order[first + e] : first + e;
      edges.id[e] = static_cast<int>(edge);
      edges.centre[e] = center[edge];
      edges.sender[e] = neighbor[edge];
      edge_forward(em, vec + 3 * edge, geo + 4 * e, emb + nb * e, Y + ns * e);
    } else {
      for (int b = 0; b < nb; ++b) emb[nb * e + b] = T(0);
    }
  }
  sync_block();
}

// The radial MLP's hidden layers on the chunk; the last activation is written
// transposed, aT[k][e], for the per-slot weight products. Ends with a barrier.
template <class T, class R, int EC>
FLASHTP_DEVICE_ONLY void chunk_radial(const ConvView<R>& cv, const T* emb, T* z, T* ping, T* pong, T* aT) {
  if (cv.hidden.depth == 0) {
    for (int idx = threadIdx.x; idx < EC * cv.K; idx += blockDim.x) aT[(idx % cv.K) * EC + idx / cv.K] = emb[idx];
    sync_block();
    return;
  }
  block_mlp_forward(cv.hidden, true, EC, emb, z, EC * hidden_buffer_width(cv), ping, pong, aT, 1, EC);
}

template <int D, class T>
FLASHTP_DEVICE_ONLY void load_row(const T* p, T (&out)[D]) {
  FLASHTP_UNROLL
  for (int i = 0; i < D; ++i) out[i] = p[i];
}

// The weight GEMMs run on the tensor cores: float, and K a multiple of 16.
template <class T, class R>
FLASHTP_DEVICE bool tensor_core_gemms(const ConvView<R>& cv) {
  return std::is_same_v<T, float> && cv.K % 16 == 0;
}

// wt[e][c] = sum_k aT[k][e] W[k][q0 + c]: the chunk's per-edge weights of this
// warp's slots q0 + c, c in [32 w, 32 w + 32) for warp w, so that each thread
// then reads its own column. Starts and ends with a warp barrier (the tensor
// cores write the columns of the warp's other lanes).
template <class T, class R, int EC>
FLASHTP_DEVICE_ONLY void warp_slot_weights(const ConvView<R>& cv, const T* aT, int q0, T* wt, int ld) {
  const int c0 = warp_id() * kWarpSize;
  if (q0 + c0 >= cv.num_slots) return;  // slots come in whole warps
  sync_warp();
  if constexpr (std::is_same_v<T, float>) {
    if (tensor_core_gemms<T>(cv)) {
      static_assert(EC % 16 == 0, "tensor-core tiles are 16 edges");
      warp_gemm<EC / 16, 2, Major::column, Major::row>(cv.K, aT, EC, cv.last + q0 + c0, cv.num_slots, wt + c0, ld,
                                                       false);
      sync_warp();
      return;
    }
  }
  const int c = c0 + lane_id();
  T w[EC];
  FLASHTP_UNROLL
  for (int e = 0; e < EC; ++e) w[e] = T(0);
  for (int k = 0; k < cv.K; ++k) {
    const R wk = cv.last[static_cast<size_t>(k) * cv.num_slots + q0 + c];
    const T* a = aT + k * EC;
    FLASHTP_UNROLL
    for (int e = 0; e < EC; ++e) w[e] += a[e] * wk;
  }
  FLASHTP_UNROLL
  for (int e = 0; e < EC; ++e) wt[e * ld + c] = w[e];
  sync_warp();
}

// grad_a[e][k] += sum_c gw[e][c] W[k][q0 + c] over the pass's slots
// (c < slots_here), gw = wt holding dL/dw. Between block barriers.
template <class T, class R, int EC, int THREADS>
FLASHTP_DEVICE_ONLY void weight_gradient_to_hidden(const ConvView<R>& cv, const T* wt, int ld, int q0, int slots_here,
                                                   T* grad_a) {
  const int K = cv.K, tid = static_cast<int>(threadIdx.x);
  if constexpr (std::is_same_v<T, float>) {
    if (tensor_core_gemms<T>(cv)) {  // 16 x 16 tiles of grad_a, one warp each
      for (int t = warp_id(); t < EC / 16 * (K / 16); t += THREADS / kWarpSize) {
        const int e0 = 16 * (t % (EC / 16)), k0 = 16 * (t / (EC / 16));
        warp_gemm<1, 1, Major::row, Major::row>(slots_here, wt + e0 * ld, ld,
                                                cv.last_transpose + static_cast<size_t>(q0) * K + k0, K,
                                                grad_a + e0 * K + k0, K, true);
      }
      return;
    }
  }
  // grad_a[e][k] owned by one thread: k = tid % K, edges [first, first + owned)
  const int groups = THREADS / K, per_thread = (EC + groups - 1) / groups;
  const int kk = tid % K, first = (tid / K) * per_thread;
  const int left = tid / K < groups ? EC - first : 0;
  const int owned = left <= 0 ? 0 : (left < per_thread ? left : per_thread);
  if (owned == 0) return;
  T sum[EC];
  FLASHTP_UNROLL
  for (int r = 0; r < EC; ++r) sum[r] = T(0);
  for (int c = 0; c < slots_here; ++c) {
    const R wk = cv.last_transpose[static_cast<size_t>(q0 + c) * K + kk];
    const T* g = wt + first * ld + c;
    FLASHTP_UNROLL
    for (int r = 0; r < EC; ++r) {  // unrolled so sum stays in registers; only `owned` of them
      if (r == owned) break;
      sum[r] += g[r * ld] * wk;
    }
  }
  FLASHTP_UNROLL
  for (int r = 0; r < EC; ++r) {
    if (r == owned) break;
    grad_a[(first + r) * K + kk] += sum[r];
  }
}

template <class T, int EC, int THREADS>
FLASHTP_KERNEL void convolution_forward(ConvView<real_t<T>> cv, EmbeddingView<real_t<T>> em, const int64_t* tiles,
                                        const int* center, const int* neighbor, const T* vec, const T* h,
                                        T* message) {
  using R = real_t<T>;
  const int ns = em.sh_size(), width = hidden_buffer_width(cv);
  const ConvShared L(EC, THREADS, em.num_basis, ns, cv.hidden.depth, width, cv.K, false);
  T* sm = reinterpret_cast<T*>(shared_memory());
  T *Y = sm + L.Y, *wt = sm + L.wt;
  const T* weights = wt + threadIdx.x;  // this thread's slot: weights[e * L.row]
  const EdgeIndex edges = EdgeIndex::at<EC>(sm + L.total);
  const int64_t begin = tiles[blockIdx.x], end = tiles[blockIdx.x + 1];

  for (int64_t c0 = begin; c0 < end; c0 += EC) {
    const int n = static_cast<int>(end - c0 < EC ? end - c0 : EC);
    chunk_geometry<T, R, EC>(em, vec, center, neighbor, c0, nullptr, n, sm + L.geo, sm + L.emb, Y, edges);
    chunk_radial<T, R, EC>(cv, sm + L.emb, nullptr, sm + L.ping, sm + L.pong, sm + L.aT);

    for (int q0 = 0; q0 < cv.num_slots; q0 += THREADS) {
      const int s = q0 + static_cast<int>(threadIdx.x);
      warp_slot_weights<T, R, EC>(cv, sm + L.aT, q0, wt, L.row);
      if (s >= cv.num_slots) continue;  // whole warps: slots come in multiples of 32
      const int* slot = cv.slots + s * kSlotFields;
      const bool active = slot[1] != 0;
      dispatch_coupling(slot[0], [&](auto coupling) {
        using C = decltype(coupling);
        const T* hx = h + slot[2];  // the slot's input channel of atom j: hx + j x_dim
        T acc[C::d3], x_next[C::d1];
        load_row(hx + static_cast<size_t>(edges.sender[0]) * cv.x_dim, x_next);
        int open = edges.centre[0];
        auto flush = [&] {
          if (active) {
            T* out = message + static_cast<size_t>(open) * cv.mid_dim + slot[3];
            FLASHTP_UNROLL
            for (int k = 0; k < C::d3; ++k) out[k] += acc[k];
          }
          FLASHTP_UNROLL
          for (int k = 0; k < C::d3; ++k) acc[k] = T(0);
        };
        FLASHTP_UNROLL
        for (int k = 0; k < C::d3; ++k) acc[k] = T(0);
        for (int e = 0; e < n; ++e) {
          T x[C::d1];  // h_j, loaded one edge ahead
          FLASHTP_UNROLL
          for (int a = 0; a < C::d1; ++a) x[a] = x_next[a];
          if (e + 1 < n) load_row(hx + static_cast<size_t>(edges.sender[e + 1]) * cv.x_dim, x_next);
          const int i = edges.centre[e];
          if (i != open) {
            flush();
            open = i;
          }
          C::forward(x, Y + ns * e, weights[e * L.row], acc);
        }
        flush();
      });
    }
    sync_block();
  }
}

template <class T, int EC, int THREADS>
FLASHTP_KERNEL FLASHTP_LAUNCH_BOUNDS(THREADS, 2) void convolution_backward(
    ConvView<real_t<T>> cv, EmbeddingView<real_t<T>> em, const int64_t* tiles, const int64_t* sender_edges,
    const int* center, const int* neighbor, const T* vec, const T* h, const T* grad_message, T* partial, T* grad_vec) {
  using R = real_t<T>;
  const int nb = em.num_basis, ns = em.sh_size(), width = hidden_buffer_width(cv), K = cv.K;
  const ConvShared L(EC, THREADS, nb, ns, cv.hidden.depth, width, K, true);
  T* sm = reinterpret_cast<T*>(shared_memory());
  T *geo = sm + L.geo, *emb = sm + L.emb, *Y = sm + L.Y, *ping = sm + L.ping, *pong = sm + L.pong;
  T *aT = sm + L.aT, *wt = sm + L.wt, *z = sm + L.z, *gY = sm + L.gY;
  const EdgeIndex edges = EdgeIndex::at<EC>(sm + L.total);
  T* weights = wt + threadIdx.x;  // this thread's slot: weights[e * L.row], w then dL/dw
  const int tid = static_cast<int>(threadIdx.x);
  const int64_t begin = tiles[blockIdx.x], end = tiles[blockIdx.x + 1];

  for (int64_t c0 = begin; c0 < end; c0 += EC) {
    const int n = static_cast<int>(end - c0 < EC ? end - c0 : EC);
    for (int idx = tid; idx < THREADS / kWarpSize * EC * ns; idx += THREADS) gY[idx] = T(0);
    chunk_geometry<T, R, EC>(em, vec, center, neighbor, c0, sender_edges, n, geo, emb, Y, edges);
    chunk_radial<T, R, EC>(cv, emb, z, ping, pong, aT);

    // dL/da[e][k] accumulates in ping (free once the hidden layers have run)
    for (int idx = tid; idx < EC * K; idx += THREADS) ping[idx] = T(0);
    for (int q0 = 0; q0 < cv.num_slots; q0 += THREADS) {
      const int s = q0 + tid;
      warp_slot_weights<T, R, EC>(cv, aT, q0, wt, L.row);
      if (s < cv.num_slots) {  // whole warps
        const int* slot = cv.slots + s * kSlotFields;
        const bool active = slot[1] != 0;
        dispatch_coupling(slot[0], [&](auto coupling) {
          using C = decltype(coupling);
          const T* hx = h + slot[2];             // the slot's input channel of atom j: hx + j x_dim
          const T* gm = grad_message + slot[3];  // its message gradient at atom i: gm + i mid_dim
          T gx[C::d1], g_next[C::d3];
          load_row(gm + static_cast<size_t>(edges.centre[0]) * cv.mid_dim, g_next);
          int open = edges.sender[0];
          auto flush = [&] {
            if (active) {
              T* out = partial + static_cast<size_t>(open) * cv.partial_dim + slot[4];
              FLASHTP_UNROLL
              for (int i = 0; i < C::d1; ++i) out[i] += gx[i];
            }
            FLASHTP_UNROLL
            for (int i = 0; i < C::d1; ++i) gx[i] = T(0);
          };
          FLASHTP_UNROLL
          for (int i = 0; i < C::d1; ++i) gx[i] = T(0);
          for (int e = 0; e < n; ++e) {
            T g[C::d3];  // dL/dm_i (i scattered), loaded one edge ahead; h_j is shared by runs of edges
            FLASHTP_UNROLL
            for (int a = 0; a < C::d3; ++a) g[a] = g_next[a];
            if (e + 1 < n) load_row(gm + static_cast<size_t>(edges.centre[e + 1]) * cv.mid_dim, g_next);
            const int j = edges.sender[e];
            if (j != open) {
              flush();
              open = j;
            }
            const T* x = hx + static_cast<size_t>(j) * cv.x_dim;
            T gy[C::sh_dim];
            FLASHTP_UNROLL
            for (int m = 0; m < C::sh_dim; ++m) gy[m] = T(0);
            const T gw = C::backward(x, Y + ns * e, weights[e * L.row], g, gx, gy);
            weights[e * L.row] = active ? gw : T(0);
            // Y_0 is the constant 1: its gradient reaches no force
            if constexpr (C::sh_offset > 0) warp_sum_add<C::sh_dim>(gy, gY + (warp_id() * EC + e) * ns + C::sh_offset);
          }
          flush();
        });
      }
      sync_block();
      // dL/da[e][k] += sum over this pass's slots of dL/dw[e][s] W[k][s]
      const int slots_here = cv.num_slots - q0 < THREADS ? cv.num_slots - q0 : THREADS;
      weight_gradient_to_hidden<T, R, EC, THREADS>(cv, wt, L.row, q0, slots_here, ping);
      sync_block();
    }
    // ping holds dL/da (rows of K); gY[0] <- the warps' dL/dY summed in warp order
    for (int idx = tid; idx < EC * ns; idx += THREADS)
      for (int w = 1; w < THREADS / kWarpSize; ++w) gY[idx] += gY[w * EC * ns + idx];
    sync_block();
    // back through the hidden layers: dL/demb lands in emb (no longer needed)
    if (cv.hidden.depth == 0) {
      for (int idx = tid; idx < EC * K; idx += THREADS) emb[idx] = ping[idx];
      sync_block();
    } else {
      block_mlp_backward(cv.hidden, true, EC, z, EC * width, ping, pong, emb);
    }
    for (int e = tid; e < n; e += THREADS) {
      T gv[3];
      edge_backward(em, geo + 4 * e, Y + ns * e, emb + nb * e, gY + ns * e, gv);
      T* out = grad_vec + 3 * static_cast<size_t>(edges.id[e]);
      for (int a = 0; a < 3; ++a) out[a] += gv[a];
    }
    sync_block();
  }
}

}  // namespace flashtp::cuda
