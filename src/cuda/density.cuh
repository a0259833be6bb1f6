// The first interaction layer as a species-resolved density
// (DeviceModel::DensityLinears). Its input h_j = linear_1(embedding(species_j))
// takes one value per species, so the message is linear in a density per atom
// i and neighbour species s (a slot: Pipeline numbers the species present):
//   D_i,s[j][k] = sum over edges e = (i, j') with species(j') = s of a_e[k] Y_e[j]
//   m_i         = L(D_i)            (an e3nn Linear, on the tensor cores in float)
// and so is its backward, with G_i = dL/dD_i = L^T(dL/dm_i):
//   dL/da_e[k] = sum_j G_i,s[j][k] Y_e[j],   dL/dY_e[j] += sum_k a_e[k] G_i,s[j][k]
// (e = (i, j'), s = species(j')). An edge costs K (lmax+1)^2 products each way
// instead of the K x slots of its per-edge weights and their gradient, an atom
// the linear per species present. a_e is the radial MLP's last hidden
// activation, as in the fused kernels (convolution.cuh), whose geometry and
// hidden layers these share; dL/da_e and the hidden pre-activations leave for
// radial_backward as the fused backward's do. Sums have one writer and a fixed
// order: results are reproducible.
#pragma once
#include <cstdint>
#include <type_traits>

#include "cuda/convolution.cuh"

namespace flashtp::cuda {

// Where (s, k, j = l^2 + m) of an atom's D (or G) lies: L's input has a
// segment per degree l of the harmonics, of slots K channels s K + k of 2l + 1.
struct DensityLayout {
  int slots, K;
  FLASHTP_DEVICE int at(int s, int k, int l, int m) const { return slots * K * l * l + (s * K + k) * (2 * l + 1) + m; }
  FLASHTP_DEVICE int row(int sh_size) const { return slots * K * sh_size; }
};
FLASHTP_DEVICE int degree_of(int j) {  // l of harmonic j = l^2 + m
  int l = 0;
  while ((l + 1) * (l + 1) <= j) ++l;
  return l;
}

// Shared memory of the density's edge kernels, in elements of T: the chunk's
// embedding and harmonics, the hidden layers' buffers and the last activations
// as rows a[e][k]; then the chunk's EdgeIndex and each edge's species slot.
struct DensityShared {
  int emb, Y, ping, pong, a, total;
  FLASHTP_DEVICE DensityShared(int EC, int num_basis, int sh_size, int width, int K) {
    auto round = [](int n) { return (n + 7) / 8 * 8; };
    emb = 0;
    Y = emb + round(num_basis * EC);
    ping = Y + round(sh_size * EC);
    pong = ping + hidden_row(width) * EC;
    a = pong + round(hidden_row(width) * EC);
    total = a + round(K * EC);
  }
  template <class T>
  size_t bytes(int EC) const {
    return static_cast<size_t>(total) * sizeof(T) + static_cast<size_t>(EdgeIndex::ints(EC) + EC) * sizeof(int);
  }
};

// The block's tile of edges (positions tiles[b] .. tiles[b + 1], of `order`
// where given) a chunk of EC at a time: its geometry and radial MLP
// (convolution.cuh; the hidden pre-activations to pre(c0, n)), a[e][k] in
// rows, and the species slot of each edge's sender; then
// chunk(c0, n, edges, slot, Y, a), and a barrier.
template <class T, int EC, class Pre, class Chunk>
FLASHTP_DEVICE_ONLY void density_chunks(const ConvView<real_t<T>>& cv, const EmbeddingView<real_t<T>>& em,
                                        const int64_t* tiles, const int64_t* order, const T* vec, const int* center,
                                        const int* neighbor, const int* species, const int* species_slot,
                                        const Pre& pre, const Chunk& chunk) {
  using R = real_t<T>;
  const DensityShared L(EC, em.num_basis, em.sh_size(), hidden_buffer_width(cv), cv.K);
  T* sm = reinterpret_cast<T*>(shared_memory());
  const EdgeIndex edges = EdgeIndex::at<EC>(sm + L.total);
  int* slot = edges.count + 1;
  const int64_t begin = tiles[blockIdx.x], end = tiles[blockIdx.x + 1];
  for (int64_t c0 = begin; c0 < end; c0 += EC) {
    const int n = static_cast<int>(end - c0 < EC ? end - c0 : EC);
    chunk_geometry<T, R, EC>(em, vec, center, neighbor, c0, order, n, order != nullptr, sm + L.emb, sm + L.Y, edges);
    for (int e = static_cast<int>(threadIdx.x); e < n; e += static_cast<int>(blockDim.x))
      slot[e] = species_slot[species[edges.sender[e]]];
    chunk_radial<T, R, EC>(cv, sm + L.emb, pre(c0, n), sm + L.ping, sm + L.pong, RowsOut<T>{sm + L.a, cv.K});
    chunk(c0, n, edges, static_cast<const int*>(slot), static_cast<const T*>(sm + L.Y),
          static_cast<const T*>(sm + L.a));
    sync_block();
  }
}

// D of the atoms of the block's tile (edges by centre, in CSR order; D zeroed
// before): a thread per element (j, k), k fastest, a centre's edges of one
// species at a time.
template <class T, int EC, int THREADS>
FLASHTP_KERNEL FLASHTP_LAUNCH_BOUNDS(THREADS, 2) void density_forward(
    ConvView<real_t<T>> cv, EmbeddingView<real_t<T>> em, const int64_t* tiles, const int* center, const int* neighbor,
    const int* species, const int* species_slot, int slots, const T* vec, T* density) {
  const int ns = em.sh_size(), K = cv.K;
  const DensityLayout layout{slots, K};
  density_chunks<T, EC>(
      cv, em, tiles, nullptr, vec, center, neighbor, species, species_slot, [](int64_t, int) { return NoPre{}; },
      [&](int64_t, int, const EdgeIndex& edges, const int* slot, const T* Y, const T* a) {
        for (int x = static_cast<int>(threadIdx.x); x < ns * K; x += THREADS) {
          const int j = x / K, k = x % K, l = degree_of(j), m = j - l * l;
          for (int g = 0; g < *edges.count; ++g) {
            const int e0 = edges.segment[g], e1 = edges.segment[g + 1];
            T* d = density + static_cast<int64_t>(edges.centre[e0]) * layout.row(ns);
            for (int s = 0; s < slots; ++s) {
              T sum = T(0);
              for (int e = e0; e < e1; ++e) {
                const T v = a[e * K + k] * Y[ns * e + j];
                if (slot[e] == s) sum += v;
              }
              d[layout.at(s, k, l, m)] += sum;
            }
          }
        }
      });
}

// Calls f(std::integral_constant<int, l>{}) for l = lmax of the harmonics.
template <class F>
FLASHTP_DEVICE_ONLY void dispatch_lmax(int lmax, F&& f) {
  static_assert(kMaxL == 4, "a case per degree");
  switch (lmax) {
    case 0: return f(std::integral_constant<int, 0>{});
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    default: return f(std::integral_constant<int, 4>{});
  }
}

// One edge of species slot s, a warp's, lanes on k (G: its centre's dL/dD):
//   grad_a[k] = sum_j G_s[j][k] Y[j],   grad_Y[j] += sum_k a[k] G_s[j][k],
// the rows of G loaded for every harmonic at once, dL/dY summed over the
// lanes in a fixed order (lanes_sum_add).
template <int LMAX, class T>
FLASHTP_DEVICE_ONLY void density_edge_backward(const DensityLayout& layout, int s, const T* G, const T* a, const T* Y,
                                               T* grad_a, T* grad_Y) {
  constexpr int NS = (LMAX + 1) * (LMAX + 1);
  T part[NS];
  fill_zero(part);
  for (int k = lane_id(); k < layout.K; k += kWarpSize) {
    T g[NS];
    FLASHTP_UNROLL
    for (int l = 0; l <= LMAX; ++l) {
      FLASHTP_UNROLL
      for (int m = 0; m <= 2 * l; ++m) g[l * l + m] = G[layout.at(s, k, l, m)];
    }
    T sum = T(0);
    FLASHTP_UNROLL
    for (int j = 0; j < NS; ++j) {
      sum += g[j] * Y[j];
      part[j] += a[k] * g[j];
    }
    grad_a[k] = sum;
  }
  lanes_sum_add<NS, kWarpSize, 1>(part, grad_Y, true);
}

// The backward's edges of the block's tile (a batch's tiles of edges by
// sender, as convolution_backward's): dL/da and the hidden pre-activations at
// the edges' positions from 0 in the batch, dL/dY added there: a warp per
// edge (density_edge_backward).
template <class T, int EC, int THREADS>
FLASHTP_KERNEL FLASHTP_LAUNCH_BOUNDS(THREADS, 2) void density_backward(
    ConvView<real_t<T>> cv, EmbeddingView<real_t<T>> em, const int64_t* tiles, const int64_t* sender_edges,
    const int* center, const int* neighbor, const int* species, const int* species_slot, int slots, const T* vec,
    const T* grad_density, T* hidden_z, T* grad_a, T* grad_Y) {
  using R = real_t<T>;
  const int ns = em.sh_size(), K = cv.K;
  const DensityLayout layout{slots, K};
  const int64_t batch_first = tiles[0], batch_edges = tiles[gridDim.x] - batch_first;
  density_chunks<T, EC>(
      cv, em, tiles, sender_edges, vec, center, neighbor, species, species_slot,
      [&](int64_t c0, int n) { return GlobalPre<T, R>{cv.hidden, hidden_z, c0 - batch_first, batch_edges, n}; },
      [&](int64_t c0, int n, const EdgeIndex& edges, const int* slot, const T* Y, const T* a) {
        dispatch_lmax(em.lmax, [&](auto lmax) {
          for (int e = warp_id(); e < n; e += THREADS / kWarpSize) {
            const int64_t p = c0 - batch_first + e;
            density_edge_backward<decltype(lmax)::value>(
                layout, slot[e], grad_density + static_cast<int64_t>(edges.centre[e]) * layout.row(ns), a + e * K,
                Y + ns * e, grad_a + p * K, grad_Y + p * ns);
          }
        });
      });
}

}  // namespace flashtp::cuda
