// The fused convolution of one interaction layer, forward and backward.
//
// Forward (one block per tile of centre atoms, edges in CSR order):
//   per chunk of EC edges:  geometry (r, u, Bessel x envelope, Y) -> radial
//   MLP hidden layers -> for each task (a path's 32 slots s = (path, u)), one
//   per warp:
//     w[e][s] = sum_k a[e][k] W[k][s]       (the MLP's last layer: the warp's
//                                            32 slots x EC edges as one GEMM)
//     m_i[s] += w[e][s] TP_path(h_j[u], Y_e) (sparse Clebsch-Gordan, registers)
//   A lane takes U channels of the task and every U-th edge of each run of
//   edges with one centre ("segment"), so that the coupling matrix
//   M(Y_e) = sum_j C[.][j][.] Y_e[j] and the per-edge bookkeeping are shared
//   by U channels; at the end of a segment the U edge groups are summed over
//   lanes in a fixed order. Per-edge weights and messages never leave the
//   block; each message entry has one writer.
//
// Backward (one block per tile of sender atoms, edges grouped by sender):
//   the same per-edge recomputation, then per share of a task (views.hpp:
//   8 lanes x U channels, 4 edge groups, so a coupling dear in registers,
//   U < 4, spreads over 4 / U warps), in passes of one share a warp, per slot
//     dL/dh_j[u] += w[e] (M^T g_i[u]),  dL/dw[e] = h_j[u] . M^T g_i[u],
//     dL/dY_e    += sum_ik C[i][.][k] P[i][k],  P = sum_u w[e] h_j[u] g_i[u]^T
//                   (P kept per distinct product of M: coupling_generated.hpp;
//                   summed over a lane's channels, then over the lanes of
//                   the edge's group, then over warps in a fixed order),
//   dL/da[e][k] = sum_s dL/dw[e][s] W[k][s] (a block GEMM over staged dL/dw,
//                 after each pass of one share a warp),
//   float's two weight GEMMs on the tensor cores (tensor_cores.cuh) when K is
//   a multiple of 16, the others as per-thread FMA loops. dL/da and the
//   hidden layers' pre-activations leave by the edge's position in this
//   order, and dL/dY adds there, for edge_kernels.cuh, which takes them back
//   through the hidden layers and the geometry to dL/dr_e. Every sum has one
//   writer and a fixed order: no atomics, results reproducible. Two blocks
//   per SM (at most 128 registers a thread): dL/da accumulates in shared
//   memory.
#pragma once
#include <cstdint>
#include <type_traits>

#include "cuda/team_mlp.cuh"
#include "cuda/coupling_generated.hpp"
#include "cuda/edge_geometry.cuh"
#include "cuda/tensor_cores.cuh"

namespace flashtp::cuda {

// The chunk's edges in shared memory: edge id, centre atom i, sender atom j,
// and its segments, the runs of edges with one centre (forward) or one sender
// (backward): segment s is edges [segment[s], segment[s + 1]), s < *count.
struct EdgeIndex {
  int *id, *centre, *sender, *segment, *count;
  FLASHTP_DEVICE static constexpr int ints(int EC) { return 4 * EC + 2; }
  template <int EC>
  FLASHTP_DEVICE static EdgeIndex at(void* p) {
    int* a = static_cast<int*>(p);
    return {a, a + EC, a + 2 * EC, a + 3 * EC, a + 4 * EC + 1};
  }
};

// The forward's tasks of a chunk, handed to the warps as they come free, in
// task order: each warp starts with task warp_id(), then takes the next one
// left (`next`, a counter; `taken`, each warp's claim read by its lanes).
// Which warp computes a task changes none of the task's sums, so the results
// do not depend on the timing.
struct TaskQueue {
  int *next, *taken;
  FLASHTP_DEVICE static constexpr int ints(int warps) { return 1 + warps; }
  FLASHTP_DEVICE static TaskQueue at(int* p) { return {p, p + 1}; }
  // Before the chunk's first task, ahead of a block barrier.
  FLASHTP_DEVICE_ONLY void reset(int warps) const {
    if (threadIdx.x == 0) *next = warps;
  }
  // The warp's next task (every lane calls it).
  FLASHTP_DEVICE_ONLY int take() const {
    if (lane_id() == 0) taken[warp_id()] = fetch_add(next, 1);
    sync_warp();
    const int t = taken[warp_id()];
    sync_warp();
    return t;
  }
};

// Shared memory of the fused kernels, in elements of T (then the chunk's
// EdgeIndex arrays and, in the forward, its TaskQueue), each array 32-byte
// aligned for vector loads. The last hidden activations a[e][k] are aT[k][e],
// or PackedA (heads and tails) for the tensor cores.
struct ConvShared {
  int emb, Y, ping, pong, aT, wt, gY, total;
  int ints;  // after the T: EdgeIndex's, and the forward's TaskQueue
  int row;  // stride of an edge's row of per-slot weights wt[e][slot] (padded against bank conflicts)
  FLASHTP_DEVICE ConvShared(int EC, int threads, int num_basis, int sh_size, int width, int K, bool backward,
                            bool tensor_cores) {
    int at = 0;
    auto take = [&at](int n) {
      const int start = at;
      at += (n + 7) / 8 * 8;
      return start;
    };
    row = threads + 4;
    emb = take(num_basis * EC);
    Y = take(sh_size * EC);
    // the forward's per-slot weights take the hidden layers' buffers, dead
    // once aT holds the last activations; the backward's dL/da lives in ping
    const int hidden = 2 * hidden_row(width) * EC;
    ping = take(backward || hidden >= EC * row ? hidden : EC * row);
    pong = ping + hidden_row(width) * EC;
    aT = take((tensor_cores ? 2 : 1) * K * EC);
    wt = backward ? take(EC * row) : ping;
    gY = take(backward ? threads / kWarpSize * sh_size * EC : 0);
    total = at;
    ints = EdgeIndex::ints(EC) + (backward ? 0 : TaskQueue::ints(threads / kWarpSize));
  }
  template <class T>
  size_t bytes() const {
    return static_cast<size_t>(total) * sizeof(T) + static_cast<size_t>(ints) * sizeof(int);
  }
};

// Width of the hidden-layer buffers: every hidden layer, and the last one's
// gradient (K), fit.
template <class R>
FLASHTP_DEVICE int hidden_buffer_width(const ConvView<R>& cv) {
  return cv.hidden.max_hidden > cv.K ? cv.hidden.max_hidden : cv.K;
}

// Atoms, radial embedding and harmonics of the chunk's edges e < n: edge
// first + e, or order[first + e] when an order is given; segments by centre,
// or by sender when by_sender. Rows past n get a zero embedding.
template <class T, class R, int EC>
FLASHTP_DEVICE_ONLY void chunk_geometry(const EmbeddingView<R>& em, const T* vec, const int* center,
                                        const int* neighbor, int64_t first, const int64_t* order, int n, bool by_sender,
                                        T* emb, T* Y, EdgeIndex edges) {
  static_assert(EC % kWarpSize == 0 || EC < kWarpSize, "warp 0 finds the chunk's segments, an edge a lane at a time");
  const int nb = em.num_basis, ns = em.sh_size();
  for (int e = threadIdx.x; e < EC; e += blockDim.x) {
    if (e < n) {
      const int64_t edge = order ? order[first + e] : first + e;
      edges.id[e] = static_cast<int>(edge);
      edges.centre[e] = center[edge];
      edges.sender[e] = neighbor[edge];
      T geo[4];
      edge_forward(em, vec + 3 * edge, geo, emb + nb * e, Y + ns * e);
    } else {
      for (int b = 0; b < nb; ++b) emb[nb * e + b] = T(0);
    }
  }
  // thread e wrote edge e: warp 0 wrote them all, or the block did
  if constexpr (EC > kWarpSize) sync_block();
  if (warp_id() == 0) {  // edges e = lane, lane + 32, ...
    sync_warp();
    const int* key = by_sender ? edges.sender : edges.centre;
    int count = 0;
    for (int e0 = 0; e0 < EC; e0 += kWarpSize) {
      const int e = e0 + lane_id();
      const bool starts = e < n && (e == 0 || key[e] != key[e - 1]);
      const unsigned mask = ballot(starts);
      if (starts) edges.segment[count + popcount(mask & ((1u << lane_id()) - 1u))] = e;
      count += popcount(mask);
    }
    if (lane_id() == 0) {
      edges.segment[count] = n;
      *edges.count = count;
    }
  }
  sync_block();
}

// The weight GEMMs run on the tensor cores: float, and the weights packed for
// them (the host packs them when K is a multiple of 16).
template <class T, class R>
FLASHTP_DEVICE bool tensor_core_gemms(const ConvView<R>& cv) {
  return std::is_same_v<T, float> && cv.last_packed_split != nullptr;
}

// The radial MLP's hidden layers on the chunk (their pre-activations to pre:
// team_mlp.cuh); the last activation a[e][k] goes to store(e, k, a). Ends
// with a barrier.
template <class T, class R, int EC, class Pre, class Store>
FLASHTP_DEVICE_ONLY void chunk_radial(const ConvView<R>& cv, const T* emb, const Pre& pre, T* ping, T* pong,
                                      const Store& store) {
  const int K = cv.K;
  if (cv.hidden.depth > 0) {
    team_mlp_forward(BlockTeam{}, cv.hidden, true, EC, emb, pre, ping, pong, store);
    return;
  }
  for (int idx = threadIdx.x; idx < EC * K; idx += blockDim.x) store(idx / K, idx % K, emb[idx]);
  sync_block();
}

// Where the fused kernels keep a[e][k]: packed for the tensor cores
// (tensor_core_gemms), or transposed (aT[k][e]).
template <class T, class R, int EC>
struct WeightOperand {
  const ConvView<R>& cv;
  T* aT;
  FLASHTP_DEVICE void operator()(int e, int k, T a) const {
    if constexpr (std::is_same_v<T, float>) {
      if (tensor_core_gemms<T>(cv)) {
        PackedA::store(a, e, k, cv.K, aT);
        return;
      }
    }
    aT[k * EC + e] = a;
  }
};

// N values from p to out, or back, U at a time where U values make one
// aligned load of at most 16 bytes (p is aligned for U values).
template <int U, class T>
FLASHTP_DEVICE constexpr int pack_width() {
  return U * sizeof(T) <= 16 ? U : (U / 2 * sizeof(T) <= 16 && U >= 2 ? U / 2 : 1);
}
template <int U, int N, class T>
FLASHTP_DEVICE_ONLY void load_channels(const T* p, T (&out)[N]) {
  constexpr int V = pack_width<U, T>();
  FLASHTP_UNROLL
  for (int i = 0; i < N / V; ++i) {
    const Pack<T, V> q = reinterpret_cast<const Pack<T, V>*>(p)[i];
    FLASHTP_UNROLL
    for (int k = 0; k < V; ++k) out[i * V + k] = q.v[k];
  }
}
template <int U, int N, class T>
FLASHTP_DEVICE_ONLY void store_channels(const T (&in)[N], T* p) {
  constexpr int V = pack_width<U, T>();
  FLASHTP_UNROLL
  for (int i = 0; i < N / V; ++i) {
    Pack<T, V> q;
    FLASHTP_UNROLL
    for (int k = 0; k < V; ++k) q.v[k] = in[i * V + k];
    reinterpret_cast<Pack<T, V>*>(p)[i] = q;
  }
}
template <int N, class T>
FLASHTP_DEVICE_ONLY void fill_zero(T (&a)[N]) {
  FLASHTP_UNROLL
  for (int i = 0; i < N; ++i) a[i] = T(0);
}

// A lane's numbers in the rows of a node array: atom a's at
// base + a width + column. The offset is 32-bit, so an address is a
// multiply-add and a wide multiply-add (a 64-bit product took 7 instructions;
// the pipeline refuses node arrays of 2^32 numbers or more).
template <class T>
struct NodeColumns {
  T* base;
  int width;
  int column;
  FLASHTP_DEVICE T* row(int atom) const {
    return base + (static_cast<unsigned>(atom) * static_cast<unsigned>(width) + static_cast<unsigned>(column));
  }
};

// Channels per lane of coupling C (views.hpp), for scalars T.
template <class T, class C, bool backward>
FLASHTP_DEVICE constexpr int lane_channels() {
  return lane_channels(static_cast<int>(sizeof(T) / 4), CouplingShape{C::d1, C::d3, C::nnz}, backward);
}

// A lane's part of a share of 32 / G lanes x U channels, from channel
// `share_first` of the task: U channels from `first`, in the share's wt
// columns from `column`, and edge group `group` of G, which takes every G-th
// edge of each segment: edges segment[s] + group + G r. The forward takes
// whole tasks (G = U), the backward the shares of views.hpp (G = kEdgeGroups).
template <int U, int G>
struct LaneShare {
  static constexpr int lanes = kWarpSize / G;  // per group
  int group, first, column;
  bool active;  // first < the task's channels; padding lanes have zero weights
  FLASHTP_DEVICE_ONLY LaneShare(int share_first, int channels)
      : group(lane_id() / lanes),
        first(share_first + lane_id() % lanes * U),
        column(lane_id() % lanes * U),
        active(first < channels) {}
  FLASHTP_DEVICE_ONLY int channel() const { return active ? first : 0; }  // padding lanes shadow channel 0
};

// One task of the forward pass over the chunk: m_i += sum_e w_e TP(h_j, Y_e),
// the task's per-edge weights in wt's columns from 0.
template <class T, class C, int U>
FLASHTP_DEVICE_ONLY void forward_task(const int* task, const EdgeIndex& edges, const T* Y, int ns, const T* wt, int ld,
                                      const T* h, int x_dim, T* message, int mid_dim) {
  const LaneShare<U, U> lane(0, task[kTaskChannels]);
  const NodeColumns<const T> hx{h, x_dim, task[kTaskX] + lane.channel() * C::d1};  // the lane's channels of h_j
  const T* w_e = wt + lane.column;  // + e ld (padding: zero weights)
  const NodeColumns<T> out{message, mid_dim, task[kTaskMessage] + lane.channel() * C::d3};
  for (int s = 0; s < *edges.count; ++s) {
    const int end = edges.segment[s + 1];
    T acc[U * C::d3];
    fill_zero(acc);
    for (int e = edges.segment[s] + lane.group; e < end; e += U) {
      T x[U * C::d1], M[C::products], w[U];
      load_channels<U>(hx.row(edges.sender[e]), x);
      C::matrix(Y + ns * e, M);
      load_channels<U>(w_e + e * ld, w);
      FLASHTP_UNROLL
      for (int u = 0; u < U; ++u) C::forward(x + u * C::d1, M, w[u], acc + u * C::d3);
    }
    lanes_sum_add<U * C::d3, U, LaneShare<U, U>::lanes>(
        acc, out.row(edges.centre[edges.segment[s]]), lane.active);
  }
}

// One share of a task in the backward pass over the chunk (segments by
// sender j): with g = dL/dm_i, adds dL/dh_j to partial (unless it is null:
// the first layer's h_j are constants), dL/dY_e (this warp's part) to gY,
// and replaces w[e][s] in wt's columns from 0 by dL/dw[e][s]. The edges of
// a segment are taken in rounds, one edge per group, so that the whole warp
// meets in the dL/dY sums.
template <class T, class C, int U, int EC>
FLASHTP_DEVICE_ONLY void backward_task(const int* task, const int* share, const EdgeIndex& edges, const T* Y, int ns,
                                       T* wt, int ld, const T* h, int x_dim, const T* grad_message, int mid_dim,
                                       T* partial, int partial_dim, T* gY) {
  const LaneShare<U, kEdgeGroups> lane(share[kShareFirst], task[kTaskChannels]);
  const NodeColumns<const T> hx{h, x_dim, task[kTaskX] + lane.channel() * C::d1};
  const NodeColumns<const T> gm{grad_message, mid_dim, task[kTaskMessage] + lane.channel() * C::d3};
  const NodeColumns<T> gh{partial, partial_dim, task[kTaskPartial] + lane.channel() * C::d1};
  T* w_e = wt + lane.column;  // + e ld (padding: zero weights)
  for (int s = 0; s < *edges.count; ++s) {
    const int end = edges.segment[s + 1];
    const int j = edges.sender[edges.segment[s]];
    // dL/dh_j's row is added to after the segment, with nothing left to hide
    // its load behind: ask for it now
    if (partial) prefetch(gh.row(j));
    T x[U * C::d1], gx[U * C::d1];
    load_channels<U>(hx.row(j), x);
    fill_zero(gx);
    for (int base = edges.segment[s]; base < end; base += kEdgeGroups) {
      const int e = base + lane.group;
      const bool mine = e < end;
      T P[C::products];
      fill_zero(P);
      if (mine) {
        T g[U * C::d3], M[C::products], w[U];
        load_channels<U>(gm.row(edges.centre[e]), g);
        C::matrix(Y + ns * e, M);
        load_channels<U>(w_e + e * ld, w);
        FLASHTP_UNROLL
        for (int u = 0; u < U; ++u) {
          const T gw = C::backward(x + u * C::d1, M, w[u], g + u * C::d3, gx + u * C::d1, P);
          w[u] = lane.active ? gw : T(0);
        }
        store_channels<U>(w, w_e + e * ld);
      }
      // Y_0 is the constant 1: its gradient reaches no force
      if constexpr (C::sh_offset > 0) {
        T gy[C::sh_dim];
        fill_zero(gy);
        C::sh_gradient(P, gy);
        lanes_sum_add<C::sh_dim, kShareLanes, 1>(gy, gY + (warp_id() * EC + (mine ? e : 0)) * ns + C::sh_offset, mine);
      }
    }
    if (partial) lanes_sum_add<U * C::d1, kEdgeGroups, kShareLanes>(gx, gh.row(j), lane.active);
  }
}

// Calls f(C{}, Channels<U>{}) with the coupling of the task and its lane
// channels U (task_lane_channels, as the host plans the shares).
template <int U>
struct Channels {
  static constexpr int value = U;
};
template <class T, bool backward, class F>
FLASHTP_DEVICE_ONLY void dispatch_task(const int* task, F&& f) {
  dispatch_coupling(task[kTaskCoupling], [&](auto coupling) {
    using C = decltype(coupling);
    constexpr int U = lane_channels<T, C, backward>();
    if constexpr (U > 1) {
      if (task_lane_channels(U, task[kTaskLaneChannels]) == U) return f(coupling, Channels<U>{});
    }
    f(coupling, Channels<1>{});
  });
}

// The share's first slot.
FLASHTP_DEVICE_ONLY int share_slot(const int* share) { return share[kShareTask] * kTaskSlots + share[kShareFirst]; }

// wt[e][c] = sum_k aT[k][e] W[k][slot0 + c], c < 8 NT: a share's per-edge
// weights, NT tiles of 8 slots, from slot0. Starts and ends with a warp
// barrier (the tensor cores write the columns of the warp's other lanes).
// W comes split (no splitting in the kernels); the forward loads it a k-step
// ahead (it has the registers: 4 NT more), the backward, at its register
// limit, when it is used.
template <class T, class R, int EC, bool forward, int NT>
FLASHTP_DEVICE_ONLY void warp_slot_weights(const ConvView<R>& cv, const T* aT, int slot0, T* wt, int ld) {
  sync_warp();
  if constexpr (std::is_same_v<T, float>) {
    if (tensor_core_gemms<T>(cv)) {
      static_assert(EC % kMmaRows == 0, "tensor-core tiles are 16 edges");
      Accumulators<EC / kMmaRows, NT> w;
      zero_accumulators(w);
      const int steps = cv.K / kMmaDepth, tile0 = slot0 / kMmaCols;
      warp_mma<forward>(steps, PackedA{aT, cv.K}, PackedB{cv.last_packed_split, cv.K, 0, tile0}, w);
      store_c(w, wt, ld);
      sync_warp();
      return;
    }
  }
  // lane: column c and every G-th edge from g
  constexpr int G = kWarpSize / (kMmaCols * NT);
  const int c = lane_id() % (kMmaCols * NT), g = lane_id() / (kMmaCols * NT);
  T w[EC / G];
  FLASHTP_UNROLL
  for (int r = 0; r < EC / G; ++r) w[r] = T(0);
  for (int k = 0; k < cv.K; ++k) {
    const R wk = cv.last[static_cast<size_t>(k) * cv.num_slots + slot0 + c];
    const T* a = aT + k * EC + g;
    FLASHTP_UNROLL
    for (int r = 0; r < EC / G; ++r) w[r] += a[G * r] * wk;
  }
  FLASHTP_UNROLL
  for (int r = 0; r < EC / G; ++r) wt[(g + G * r) * ld + c] = w[r];
  sync_warp();
}
// The backward's per-edge weights of a share.
template <class T, class R, int EC>
FLASHTP_DEVICE_ONLY void share_weights(const ConvView<R>& cv, const T* aT, const int* share, T* wt, int ld) {
  static_assert(kShareLanes == kMmaCols, "a share of U channels a lane has U tiles of slots");
  const int slot0 = share_slot(share);
  switch (share[kShareWidth] / kMmaCols) {
    case 4: return warp_slot_weights<T, R, EC, false, 4>(cv, aT, slot0, wt, ld);
    case 2: return warp_slot_weights<T, R, EC, false, 2>(cv, aT, slot0, wt, ld);
    default: return warp_slot_weights<T, R, EC, false, 1>(cv, aT, slot0, wt, ld);
  }
}

// out (16 MT rows x 8 NT, row stride ld) = A B over `steps` k-steps, added
// to what out holds when accumulate: one warp's block of dL/da.
template <int MT, int NT, class SourceB>
FLASHTP_DEVICE_ONLY void tile_gradient(bool accumulate, int steps, const RowMajorA& A, const SourceB& B, float* out,
                                       int ld) {
  Accumulators<MT, NT> g;
  if (accumulate) {
    load_c(out, ld, g);
  } else {
    zero_accumulators(g);
  }
  warp_mma<false>(steps, A, B, g);
  store_c(g, out, ld);
}

// grad_a[e][k] += sum_c gw[e][c] W[k][q0 + c] over the pass's slots
// (c < slots_here), gw = wt holding dL/dw. Between block barriers; `scratch`
// (EC x K) is free.
template <class T, class R, int EC, int THREADS>
FLASHTP_DEVICE_ONLY void weight_gradient_to_hidden(const ConvView<R>& cv, const T* wt, int ld, int q0, int slots_here,
                                                   T* grad_a, T* scratch) {
  const int K = cv.K, tid = static_cast<int>(threadIdx.x);
  if constexpr (std::is_same_v<T, float>) {
    if (tensor_core_gemms<T>(cv)) {
      // A warp takes every 16-edge tile of rows and 2 tiles of 8 columns k
      // (so each number of W^T is read once a chunk: W and W^T, read from
      // L2 again for every chunk, are most of the kernel's traffic), over
      // the whole pass or, when there are warps enough, over one half of its
      // slots: then the first half's warps add their sums to grad_a, the
      // second half's leave theirs in scratch, and after a barrier the block
      // adds those (a fixed order). dL/dw is split into TF32 heads and tails
      // as it is read, by K / 16 warps; W^T comes split.
      constexpr int MT = EC / kMmaRows, WARPS = THREADS / kWarpSize, NT = 2;
      const int jobs = K / (kMmaCols * NT), halves = WARPS >= 2 * jobs ? 2 : 1, steps = slots_here / kMmaDepth;
      for (int t = warp_id(); t < halves * jobs; t += WARPS) {
        const int group = t % jobs, half = t / jobs;
        const int s0 = half * steps / halves, s1 = (half + 1) * steps / halves;
        T* out = (half == 0 ? grad_a : scratch) + kMmaCols * NT * group;
        const PackedB B{cv.last_transpose_packed_split, cv.num_slots, q0 / kMmaDepth + s0, NT * group};
        tile_gradient<MT, NT>(half == 0, s1 - s0, RowMajorA{wt + kMmaDepth * s0, ld}, B, out, K);
      }
      if (halves == 2) {
        sync_block();
        for (int idx = tid; idx < EC * K; idx += THREADS) grad_a[idx] += scratch[idx];
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
FLASHTP_KERNEL FLASHTP_LAUNCH_BOUNDS(THREADS, 2) void convolution_forward(
    ConvView<real_t<T>> cv, EmbeddingView<real_t<T>> em, const int64_t* tiles, const int* center, const int* neighbor,
    const T* vec, const T* h, T* message) {
  using R = real_t<T>;
  const int ns = em.sh_size(), width = hidden_buffer_width(cv);
  const ConvShared L(EC, THREADS, em.num_basis, ns, width, cv.K, false, tensor_core_gemms<T>(cv));
  T* sm = reinterpret_cast<T*>(shared_memory());
  const EdgeIndex edges = EdgeIndex::at<EC>(sm + L.total);
  const TaskQueue queue = TaskQueue::at(reinterpret_cast<int*>(sm + L.total) + EdgeIndex::ints(EC));
  const int64_t begin = tiles[blockIdx.x], end = tiles[blockIdx.x + 1];
  constexpr int WARPS = THREADS / kWarpSize;

  for (int64_t c0 = begin; c0 < end; c0 += EC) {
    const int n = static_cast<int>(end - c0 < EC ? end - c0 : EC);
    queue.reset(WARPS);
    chunk_geometry<T, R, EC>(em, vec, center, neighbor, c0, nullptr, n, false, sm + L.emb, sm + L.Y, edges);
    chunk_radial<T, R, EC>(cv, sm + L.emb, NoPre{}, sm + L.ping, sm + L.pong, WeightOperand<T, R, EC>{cv, sm + L.aT});

    // a warp's tasks from the queue, their weights in its own 32 columns of
    // wt, computed NT tiles of 8 slots at a time (at most 8 tiles of C a lane)
    constexpr int MT = EC < kMmaRows ? 1 : EC / kMmaRows, NT = 8 / MT < 4 ? 8 / MT : 4;
    static_assert(kTaskSlots == 4 * kMmaCols, "a task is 4 tiles of 8 slots");
    T* wt = sm + L.wt + warp_id() * kTaskSlots;
    for (int t = warp_id(); t < cv.num_slots / kTaskSlots; t = queue.take()) {
      const int* task = cv.tasks + t * kTaskFields;
      for (int c = 0; c < kTaskSlots; c += kMmaCols * NT)
        warp_slot_weights<T, R, EC, true, NT>(cv, sm + L.aT, t * kTaskSlots + c, wt + c, L.row);
      dispatch_task<T, false>(task, [&](auto coupling, auto U) {
        forward_task<T, decltype(coupling), decltype(U)::value>(task, edges, sm + L.Y, ns, wt, L.row, h, cv.x_dim,
                                                                message, cv.mid_dim);
      });
    }
    sync_block();
  }
}

template <class T, int EC, int THREADS>
FLASHTP_KERNEL FLASHTP_LAUNCH_BOUNDS(THREADS, 2) void convolution_backward(
    ConvView<real_t<T>> cv, EmbeddingView<real_t<T>> em, const int64_t* tiles, const int64_t* sender_edges,
    const int* center, const int* neighbor, const T* vec, const T* h, const T* grad_message, T* partial,
    T* hidden_z, T* grad_a, T* grad_Y) {
  using R = real_t<T>;
  const int nb = em.num_basis, ns = em.sh_size(), width = hidden_buffer_width(cv), K = cv.K;
  const ConvShared L(EC, THREADS, nb, ns, width, K, true, tensor_core_gemms<T>(cv));
  T* sm = reinterpret_cast<T*>(shared_memory());
  T *emb = sm + L.emb, *Y = sm + L.Y, *ping = sm + L.ping, *pong = sm + L.pong;
  T *aT = sm + L.aT, *wt = sm + L.wt, *gY = sm + L.gY;
  const EdgeIndex edges = EdgeIndex::at<EC>(sm + L.total);
  const int tid = static_cast<int>(threadIdx.x);
  const int64_t begin = tiles[blockIdx.x], end = tiles[blockIdx.x + 1];
  // the launch's tiles are a batch: its per-edge outputs from 0
  const int64_t batch_first = tiles[0], batch_edges = tiles[gridDim.x] - batch_first;

  for (int64_t c0 = begin; c0 < end; c0 += EC) {
    const int n = static_cast<int>(end - c0 < EC ? end - c0 : EC);
    for (int idx = tid; idx < THREADS / kWarpSize * EC * ns; idx += THREADS) gY[idx] = T(0);
    chunk_geometry<T, R, EC>(em, vec, center, neighbor, c0, sender_edges, n, true, emb, Y, edges);
    chunk_radial<T, R, EC>(cv, emb, GlobalPre<T, R>{cv.hidden, hidden_z, c0 - batch_first, batch_edges, n}, ping,
                           pong, WeightOperand<T, R, EC>{cv, aT});

    // dL/da[e][k] accumulates in ping (free once the hidden layers have run)
    for (int idx = tid; idx < EC * K; idx += THREADS) ping[idx] = T(0);
    // passes of one share a warp; a pass's slots [q0, q1) are wt's columns
    constexpr int WARPS = THREADS / kWarpSize;
    for (int p0 = 0; p0 < cv.num_shares; p0 += WARPS) {
      const int p1 = cv.num_shares - p0 < WARPS ? cv.num_shares : p0 + WARPS;
      const int* last = cv.shares + (p1 - 1) * kShareFields;
      const int q0 = share_slot(cv.shares + p0 * kShareFields), q1 = share_slot(last) + last[kShareWidth];
      if (p0 + warp_id() < p1) {
        const int* share = cv.shares + (p0 + warp_id()) * kShareFields;
        const int* task = cv.tasks + share[kShareTask] * kTaskFields;
        T* columns = wt + share_slot(share) - q0;
        share_weights<T, R, EC>(cv, aT, share, columns, L.row);
        // a share of padding keeps w: zero, as its dL/dw would be
        if (share[kShareFirst] < task[kTaskChannels]) {
          dispatch_task<T, true>(task, [&](auto coupling, auto U) {
            backward_task<T, decltype(coupling), decltype(U)::value, EC>(task, share, edges, Y, ns, columns, L.row,
                                                                         h, cv.x_dim, grad_message, cv.mid_dim,
                                                                         partial, cv.partial_dim, gY);
          });
        }
      }
      sync_block();
      // dL/da[e][k] += sum over this pass's slots of dL/dw[e][s] W[k][s]
      weight_gradient_to_hidden<T, R, EC, THREADS>(cv, wt, L.row, q0, q1 - q0, ping, pong);
      sync_block();
    }
    // ping holds dL/da (rows of K), gY each warp's dL/dY: out at the edges'
    // positions, the warps' dL/dY summed in warp order and added
    for (int idx = tid; idx < n * K; idx += THREADS) grad_a[(c0 - batch_first) * K + idx] = ping[idx];
    for (int idx = tid; idx < n * ns; idx += THREADS) {
      T sum = gY[idx];
      for (int w = 1; w < THREADS / kWarpSize; ++w) sum += gY[w * EC * ns + idx];
      grad_Y[(c0 - batch_first) * ns + idx] += sum;
    }
    sync_block();
  }
}

}  // namespace flashtp::cuda
