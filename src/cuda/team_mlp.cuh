// Dense layers on a few rows held in shared memory, computed by a team of
// threads, the whole block or one warp on rows of its own: the radial MLP's
// hidden layers (rows = edges) and the readout MLP (rows = atoms). Sums run
// over k in ascending order, as the CPU's gemm.
#pragma once
#include <cstdint>
#include <type_traits>

#include "cuda/activation.cuh"
#include "cuda/views.hpp"
#include "cuda/tensor_cores.cuh"

namespace flashtp::cuda {

// The threads that share the rows, and their barrier.
struct BlockTeam {
  FLASHTP_DEVICE_ONLY int thread() const { return static_cast<int>(threadIdx.x); }
  FLASHTP_DEVICE_ONLY int threads() const { return static_cast<int>(blockDim.x); }
  FLASHTP_DEVICE_ONLY int warp() const { return warp_id(); }
  FLASHTP_DEVICE_ONLY int warps() const { return static_cast<int>(blockDim.x) / kWarpSize; }
  FLASHTP_DEVICE_ONLY void sync() const { sync_block(); }
};
struct WarpTeam {
  FLASHTP_DEVICE_ONLY int thread() const { return lane_id(); }
  FLASHTP_DEVICE_ONLY int threads() const { return kWarpSize; }
  FLASHTP_DEVICE_ONLY int warp() const { return 0; }
  FLASHTP_DEVICE_ONLY int warps() const { return 1; }
  FLASHTP_DEVICE_ONLY void sync() const { sync_warp(); }
};

// Row stride of the hidden layers' buffers: N, or N + 4 when N is a multiple
// of 32, so that the 8 rows of a tensor-core fragment fall in 8 different
// banks of shared memory (at a stride of 64 floats they all shared one).
FLASHTP_DEVICE constexpr int hidden_row(int N) { return N % 32 == 0 ? N + 4 : N; }

// z = in W (in is rows x K, row stride ld, W is [K][N]): out(r, n, act(z) or
// z), and pre(r, n, z). Float layers with W packed for the tensor cores
// (W_packed: PackedB split into TF32 heads and tails by the host,
// tensor_cores.cuh) and rows in whole 16-row tiles run there, each warp
// finishing its own tiles of C: z staged in `stage` (rows x row of scratch,
// which `out` writes at most in place), then kept and activated and stored in
// a loop (one copy of the activation's code, not one per register of C); the
// others as one FMA loop per output. No barrier inside.
template <class Team, class T, class R, class Pre, class Out>
FLASHTP_DEVICE_ONLY void team_dense(const Team& team, int rows, const T* in, int ld, int K, const R* W,
                                    const R* W_packed, int N, const Pre& pre, T* stage, int row, ActivationKind act,
                                    bool activated, const Out& out) {
  if constexpr (std::is_same_v<T, float>) {
    if (W_packed && rows % kMmaRows == 0) {
      const int row_tiles = rows / kMmaRows;
      for (int t = team.warp(); t < row_tiles * (N / 16); t += team.warps()) {
        const int r0 = kMmaRows * (t % row_tiles), n0 = 16 * (t / row_tiles);
        Accumulators<1, 2> c;
        zero_accumulators(c);
        warp_mma(K / kMmaDepth, RowMajorA{in + r0 * ld, ld}, PackedB{W_packed, K, 0, n0 / kMmaCols}, c);
        store_c(c, stage + r0 * row + n0, row);
        sync_warp();
        for (int idx = lane_id(); idx < kMmaRows * 16; idx += kWarpSize) {
          const int r = r0 + idx / 16, n = n0 + idx % 16;
          const T v = stage[r * row + n];
          pre(r, n, v);
          out(r, n, activated ? activate(act, v) : v);
        }
      }
      return;
    }
  }
  for (int idx = team.thread(); idx < rows * N; idx += team.threads()) {
    const int r = idx / N, n = idx % N;
    const T* x = in + r * ld;
    T z = T(0);
    for (int k = 0; k < K; ++k) z += x[k] * W[k * N + n];
    pre(r, n, z);
    out(r, n, activated ? activate(act, z) : z);
  }
}

// A row-major output of team_dense, rows of stride ld.
template <class T>
struct RowsOut {
  T* p;
  int ld;
  FLASHTP_DEVICE void operator()(int r, int n, T v) const { p[r * ld + n] = v; }
};

// Where team_mlp_forward keeps the hidden layers' pre-activations: layer(l, N)
// gives layer l's output of team_dense (N its width).
struct NoPre {  // nowhere
  struct Drop {
    template <class T>
    FLASHTP_DEVICE void operator()(int, int, T) const {}
  };
  FLASHTP_DEVICE Drop layer(int, int) const { return {}; }
};
template <class T>
struct SharedPre {  // a team's buffer: layer l at z + l z_stride, rows of hidden_row(N)
  T* z;
  int z_stride;
  FLASHTP_DEVICE RowsOut<T> layer(int l, int N) const { return {z + l * z_stride, hidden_row(N)}; }
};
// The hidden layers' pre-activations of `total` rows in a global array, layer
// after layer: layer l's rows (of N_l numbers) from total sum_{l' < l} N_l'.
template <class T, class R>
FLASHTP_DEVICE T* pre_activation_layer(const MlpView<R>& mlp, T* global, int64_t total, int l) {
  int64_t offset = 0;
  for (int q = 0; q < l; ++q) offset += total * mlp.widths[q + 1];
  return global + offset;
}

// Rows [first, first + n) of pre_activation_layer's global array; rows past n
// are not written.
template <class T, class R>
struct GlobalPre {
  const MlpView<R>& mlp;
  T* global;
  int64_t first, total;
  int n;
  struct Rows {
    T* p;
    int N, n;
    FLASHTP_DEVICE void operator()(int r, int c, T v) const {
      if (r < n) p[r * N + c] = v;
    }
  };
  FLASHTP_DEVICE Rows layer(int l, int N) const {
    return {pre_activation_layer(mlp, global, total, l) + first * N, N, n};
  }
};

// The MLP on `rows` rows of `in` (rows of widths[0]), every layer activated
// except the last unless last_activated. Intermediate activations go to
// ping/pong (rows x hidden_row(width) each), the result to out(r, n, value),
// the pre-activations to pre (NoPre, SharedPre, GlobalPre). Ends with the
// team's barrier.
template <class Team, class T, class R, class Pre, class Out>
FLASHTP_DEVICE_ONLY void team_mlp_forward(const Team& team, const MlpView<R>& mlp, bool last_activated, int rows,
                                          const T* in, const Pre& pre, T* ping, T* pong, const Out& out) {
  const T* x = in;
  int ld = mlp.widths[0];
  for (int l = 0; l < mlp.depth; ++l) {
    const int K = mlp.widths[l], N = mlp.widths[l + 1];
    T* y = l % 2 == 0 ? ping : pong;
    if (l + 1 == mlp.depth) {  // y is free: the stage
      team_dense(team, rows, x, ld, K, mlp.weight[l], mlp.packed[l], N, pre.layer(l, N), y, hidden_row(N), mlp.act,
                 last_activated, out);
    } else {
      team_dense(team, rows, x, ld, K, mlp.weight[l], mlp.packed[l], N, pre.layer(l, N), y, hidden_row(N), mlp.act,
                 true, RowsOut<T>{y, hidden_row(N)});
    }
    team.sync();
    x = y;
    ld = hidden_row(N);
  }
}

// Rows [first, first + rows) of the hidden layers' pre-activations from a
// global array (pre_activation_layer's layout) into a team's buffer
// (SharedPre's); rows past n are zero.
template <class Team, class T, class R>
FLASHTP_DEVICE_ONLY void team_load_pre_activations(const Team& team, const MlpView<R>& mlp, int rows, int n,
                                                   int64_t first, int64_t total, const T* global, T* z, int z_stride) {
  for (int l = 0; l < mlp.depth; ++l) {
    const int N = mlp.widths[l + 1];
    T* zl = z + l * z_stride;
    const T* gl = pre_activation_layer(mlp, global, total, l) + first * N;
    // a row a warp, its columns a lane at a time: no division per element
    for (int r = team.warp(); r < rows; r += team.warps())
      for (int c = lane_id(); c < N; c += kWarpSize) zl[r * hidden_row(N) + c] = r < n ? gl[r * N + c] : T(0);
  }
}

// Reverse of team_mlp_forward: grad holds dL/d(out) as rows x widths[depth]
// (row stride hidden_row) and is overwritten; dL/d(in) lands in grad_in (rows
// of widths[0]). spare: rows x hidden_row(widest hidden layer). Ends with the
// team's barrier.
template <class Team, class T, class R>
FLASHTP_DEVICE_ONLY void team_mlp_backward(const Team& team, const MlpView<R>& mlp, bool last_activated, int rows,
                                           const T* z, int z_stride, T* grad, T* spare, T* grad_in) {
  T* g = grad;
  for (int l = mlp.depth - 1; l >= 0; --l) {
    const int K = mlp.widths[l], N = mlp.widths[l + 1];
    const int ld = hidden_row(N);
    if (l + 1 < mlp.depth || last_activated) {
      const T* zl = z + l * z_stride;
      for (int idx = team.thread(); idx < rows * N; idx += team.threads()) {
        const int at = idx / N * ld + idx % N;
        g[at] *= activate_derivative(mlp.act, zl[at]);
      }
      team.sync();
    }
    T* next = l == 0 ? grad_in : (g == grad ? spare : grad);
    const int row = l == 0 ? K : hidden_row(K);
    team_dense(team, rows, g, ld, N, mlp.transpose[l], mlp.packed_transpose[l], K, NoPre::Drop{}, next, row, mlp.act,
               false, RowsOut<T>{next, row});
    team.sync();
    g = next;
  }
}

}  // namespace flashtp::cuda
