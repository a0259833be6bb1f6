// Dense building blocks of the CPU backend, in precision T: e3nn Linear on
// one node, and the radial MLP on a batch of edges.
#pragma once
#include <algorithm>
#include <vector>

#include "activation.hpp"
#include "model.hpp"

namespace flashtp::cpu {

// C[B x N] = A[B x K] W[K x N]. A panel of W (K x 64) stays in cache while
// rows of A stream past it, four at a time so each load of W feeds four FMAs.
template <typename T>
void gemm(int B, int K, int N, const T* A, const T* W, T* C) {
  constexpr int kPanel = 64, kRows = 4;
  for (int n0 = 0; n0 < N; n0 += kPanel) {
    const int nn = std::min(kPanel, N - n0);
    int b = 0;
    for (; b + kRows <= B; b += kRows) {
      T acc[kRows][kPanel] = {};
      const T* a = A + static_cast<size_t>(b) * K;
      for (int k = 0; k < K; ++k) {
        const T* w = W + static_cast<size_t>(k) * N + n0;
        const T a0 = a[k], a1 = a[K + k], a2 = a[2 * K + k], a3 = a[3 * K + k];
        for (int j = 0; j < nn; ++j) {
          acc[0][j] += a0 * w[j];
          acc[1][j] += a1 * w[j];
          acc[2][j] += a2 * w[j];
          acc[3][j] += a3 * w[j];
        }
      }
      for (int r = 0; r < kRows; ++r) std::copy(acc[r], acc[r] + nn, C + static_cast<size_t>(b + r) * N + n0);
    }
    for (; b < B; ++b) {
      T* c = C + static_cast<size_t>(b) * N + n0;
      std::fill(c, c + nn, T(0));
      const T* a = A + static_cast<size_t>(b) * K;
      for (int k = 0; k < K; ++k) {
        const T av = a[k];
        const T* w = W + static_cast<size_t>(k) * N + n0;
        for (int j = 0; j < nn; ++j) c[j] += av * w[j];
      }
    }
  }
}

// An e3nn Linear with its weights in T.
template <typename T>
struct DenseLinear {
  struct Path {
    int in_offset, out_offset, mul_in, mul_out, dim;
    std::vector<T> weight;  // [mul_in][mul_out]
  };
  int in_dim = 0, out_dim = 0;
  std::vector<Path> paths;
  std::vector<T> bias;

  DenseLinear() = default;
  explicit DenseLinear(const Linear& def) : in_dim(def.in.dim()), out_dim(def.out.dim()) {
    for (const auto& p : def.paths)
      paths.push_back({def.in.offset(p.seg_in), def.out.offset(p.seg_out), def.in[p.seg_in].mul,
                       def.out[p.seg_out].mul, def.in[p.seg_in].ir.dim(),
                       std::vector<T>(p.weight.begin(), p.weight.end())});
    bias.assign(def.bias.begin(), def.bias.end());
  }

  // y = L(x) for one node (y overwritten).
  void forward(const T* x, T* y) const {
    if (bias.empty())
      std::fill(y, y + out_dim, T(0));
    else
      std::copy(bias.begin(), bias.end(), y);
    for (const auto& p : paths) {
      const T* xs = x + p.in_offset;
      T* ys = y + p.out_offset;
      for (int u = 0; u < p.mul_in; ++u) {
        const T* w = p.weight.data() + static_cast<size_t>(u) * p.mul_out;
        for (int m = 0; m < p.dim; ++m) {
          const T xv = xs[u * p.dim + m];
          for (int v = 0; v < p.mul_out; ++v) ys[v * p.dim + m] += w[v] * xv;
        }
      }
    }
  }

  // gx += L^T gy for one node.
  void backward(const T* gy, T* gx) const {
    for (const auto& p : paths) {
      const T* gs = gy + p.out_offset;
      T* gxs = gx + p.in_offset;
      for (int u = 0; u < p.mul_in; ++u) {
        const T* w = p.weight.data() + static_cast<size_t>(u) * p.mul_out;
        for (int m = 0; m < p.dim; ++m) {
          T s = 0;
          for (int v = 0; v < p.mul_out; ++v) s += w[v] * gs[v * p.dim + m];
          gxs[u * p.dim + m] += s;
        }
      }
    }
  }
};

// e3nn FullyConnectedNet on a batch of rows, with its weights in T.
template <typename T>
struct DenseMlp {
  std::vector<int> widths;
  std::vector<std::vector<T>> weight;     // [widths[k]][widths[k+1]]
  std::vector<std::vector<T>> transpose;  // [widths[k+1]][widths[k]], for the backward pass
  ActivationKind act = ActivationKind::silu;

  DenseMlp() = default;
  explicit DenseMlp(const Mlp& def) : widths(def.widths), act(def.act.kind) {
    for (size_t k = 0; k < def.weight.size(); ++k) {
      const int rows = widths[k], cols = widths[k + 1];
      weight.emplace_back(def.weight[k].begin(), def.weight[k].end());
      std::vector<T> t(def.weight[k].size());
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) t[static_cast<size_t>(c) * rows + r] = T(def.weight[k][static_cast<size_t>(r) * cols + c]);
      transpose.push_back(std::move(t));
    }
  }
  int depth() const { return static_cast<int>(weight.size()); }
  int in_width() const { return widths.front(); }
  int out_width() const { return widths.back(); }

  // What the backward pass needs, kept between calls so buffers are reused.
  struct Tape {
    std::vector<std::vector<T>> pre;     // pre[k]: B x widths[k+1], hidden layers
    std::vector<std::vector<T>> hidden;  // act(pre[k])
    std::vector<T> grad_a, grad_b;       // backward scratch
  };

  // out[B x out_width] = MLP(in[B x in_width])
  void forward(int B, const T* in, T* out, Tape& tape) const {
    tape.pre.resize(depth() - 1);
    tape.hidden.resize(depth() - 1);
    const T* x = in;
    for (int k = 0; k + 1 < depth(); ++k) {
      auto& z = tape.pre[k];
      auto& h = tape.hidden[k];
      z.resize(static_cast<size_t>(B) * widths[k + 1]);
      h.resize(z.size());
      gemm(B, widths[k], widths[k + 1], x, weight[k].data(), z.data());
      for (size_t t = 0; t < z.size(); ++t) h[t] = activate(act, z[t]);
      x = h.data();
    }
    gemm(B, widths[depth() - 1], widths[depth()], x, weight.back().data(), out);
  }

  // grad_in[B x in_width] = dL/din given dL/dout, using the tape of forward.
  void backward(int B, const T* grad_out, T* grad_in, Tape& tape) const {
    const T* g = grad_out;
    for (int k = depth() - 1; k >= 0; --k) {
      // dL/d(layer input) = dL/d(layer output) W^T
      if (k == 0) {
        gemm(B, widths[1], widths[0], g, transpose[0].data(), grad_in);
        break;
      }
      auto& gx = tape.grad_a;
      gx.resize(static_cast<size_t>(B) * widths[k]);
      gemm(B, widths[k + 1], widths[k], g, transpose[k].data(), gx.data());
      const auto& z = tape.pre[k - 1];
      for (size_t t = 0; t < gx.size(); ++t) gx[t] *= activate_derivative(act, z[t]);
      tape.grad_a.swap(tape.grad_b);
      g = tape.grad_b.data();
    }
  }
};

}  // namespace flashtp::cpu
