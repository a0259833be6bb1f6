// Dense layers on a few rows held in shared memory, computed by a whole
// block: the radial MLP's hidden layers (rows = edges) and the readout MLP
// (rows = atoms). Sums run over k in ascending order, as the CPU's gemm.
#pragma once
#include <type_traits>

#include "cuda/activation.cuh"
#include "cuda/views.hpp"
#include "cuda/tensor_cores.cuh"

namespace flashtp::cuda {

// z = in W (W is [K][N]); out[r * out_row + n * out_col] = act(z) or z;
// pre[r * N + n] = z when pre is given. Float layers whose shapes fit 16 x 16
// tiles run on the tensor cores (tensor_cores.cuh), z staged row-major in pre,
// in out (when it is row-major) or in scratch, with a barrier inside; the
// others as one FMA loop per output, with none.
template <class T, class R>
FLASHTP_DEVICE_ONLY void block_dense(int rows, const T* in, int in_stride, int K, const R* W, int N, T* pre, T* out,
                                     int out_row, int out_col, ActivationKind act, bool activated, T* scratch) {
  if constexpr (std::is_same_v<T, float>) {
    T* z = pre ? pre : (out_col == 1 && out_row == N ? out : scratch);
    if (z && rows % kMmaRows == 0 && K % kMmaDepth == 0 && N % 16 == 0) {
      const int row_tiles = rows / kMmaRows;
      for (int t = warp_id(); t < row_tiles * (N / 16); t += blockDim.x / kWarpSize) {
        const int r0 = kMmaRows * (t % row_tiles), n0 = 16 * (t / row_tiles);
        Accumulators<1, 2> c;
        zero_accumulators(c);
        warp_mma(K / kMmaDepth, RowMajorA{in + r0 * in_stride, in_stride}, RowMajorB{W + n0, N}, c);
        store_c(c, z + r0 * N + n0, N);
      }
      sync_block();
      for (int idx = threadIdx.x; idx < rows * N; idx += blockDim.x) {
        const T v = z[idx];
        out[idx / N * out_row + idx % N * out_col] = activated ? activate(act, v) : v;
      }
      return;
    }
  }
  for (int idx = threadIdx.x; idx < rows * N; idx += blockDim.x) {
    const int r = idx / N, n = idx % N;
    const T* x = in + r * in_stride;
    T z = T(0);
    for (int k = 0; k < K; ++k) z += x[k] * W[k * N + n];
    if (pre) pre[r * N + n] = z;
    out[r * out_row + n * out_col] = activated ? activate(act, z) : z;
  }
}

// The first `layers` layers of mlp on `rows` rows of `in`, every layer
// activated except the network's last (when layers == mlp.depth and
// last_activated is false). Intermediate activations go to ping/pong (rows x
// width each), the result to out[r * out_row + n * out_col]; pre-activations
// of layer l to z + l * z_stride when z is given. Ends with a barrier.
template <class T, class R>
FLASHTP_DEVICE_ONLY void block_mlp_forward(const MlpView<R>& mlp, bool last_activated, int rows, const T* in, T* z,
                                           int z_stride, T* ping, T* pong, T* out, int out_row, int out_col) {
  const T* x = in;
  for (int l = 0; l < mlp.depth; ++l) {
    const int K = mlp.widths[l], N = mlp.widths[l + 1];
    const bool last = l + 1 == mlp.depth;
    T* y = last ? out : (l % 2 == 0 ? ping : pong);
    T* spare = x == ping ? pong : ping;
    block_dense(rows, x, K, K, mlp.weight[l], N, z ? z + l * z_stride : nullptr, y, last ? out_row : N,
                last ? out_col : 1, mlp.act, !last || last_activated, spare);
    sync_block();
    x = y;
  }
}

// Reverse of block_mlp_forward: grad holds dL/d(out) as rows x widths[depth]
// (row-major) and is overwritten; dL/d(in) lands in grad_in (rows x widths[0]).
// spare: rows x (widest hidden layer). Ends with a barrier.
template <class T, class R>
FLASHTP_DEVICE_ONLY void block_mlp_backward(const MlpView<R>& mlp, bool last_activated, int rows, const T* z,
                                            int z_stride, T* grad, T* spare, T* grad_in) {
  T* g = grad;
  for (int l = mlp.depth - 1; l >= 0; --l) {
    const int K = mlp.widths[l], N = mlp.widths[l + 1];
    if (l + 1 < mlp.depth || last_activated) {
      const T* zl = z + l * z_stride;
      for (int idx = threadIdx.x; idx < rows * N; idx += blockDim.x) g[idx] *= activate_derivative(mlp.act, zl[idx]);
      sync_block();
    }
    T* next = l == 0 ? grad_in : (g == grad ? spare : grad);
    block_dense(rows, g, N, N, mlp.transpose[l], K, static_cast<T*>(nullptr), next, K, 1, mlp.act, false,
                static_cast<T*>(nullptr));
    sync_block();
    g = next;
  }
}

}  // namespace flashtp::cuda
