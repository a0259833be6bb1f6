// Kernels on atoms: the embedding, e3nn Linears, the gate, the sum of the
// per-path gradients, the readout, and forces from the edge gradients.
// Every output element has one thread; sums run in the CPU's order.
#pragma once
#include <cstdint>
#include <type_traits>

#include "cuda/team_mlp.cuh"
#include "cuda/tensor_cores.cuh"
#include "cuda/views.hpp"

namespace flashtp::cuda {

constexpr int kNodeThreads = 128;
constexpr int kLinearRows = 16;  // rows per thread: each weight is loaded once per 16 atoms

inline unsigned blocks_for(int64_t work) { return static_cast<unsigned>((work + kNodeThreads - 1) / kNodeThreads); }

FLASHTP_DEVICE_ONLY int64_t global_thread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

// x0[n] = embedding[species[n]]
template <class T, class R>
FLASHTP_KERNEL void embed(const R* table, int dim, const int* species, int rows, T* out) {
  const int64_t idx = global_thread();
  if (idx >= static_cast<int64_t>(rows) * dim) return;
  out[idx] = T(table[static_cast<int64_t>(species[idx / dim]) * dim + idx % dim]);
}

// Blocks of linear_rows: row tiles x output segments x chunks of a segment
// (as many per segment as its widest has; the surplus blocks exit at once).
template <class R>
FLASHTP_DEVICE int linear_segment_chunks(const LinearView<R>& L) {
  return (L.widest_segment + kNodeThreads - 1) / kNodeThreads;
}
template <class R>
inline unsigned linear_blocks(const LinearView<R>& L, int rows) {
  const unsigned tiles = static_cast<unsigned>((rows + kLinearRows - 1) / kLinearRows);
  return tiles * static_cast<unsigned>(L.num_segments * linear_segment_chunks(L));
}
constexpr int kSlabColumns = 256;  // a staged slab holds at most this many input columns of kLinearRows rows
template <class T, class R>
inline size_t linear_shared_bytes(const LinearView<R>& L) {
  return static_cast<size_t>(L.widest_path < kSlabColumns ? L.widest_path : kSlabColumns) * kLinearRows * sizeof(T);
}

// The kLinearRows rows of column c of a staged slab, slab[c * kLinearRows + r].
template <class T>
FLASHTP_DEVICE_ONLY void load_slab_column(const T* column, T (&out)[kLinearRows]) {
  FLASHTP_UNROLL
  for (int r = 0; r < kLinearRows; ++r) out[r] = column[r];
}
#if defined(__CUDACC__)
__device__ __forceinline__ void load_slab_column(const float* column, float (&out)[kLinearRows]) {
  static_assert(kLinearRows % 4 == 0, "whole float4s");
  FLASHTP_UNROLL
  for (int q = 0; q < kLinearRows / 4; ++q) {
    const float4 v = reinterpret_cast<const float4*>(column)[q];
    out[4 * q] = v.x, out[4 * q + 1] = v.y, out[4 * q + 2] = v.z, out[4 * q + 3] = v.w;
  }
}
#endif

// y (+)= L(x) on rows. A block takes kLinearRows rows and up to kNodeThreads
// outputs o = (v, m) of one segment; for each path into the segment it stages
// the path's input slab x[rows][u, m] in shared memory (column-major, so a
// thread reads its rows as float4s; at most kSlabColumns at a time) and accumulates
//   y[r][v, m] += sum_u x[r][u, m] W[u][v].
template <class T, class R>
FLASHTP_KERNEL void linear_rows(LinearView<R> L, const T* x, int x_stride, T* y, int y_stride, int rows,
                                const int* species, int accumulate) {
  const int seg_chunks = linear_segment_chunks(L), per_tile = L.num_segments * seg_chunks;
  const int r0 = static_cast<int>(blockIdx.x) / per_tile * kLinearRows;
  const int* seg = L.segments + static_cast<int>(blockIdx.x) % per_tile / seg_chunks * kSegmentFields;
  const int mul_out = seg[1], d = seg[2];
  const int chunk0 = static_cast<int>(blockIdx.x) % seg_chunks * kNodeThreads;
  if (chunk0 >= mul_out * d) return;  // the whole block
  const int local = chunk0 + static_cast<int>(threadIdx.x);
  const bool live = local < mul_out * d;  // every thread stages; live ones compute
  const int o = seg[0] + local, v = local / d, m = local % d;
  T* slab = reinterpret_cast<T*>(shared_memory());

  T acc[kLinearRows];
  const R* W[kLinearRows];
  FLASHTP_UNROLL
  for (int r = 0; r < kLinearRows; ++r) {
    const int row = r0 + r < rows ? r0 + r : rows - 1;
    acc[r] = live && accumulate ? y[static_cast<int64_t>(row) * y_stride + o] : T(0);
    if (live && L.bias) acc[r] += L.bias[o];
    W[r] = L.weight + (L.variant_stride ? static_cast<int64_t>(species[row]) * L.variant_stride : 0);
  }
  const int slab_u = kSlabColumns / d;  // channels u per slab
  for (int p = seg[3]; p < seg[4]; ++p) {
    const int* path = L.paths + p * kPathFields;
    for (int u0 = 0; u0 < path[1]; u0 += slab_u) {
      const int u1 = u0 + slab_u < path[1] ? u0 + slab_u : path[1], width = (u1 - u0) * d;
      sync_block();  // the last slab is spent
      for (int idx = threadIdx.x; idx < width * kLinearRows; idx += blockDim.x) {
        const int c = idx % width, r = idx / width;
        const int row = r0 + r < rows ? r0 + r : rows - 1;
        slab[c * kLinearRows + r] = x[static_cast<int64_t>(row) * x_stride + path[0] + u0 * d + c];
      }
      sync_block();
      if (!live) continue;
      for (int u = u0; u < u1; ++u) {
        const int wi = path[2] + u * mul_out + v;
        const R shared_w = W[0][wi];  // one weight for all rows unless they are per species
        T xs[kLinearRows];
        load_slab_column(slab + ((u - u0) * d + m) * kLinearRows, xs);
        FLASHTP_UNROLL
        for (int r = 0; r < kLinearRows; ++r) acc[r] += xs[r] * (L.variant_stride ? W[r][wi] : shared_w);
      }
    }
  }
  if (!live) return;
  FLASHTP_UNROLL
  for (int r = 0; r < kLinearRows; ++r)
    if (r0 + r < rows) y[static_cast<int64_t>(r0 + r) * y_stride + o] = acc[r];
}

// The same on the tensor cores, for float and one weight matrix for all rows
// (no per-species variants): a warp takes kLinearTile rows and, for one
// component m of one output segment, kLinearTile channels v, the GEMMs
//   Y_m[r][v] (+)= bias + sum_paths sum_u X_m[r][u] W[u][v],  X_m[r][u] = x[r][in + u d + m],
// u in k-steps of 8, zero beyond the path's channels (tensor_cores.cuh), W
// split and packed by the host (LinearView::packed), each k-step's products
// summed in float (the tensor cores' own long sums drift: measured
// 5e-6 eV/atom on the energies of l3i5_arch).
constexpr int kLinearWarps = kNodeThreads / kWarpSize;

template <class R>
inline unsigned linear_tensor_blocks(const LinearView<R>& L, int rows) {
  const unsigned tiles = static_cast<unsigned>((rows + kLinearTile - 1) / kLinearTile);
  return tiles * static_cast<unsigned>((L.tensor_items + kLinearWarps - 1) / kLinearWarps);
}

// A: X_m[r][u] at x[r * stride + u d], r < rows, u < channels; zeros outside.
struct LinearInput : GatheredA {
  const float* x;
  int stride, d, rows, channels;
  FLASHTP_DEVICE LinearInput(const float* x_, int stride_, int d_, int rows_, int channels_)
      : x(x_), stride(stride_), d(d_), rows(rows_), channels(channels_) {}
  FLASHTP_DEVICE_ONLY float element(int r, int u) const {
    return r < rows && u < channels ? x[r * stride + u * d] : 0.0f;
  }
};

// Four blocks a multiprocessor (at most 128 registers, 12 bytes of spills):
// the kernel waits on its gathers, and the warps hide each other's waits.
template <class T>
FLASHTP_KERNEL FLASHTP_LAUNCH_BOUNDS(kNodeThreads, 4) void linear_rows_tensor(LinearView<T> L, const T* x,
                                                                             int x_stride, T* y, int y_stride,
                                                                             int rows, int accumulate) {
  static_assert(std::is_same_v<T, float>, "the tensor cores take float");
  const int items = L.tensor_items, item_blocks = (items + kLinearWarps - 1) / kLinearWarps;
  const int r0 = static_cast<int>(blockIdx.x) / item_blocks * kLinearTile;
  int item = static_cast<int>(blockIdx.x) % item_blocks * kLinearWarps + warp_id();
  if (item >= items) return;  // the whole warp
  const int* seg = L.segments;
  for (;; seg += kSegmentFields) {
    const int n = (seg[1] + kLinearTile - 1) / kLinearTile * seg[2];
    if (item < n) break;
    item -= n;
  }
  const int mul_out = seg[1], d = seg[2], m = item % d, v0 = item / d * kLinearTile;
  const int rows_here = rows - r0 < kLinearTile ? rows - r0 : kLinearTile;
  const int cols = mul_out - v0 < kLinearTile ? mul_out - v0 : kLinearTile;
  const int o0 = seg[0] + v0 * d + m;  // output column of Y_m[.][v0]
  float* out = y + static_cast<int64_t>(r0) * y_stride + o0;
  const float* in = x + static_cast<int64_t>(r0) * x_stride + m;

  constexpr int MT = kLinearTile / kMmaRows, NT = kLinearTile / kMmaCols;
  Accumulators<MT, NT> c;
  const int l = lane_id();
  FLASHTP_UNROLL
  for (int x = 0; x < MT * NT * 4; ++x) {
    const int r = accumulator_row<NT>(l, x), v = accumulator_col<NT>(l, x);
    const bool live = r < rows_here && v < cols;
    float& cx = accumulator(c, x);
    cx = live && accumulate ? out[r * y_stride + v * d] : 0.0f;
    if (live && L.bias) cx += L.bias[o0 + v * d];
  }
  for (int p = seg[3]; p < seg[4]; ++p) {
    const int* path = L.paths + p * kPathFields;
    const int mul_in = path[1];
    const int steps = (mul_in + kMmaDepth - 1) / kMmaDepth;
    warp_mma<true, Sums::rounded_per_step>(steps, LinearInput{in + path[0], x_stride, d, rows_here, mul_in},
                                           PackedB{L.packed + path[3], kMmaDepth * steps, 0, v0 / kMmaCols}, c);
  }
  FLASHTP_UNROLL
  for (int x = 0; x < MT * NT * 4; ++x) {
    const int r = accumulator_row<NT>(l, x), v = accumulator_col<NT>(l, x);
    if (r < rows_here && v < cols) out[r * y_stride + v * d] = accumulator(c, x);
  }
}

template <class R>
FLASHTP_DEVICE ActivationKind gate_act(const GateView<R>& G, const int* f, R& scale) {
  scale = G.act_scale[f[4]];
  return static_cast<ActivationKind>(G.act_kind[f[4]]);
}

// out = gate(y), row by row.
template <class T, class R>
FLASHTP_KERNEL void gate_forward(GateView<R> G, const T* y, T* out, int rows) {
  const int64_t idx = global_thread();
  if (idx >= static_cast<int64_t>(rows) * G.out_dim) return;
  const T* yr = y + idx / G.out_dim * G.in_dim;
  const int* f = G.forward + idx % G.out_dim * kGateFields;
  R scale;
  const ActivationKind act = gate_act(G, f, scale);
  out[idx] = f[0] == kGateScalar ? scale * activate(act, yr[f[1]]) : yr[f[1]] * (scale * activate(act, yr[f[2]]));
}

// grad_y = dL/dy given y and dL/d(gate(y)).
template <class T, class R>
FLASHTP_KERNEL void gate_backward(GateView<R> G, const T* y, const T* grad_out, T* grad_y, int rows) {
  const int64_t idx = global_thread();
  if (idx >= static_cast<int64_t>(rows) * G.in_dim) return;
  const int64_t row = idx / G.in_dim;
  const int k = static_cast<int>(idx % G.in_dim);
  const T* yr = y + row * G.in_dim;
  const T* go = grad_out + row * G.out_dim;
  const int* f = G.backward + k * kGateFields;
  R scale;
  const ActivationKind act = gate_act(G, f, scale);
  if (f[0] == kGateScalar) {
    grad_y[idx] = go[f[1]] * scale * activate_derivative(act, yr[k]);
  } else if (f[0] == kGateGated) {
    grad_y[idx] = go[f[1]] * (scale * activate(act, yr[f[2]]));
  } else {
    T dot = T(0);
    for (int m = 0; m < f[3]; ++m) dot += go[f[1] + m] * yr[f[2] + m];
    grad_y[idx] = dot * scale * activate_derivative(act, yr[k]);
  }
}

// dL/dh[n][k] = sum of the per-path partial gradients of element k.
template <class T, class R>
FLASHTP_KERNEL void path_sum(ConvView<R> cv, const T* partial, T* grad_h, int rows) {
  const int64_t idx = global_thread();
  if (idx >= static_cast<int64_t>(rows) * cv.x_dim) return;
  const int k = static_cast<int>(idx % cv.x_dim);
  const T* p = partial + idx / cv.x_dim * cv.partial_dim;
  T sum = T(0);
  for (int q = cv.path_sum_start[k]; q < cv.path_sum_start[k + 1]; ++q) sum += p[cv.path_sum_index[q]];
  grad_h[idx] = sum;
}

// Atomic energy = scale_s * e + shift_s; seeds dE/de = scale_s.
template <class T, class R>
FLASHTP_KERNEL void scale_shift(const R* scale, const R* shift, const int* species, const T* e, T* energy,
                                T* seed, int rows) {
  const int64_t i = global_thread();
  if (i >= rows) return;
  const R s = scale[species[i]];
  energy[i] = s * e[i] + shift[species[i]];
  seed[i] = T(s);
}

// The readout MLP on rows of scalars, forward and backward in one pass:
// atomic energy and dE/dx. Rows per block: kReadoutRows.
constexpr int kReadoutRows = 8;
template <class T, class R>
FLASHTP_KERNEL void readout_mlp(MlpView<R> mlp, const R* scale, const R* shift, const int* species, const T* x,
                                int rows, T* energy, T* grad_x) {
  const int D = mlp.widths[0], W = hidden_row(mlp.max_hidden > D ? mlp.max_hidden : D);  // buffer rows
  T* sm = reinterpret_cast<T*>(shared_memory());
  T *in = sm, *z = in + kReadoutRows * D, *ping = z + mlp.depth * kReadoutRows * W, *pong = ping + kReadoutRows * W;
  T* out = pong + kReadoutRows * W;
  const int r0 = static_cast<int>(blockIdx.x) * kReadoutRows;
  const int n = rows - r0 < kReadoutRows ? rows - r0 : kReadoutRows;
  for (int idx = threadIdx.x; idx < kReadoutRows * D; idx += blockDim.x)
    in[idx] = idx / D < n ? x[static_cast<int64_t>(r0) * D + idx] : T(0);
  sync_block();
  team_mlp_forward(BlockTeam{}, mlp, false, kReadoutRows, in, SharedPre<T>{z, kReadoutRows * W}, ping, pong,
                   RowsOut<T>{out, 1});
  for (int r = threadIdx.x; r < kReadoutRows; r += blockDim.x) {
    const int s = r < n ? species[r0 + r] : 0;
    if (r < n) energy[r0 + r] = scale[s] * out[r] + shift[s];
    pong[r] = T(scale[s]);
  }
  sync_block();
  team_mlp_backward(BlockTeam{}, mlp, false, kReadoutRows, z, kReadoutRows * W, pong, ping, in);
  for (int idx = threadIdx.x; idx < n * D; idx += blockDim.x) grad_x[static_cast<int64_t>(r0) * D + idx] = in[idx];
}

template <class R>
size_t readout_mlp_shared_bytes(const MlpView<R>& mlp, size_t scalar_bytes) {
  const int D = mlp.widths[0], W = hidden_row(mlp.max_hidden > D ? mlp.max_hidden : D);  // buffer rows
  return scalar_bytes * (kReadoutRows * D + (mlp.depth + 2) * kReadoutRows * W + kReadoutRows);
}

// F_n = sum over edges centred on n of dE/dr_e - sum over edges sent by n;
// atomic virial -1/2 sum r_e (x) dE/dr_e over both, Voigt xx yy zz xy xz yz.
// n's sent edges: sender_edges from sender_start[r], r its rank (GraphLayout).
template <class T>
FLASHTP_KERNEL void forces_and_virial(int nodes, int local, const int64_t* centre_start, const int* sender_rank,
                                      const int64_t* sender_start, const int64_t* sender_edges, const T* vec,
                                      const T* grad_vec, T* forces, T* virial) {
  const int64_t n = global_thread();
  if (n >= nodes) return;
  T f[3] = {T(0), T(0), T(0)}, w[6] = {T(0), T(0), T(0), T(0), T(0), T(0)};
  auto add = [&](int64_t e, real_t<T> sign) {
    const T* r = vec + 3 * e;
    const T* g = grad_vec + 3 * e;
    for (int a = 0; a < 3; ++a) f[a] += sign * g[a];
    const real_t<T> half = -0.5;
    w[0] += half * r[0] * g[0];
    w[1] += half * r[1] * g[1];
    w[2] += half * r[2] * g[2];
    w[3] += half * r[0] * g[1];
    w[4] += half * r[0] * g[2];
    w[5] += half * r[1] * g[2];
  };
  if (n < local)
    for (int64_t e = centre_start[n]; e < centre_start[n + 1]; ++e) add(e, 1);
  const int r = sender_rank[n];
  for (int64_t s = sender_start[r]; s < sender_start[r + 1]; ++s) add(sender_edges[s], -1);
  for (int a = 0; a < 3; ++a) forces[3 * n + a] = f[a];
  for (int k = 0; k < 6; ++k) virial[6 * n + k] = w[k];
}

}  // namespace flashtp::cuda
