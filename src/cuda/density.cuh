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
// aT[k][e]; then the chunk's EdgeIndex and each edge's species slot.
struct DensityShared {
  int emb, Y, ping, pong, aT, total;
  FLASHTP_DEVICE DensityShared(int EC, int num_basis, int sh_size, int width, int K) {
    auto round = [](int n) { return (n + 7) / 8 * 8; };
    emb = 0;
    Y = emb + round(num_basis * EC);
    ping = Y + round(sh_size * EC);
    pong = ping + hidden_row(width) * EC;
    aT = pong + round(hidden_row(width) * EC);
    total = aT + round(K * EC);
  }
  template <class T>
  size_t bytes(int EC) const {
    return static_cast<size_t>(total) * sizeof(T) + static_cast<size_t>(EdgeIndex::ints(EC) + EC) * sizeof(int);
  }
};

// The chunk's geometry and radial MLP (convolution.cuh) and the species slot
// of each edge's sender; ends with a barrier.
template <class T, class R, int EC, class Pre>
FLASHTP_DEVICE_ONLY void density_chunk(const ConvView<R>& cv, const EmbeddingView<R>& em, const DensityShared& L,
                                       T* sm, const EdgeIndex& edges, int* slot, const T* vec, const int* center,
                                       const int* neighbor, const int* species, const int* species_slot,
                                       int64_t first, const int64_t* order, int n, const Pre& pre) {
  chunk_geometry<T, R, EC>(em, vec, center, neighbor, first, order, n, order != nullptr, sm + L.emb, sm + L.Y, edges);
  for (int e = static_cast<int>(threadIdx.x); e < n; e += static_cast<int>(blockDim.x))
    slot[e] = species_slot[species[edges.sender[e]]];
  chunk_radial<T, R, EC>(cv, sm + L.emb, pre, sm + L.ping, sm + L.pong, sm + L.aT, false);
}

// D of the atoms of the block's tile (edges by centre, in CSR order; D zeroed
// before): rows [atom][slot][j][k].
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
  const T *Y = sm + L.Y, *aT = sm + L.aT;
  const int64_t begin = tiles[blockIdx.x], end = tiles[blockIdx.x + 1];
  for (int64_t c0 = begin; c0 < end; c0 += EC) {
    const int n = static_cast<int>(end - c0 < EC ? end - c0 : EC);
    density_chunk<T, R, EC>(cv, em, L, sm, edges, slot, vec, center, neighbor, species, species_slot, c0, nullptr, n,
                            NoPre{});
    // element x = (j, k) of each centre's D, a species at a time
    for (int x = static_cast<int>(threadIdx.x); x < ns * K; x += THREADS) {
      const int j = x / K, k = x % K;
      for (int g = 0; g < *edges.count; ++g) {
        const int e0 = edges.segment[g], e1 = edges.segment[g + 1];
        T* d = density + static_cast<int64_t>(edges.centre[e0]) * slots * ns * K + x;
        for (int s = 0; s < slots; ++s) {
          T sum = T(0);
          for (int e = e0; e < e1; ++e)
            if (slot[e] == s) sum += aT[k * EC + e] * Y[ns * e + j];
          d[static_cast<int64_t>(s) * ns * K] += sum;
        }
      }
    }
    sync_block();
  }
}

// Atoms per block of the density's node kernels: each weight is loaded once
// for them all.
constexpr int kDensityAtoms = 8;

// message[a][o] = m_a[o] for atoms a < atoms; blocks: tiles of kDensityAtoms
// atoms x chunks of kNodeThreads message elements.
template <class T, class R>
FLASHTP_KERNEL void density_message(DensityView<R> dv, const int* slot_species, int slots, const T* density, int atoms,
                                    T* message) {
  const int chunks = (dv.mid_dim + kNodeThreads - 1) / kNodeThreads;
  const int a0 = static_cast<int>(blockIdx.x) / chunks * kDensityAtoms;
  const int o = static_cast<int>(blockIdx.x) % chunks * kNodeThreads + static_cast<int>(threadIdx.x);
  if (o >= dv.mid_dim) return;
  const int q = dv.message_slot[o], row = slots * dv.sh_size * dv.K;
  const int n = atoms - a0 < kDensityAtoms ? atoms - a0 : kDensityAtoms;
  T acc[kDensityAtoms];
  FLASHTP_UNROLL
  for (int a = 0; a < kDensityAtoms; ++a) acc[a] = T(0);
  for (int s = 0; q >= 0 && s < slots; ++s) {
    const R* w = dv.weight + static_cast<int64_t>(slot_species[s]) * dv.K * dv.num_slots + q;
    const T* d = density + static_cast<int64_t>(a0) * row + (s * dv.sh_size + dv.message_sh[o]) * dv.K;
    for (int k = 0; k < dv.K; ++k) {
      const R wk = w[static_cast<int64_t>(k) * dv.num_slots];
      FLASHTP_UNROLL
      for (int a = 0; a < kDensityAtoms; ++a)
        if (a < n) acc[a] += wk * d[static_cast<int64_t>(a) * row + k];
    }
  }
  FLASHTP_UNROLL
  for (int a = 0; a < kDensityAtoms; ++a)
    if (a < n) message[static_cast<int64_t>(a0 + a) * dv.mid_dim + o] = acc[a];
}

// G of atoms < atoms from grad_message (rows of mid_dim), rows
// [atom][slot][j][k]; blocks: tiles of kDensityAtoms atoms x chunks of
// kNodeThreads elements (slot, j, k).
template <class T, class R>
FLASHTP_KERNEL void density_gradient(DensityView<R> dv, const int* slot_species, int slots, const T* grad_message,
                                     int atoms, T* grad_density) {
  const int row = slots * dv.sh_size * dv.K, chunks = (row + kNodeThreads - 1) / kNodeThreads;
  const int a0 = static_cast<int>(blockIdx.x) / chunks * kDensityAtoms;
  const int x = static_cast<int>(blockIdx.x) % chunks * kNodeThreads + static_cast<int>(threadIdx.x);
  if (x >= row) return;
  const int k = x % dv.K, j = x / dv.K % dv.sh_size, s = x / (dv.K * dv.sh_size);
  const int n = atoms - a0 < kDensityAtoms ? atoms - a0 : kDensityAtoms;
  const R* w = dv.weight_t + static_cast<int64_t>(slot_species[s]) * dv.num_slots * dv.K + k;
  const T* g = grad_message + static_cast<int64_t>(a0) * dv.mid_dim;
  T acc[kDensityAtoms];
  FLASHTP_UNROLL
  for (int a = 0; a < kDensityAtoms; ++a) acc[a] = T(0);
  for (int t = dv.sh_start[j]; t < dv.sh_start[j + 1]; ++t) {
    const R wq = w[static_cast<int64_t>(dv.sh_terms[2 * t]) * dv.K];
    const int o = dv.sh_terms[2 * t + 1];
    FLASHTP_UNROLL
    for (int a = 0; a < kDensityAtoms; ++a)
      if (a < n) acc[a] += wq * g[static_cast<int64_t>(a) * dv.mid_dim + o];
  }
  FLASHTP_UNROLL
  for (int a = 0; a < kDensityAtoms; ++a)
    if (a < n) grad_density[static_cast<int64_t>(a0 + a) * row + x] = acc[a];
}

// The backward's edges of the block's tile (a batch's tiles of edges by
// sender, as convolution_backward's): dL/da and the hidden pre-activations at
// the edges' positions from 0 in the batch, dL/dY added there.
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
  const T *Y = sm + L.Y, *aT = sm + L.aT;
  const int64_t begin = tiles[blockIdx.x], end = tiles[blockIdx.x + 1];
  const int64_t batch_first = tiles[0], batch_edges = tiles[gridDim.x] - batch_first;
  for (int64_t c0 = begin; c0 < end; c0 += EC) {
    const int n = static_cast<int>(end - c0 < EC ? end - c0 : EC);
    density_chunk<T, R, EC>(cv, em, L, sm, edges, slot, vec, center, neighbor, species, species_slot, c0,
                            sender_edges, n, GlobalPre<T, R>{cv.hidden, hidden_z, c0 - batch_first, batch_edges, n});
    auto G = [&](int e) {  // G_i,s of edge e, rows j of K
      return grad_density + (static_cast<int64_t>(edges.centre[e]) * slots + slot[e]) * ns * K;
    };
    for (int idx = static_cast<int>(threadIdx.x); idx < n * K; idx += THREADS) {
      const int e = idx / K, k = idx % K;
      const T* g = G(e) + k;
      T sum = T(0);
      for (int j = 0; j < ns; ++j) sum += g[j * K] * Y[ns * e + j];
      grad_a[(c0 - batch_first) * K + idx] = sum;
    }
    for (int idx = static_cast<int>(threadIdx.x); idx < n * ns; idx += THREADS) {
      const int e = idx / ns, j = idx % ns;
      const T* g = G(e) + j * K;
      T sum = T(0);
      for (int k = 0; k < K; ++k) sum += aT[k * EC + e] * g[k];
      grad_Y[(c0 - batch_first) * ns + idx] += sum;
    }
    sync_block();
  }
}

}  // namespace flashtp::cuda
