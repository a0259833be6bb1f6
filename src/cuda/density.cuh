// The first interaction layer as a species-resolved density (views.hpp,
// DensityView). Its input h_j = linear_1(embedding(species_j)) takes one value
// per species, so the message is linear in a density per atom i and
// neighbour species s (a slot: Pipeline numbers the species present):
//   D_i,s[j][k] = sum over edges e = (i, j') with species(j') = s of a_e[k] Y_e[j]
//   m_i[o]      = sum_s sum_k Wt_s[k][slot(o)] D_i,s[sh(o)][k]
// and so is its backward, with G_i,s = dL/dD_i,s:
//   G_i,s[j][k] = sum over o with sh(o) = j of Wt_s[k][slot(o)] dL/dm_i[o]
//   dL/da_e[k]  = sum_j G_i,s[j][k] Y_e[j],   dL/dY_e[j] += sum_k a_e[k] G_i,s[j][k].
// An edge costs K (lmax+1)^2 products each way instead of the K x slots of
// its per-edge weights and their gradient; an atom costs the contraction with
// Wt per species present. a_e is the radial MLP's last hidden activation, as
// in the fused kernels (convolution.cuh), whose geometry and hidden layers
// these share; dL/da_e and the hidden pre-activations leave for
// radial_backward as the fused backward's do. Sums have one writer and a
// fixed order: results are reproducible.
#pragma once
#include <cstdint>

#include "cuda/convolution.cuh"
#include "cuda/node_kernels.cuh"

namespace flashtp::cuda {

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

// The chunk's geometry and radial MLP (convolution.cuh), a[e][k] in rows, and
// the species slot of each edge's sender; ends with a barrier.
template <class T, class R, int EC, class Pre>
FLASHTP_DEVICE_ONLY void density_chunk(const ConvView<R>& cv, const EmbeddingView<R>& em, const DensityShared& L,
                                       T* sm, const EdgeIndex& edges, int* slot, const T* vec, const int* center,
                                       const int* neighbor, const int* species, const int* species_slot,
                                       int64_t first, const int64_t* order, int n, const Pre& pre) {
  chunk_geometry<T, R, EC>(em, vec, center, neighbor, first, order, n, order != nullptr, sm + L.emb, sm + L.Y, edges);
  for (int e = static_cast<int>(threadIdx.x); e < n; e += static_cast<int>(blockDim.x))
    slot[e] = species_slot[species[edges.sender[e]]];
  chunk_radial<T, R, EC>(cv, sm + L.emb, pre, sm + L.ping, sm + L.pong, RowsOut<T>{sm + L.a, cv.K});
}

// D of the atoms of the block's tile (edges by centre, in CSR order; D zeroed
// before), rows [atom][slot][j][k]: a thread per element (j, k), k fastest,
// a centre's edges of one species at a time.
template <class T, int EC, int THREADS>
FLASHTP_KERNEL FLASHTP_LAUNCH_BOUNDS(THREADS, 2) void density_forward(
    ConvView<real_t<T>> cv, EmbeddingView<real_t<T>> em, const int64_t* tiles, const int* center, const int* neighbor,
    const int* species, const int* species_slot, int slots, const T* vec, T* density) {
  using R = real_t<T>;
  const int ns = em.sh_size(), K = cv.K;
  const DensityShared L(EC, em.num_basis, ns, hidden_buffer_width(cv), K);
  T* sm = reinterpret_cast<T*>(shared_memory());
  const EdgeIndex edges = EdgeIndex::at<EC>(sm + L.total);
  int* slot = edges.count + 1;
  const T *Y = sm + L.Y, *a = sm + L.a;
  const int64_t begin = tiles[blockIdx.x], end = tiles[blockIdx.x + 1];
  for (int64_t c0 = begin; c0 < end; c0 += EC) {
    const int n = static_cast<int>(end - c0 < EC ? end - c0 : EC);
    density_chunk<T, R, EC>(cv, em, L, sm, edges, slot, vec, center, neighbor, species, species_slot, c0, nullptr, n,
                            NoPre{});
    for (int x = static_cast<int>(threadIdx.x); x < ns * K; x += THREADS) {
      const int j = x / K, k = x % K;
      for (int g = 0; g < *edges.count; ++g) {
        const int e0 = edges.segment[g], e1 = edges.segment[g + 1];
        T* d = density + static_cast<int64_t>(edges.centre[e0]) * slots * ns * K + x;
        for (int s = 0; s < slots; ++s) {
          T sum = T(0);
          for (int e = e0; e < e1; ++e) {
            const T v = a[e * K + k] * Y[ns * e + j];
            if (slot[e] == s) sum += v;
          }
          d[static_cast<int64_t>(s) * ns * K] += sum;
        }
      }
    }
    sync_block();
  }
}

// Atoms per block of the density's node kernels: each weight a thread loads
// serves them all.
constexpr int kDensityAtoms = 4;
constexpr int kMaxShDim = 2 * kMaxL + 1;

// The path of slot q (DensityView::paths), or null.
template <class R>
FLASHTP_DEVICE_ONLY const int* density_path_of_slot(const DensityView<R>& dv, int q) {
  for (int p = 0; p < dv.num_paths; ++p) {
    const int* path = dv.paths + p * kDensityPathFields;
    if (q >= path[kDensitySlot] && q < path[kDensitySlot] + path[kDensityMul]) return path;
  }
  return nullptr;
}

// The messages of atoms < atoms (zeroed before: elements of no path stay
// zero): a thread per slot (p, u) and its 2l + 1 elements, for kDensityAtoms
// atoms; blocks: atom tiles x chunks of kNodeThreads slots. The warp's lanes
// read one D row (broadcast) and consecutive columns of Wt.
template <class T, class R>
FLASHTP_KERNEL void density_message(DensityView<R> dv, const int* slot_species, int slots, const T* density, int atoms,
                                    T* message) {
  const int chunks = (dv.num_slots + kNodeThreads - 1) / kNodeThreads;
  const int a0 = static_cast<int>(blockIdx.x) / chunks * kDensityAtoms;
  const int q = static_cast<int>(blockIdx.x) % chunks * kNodeThreads + static_cast<int>(threadIdx.x);
  const int* path = q < dv.num_slots ? density_path_of_slot(dv, q) : nullptr;
  if (path == nullptr) return;
  const int K = dv.K, d = path[kDensityDim], row = slots * dv.sh_size * K;
  const int n = atoms - a0 < kDensityAtoms ? atoms - a0 : kDensityAtoms;
  T acc[kDensityAtoms][kMaxShDim];
  FLASHTP_UNROLL
  for (int a = 0; a < kDensityAtoms; ++a) {
    FLASHTP_UNROLL
    for (int m = 0; m < kMaxShDim; ++m) acc[a][m] = T(0);
  }
  for (int s = 0; s < slots; ++s) {
    const R* w = dv.weight + static_cast<int64_t>(slot_species[s]) * K * dv.num_slots + q;
    const T* D = density + static_cast<int64_t>(a0) * row + (s * dv.sh_size + path[kDensitySh]) * K;
    for (int k = 0; k < K; ++k) {
      const R wk = w[static_cast<int64_t>(k) * dv.num_slots];
      FLASHTP_UNROLL
      for (int a = 0; a < kDensityAtoms; ++a) {
        FLASHTP_UNROLL
        for (int m = 0; m < kMaxShDim; ++m)
          if (a < n && m < d) acc[a][m] += wk * D[static_cast<int64_t>(a) * row + m * K + k];
      }
    }
  }
  T* out = message + static_cast<int64_t>(a0) * dv.mid_dim + path[kDensityMessage] + (q - path[kDensitySlot]) * d;
  FLASHTP_UNROLL
  for (int a = 0; a < kDensityAtoms; ++a) {
    FLASHTP_UNROLL
    for (int m = 0; m < kMaxShDim; ++m)
      if (a < n && m < d) out[static_cast<int64_t>(a) * dv.mid_dim + m] = acc[a][m];
  }
}

// G of atoms < atoms from grad_message (rows of mid_dim), rows
// [atom][slot][j][k]: a thread per element (s, j, k), k fastest, over the
// channels of the paths with a harmonic j, for kDensityAtoms atoms; blocks:
// atom tiles x chunks of kNodeThreads elements. The lanes read consecutive
// rows of Wt^T and one dL/dm element (broadcast).
template <class T, class R>
FLASHTP_KERNEL void density_gradient(DensityView<R> dv, const int* slot_species, int slots, const T* grad_message,
                                     int atoms, T* grad_density) {
  const int K = dv.K, row = slots * dv.sh_size * K, chunks = (row + kNodeThreads - 1) / kNodeThreads;
  const int a0 = static_cast<int>(blockIdx.x) / chunks * kDensityAtoms;
  const int x = static_cast<int>(blockIdx.x) % chunks * kNodeThreads + static_cast<int>(threadIdx.x);
  if (x >= row) return;
  const int k = x % K, j = x / K % dv.sh_size, s = x / (K * dv.sh_size);
  const int n = atoms - a0 < kDensityAtoms ? atoms - a0 : kDensityAtoms;
  const R* w = dv.weight_t + static_cast<int64_t>(slot_species[s]) * dv.num_slots * K + k;
  const T* g = grad_message + static_cast<int64_t>(a0) * dv.mid_dim;
  T acc[kDensityAtoms];
  FLASHTP_UNROLL
  for (int a = 0; a < kDensityAtoms; ++a) acc[a] = T(0);
  for (int p = 0; p < dv.num_paths; ++p) {
    const int* path = dv.paths + p * kDensityPathFields;
    const int m = j - path[kDensitySh], d = path[kDensityDim];
    if (m < 0 || m >= d) continue;
    const R* wp = w + static_cast<int64_t>(path[kDensitySlot]) * K;
    const T* gp = g + path[kDensityMessage] + m;
    for (int u = 0; u < path[kDensityMul]; ++u) {
      const R wu = wp[static_cast<int64_t>(u) * K];
      FLASHTP_UNROLL
      for (int a = 0; a < kDensityAtoms; ++a)
        if (a < n) acc[a] += wu * gp[static_cast<int64_t>(a) * dv.mid_dim + u * d];
    }
  }
  FLASHTP_UNROLL
  for (int a = 0; a < kDensityAtoms; ++a)
    if (a < n) grad_density[static_cast<int64_t>(a0 + a) * row + x] = acc[a];
}

// The backward's edges of the block's tile (a batch's tiles of edges by
// sender, as convolution_backward's): dL/da and the hidden pre-activations at
// the edges' positions from 0 in the batch, dL/dY added there. A warp per
// edge, its lanes on k; dL/dY_e[j] summed over the lanes in a fixed order.
template <class T, int EC, int THREADS>
FLASHTP_KERNEL FLASHTP_LAUNCH_BOUNDS(THREADS, 2) void density_backward(
    ConvView<real_t<T>> cv, EmbeddingView<real_t<T>> em, const int64_t* tiles, const int64_t* sender_edges,
    const int* center, const int* neighbor, const int* species, const int* species_slot, int slots, const T* vec,
    const T* grad_density, T* hidden_z, T* grad_a, T* grad_Y) {
  using R = real_t<T>;
  const int ns = em.sh_size(), K = cv.K;
  const DensityShared L(EC, em.num_basis, ns, hidden_buffer_width(cv), K);
  T* sm = reinterpret_cast<T*>(shared_memory());
  const EdgeIndex edges = EdgeIndex::at<EC>(sm + L.total);
  int* slot = edges.count + 1;
  const T *Y = sm + L.Y, *a = sm + L.a;
  const int64_t begin = tiles[blockIdx.x], end = tiles[blockIdx.x + 1];
  const int64_t batch_first = tiles[0], batch_edges = tiles[gridDim.x] - batch_first;
  for (int64_t c0 = begin; c0 < end; c0 += EC) {
    const int n = static_cast<int>(end - c0 < EC ? end - c0 : EC);
    density_chunk<T, R, EC>(cv, em, L, sm, edges, slot, vec, center, neighbor, species, species_slot, c0,
                            sender_edges, n, GlobalPre<T, R>{cv.hidden, hidden_z, c0 - batch_first, batch_edges, n});
    for (int e = warp_id(); e < n; e += THREADS / kWarpSize) {
      const T* G = grad_density + (static_cast<int64_t>(edges.centre[e]) * slots + slot[e]) * ns * K;
      const T *ae = a + e * K, *Ye = Y + ns * e;
      const int64_t p = c0 - batch_first + e;
      for (int k = lane_id(); k < K; k += kWarpSize) {
        T sum = T(0);
        for (int j = 0; j < ns; ++j) sum += G[j * K + k] * Ye[j];
        grad_a[p * K + k] = sum;
      }
      for (int j = 0; j < ns; ++j) {
        T part = T(0);
        for (int k = lane_id(); k < K; k += kWarpSize) part += ae[k] * G[j * K + k];
        for (int mask = kWarpSize / 2; mask > 0; mask /= 2) part += shuffle_xor(part, mask);
        if (lane_id() == 0) grad_Y[p * ns + j] += part;
      }
    }
    sync_block();
  }
}

}  // namespace flashtp::cuda
