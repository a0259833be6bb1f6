// The per-edge "uvu" tensor product of the convolution, forward and backward.
//
// For each path (x segment l1, SH degree l2 -> output l3) and channel u:
//   out[u, k] += w[u] * sum_i x[u, i] M[i, k],   M[i, k] = alpha sum_j C[i,j,k] Y[j]
// M is built from the few nonzero Clebsch-Gordan entries of the path.
#pragma once
#include <algorithm>
#include <type_traits>
#include <vector>

#include "model.hpp"

namespace flashtp::cpu {

template <typename T>
class UvuTensorProduct {
 public:
  explicit UvuTensorProduct(const Convolution& conv) {
    for (const auto& p : conv.paths) {
      Path q;
      q.in_offset = conv.in.offset(p.seg_in);
      q.sh_offset = conv.sh.offset(p.seg_sh);
      q.out_offset = conv.mid.offset(p.seg_out);
      q.mul = conv.in[p.seg_in].mul;
      q.d1 = conv.in[p.seg_in].ir.dim();
      q.d3 = conv.mid[p.seg_out].ir.dim();
      q.weight_offset = p.weight_offset;
      for (const auto& e : p.cg) q.cg.push_back({e.i, e.j, e.k, T(p.alpha * e.c)});
      paths_.push_back(std::move(q));
    }
  }

  // out += TP(x, Y, w)
  void forward(const T* x, const T* Y, const T* w, T* out) const {
    T M[kMaxBlock];
    for (const auto& p : paths_) {
      coupling(p, Y, M);
      dispatch(p, [&](auto d1, auto d3) {
        forward_path<decltype(d1)::value, decltype(d3)::value>(p, x, M, w, out);
      });
    }
  }

  // Given dL/dout: grad_x += dL/dx, grad_w = dL/dw (overwritten), grad_Y += dL/dY.
  void backward(const T* x, const T* Y, const T* w, const T* grad_out, T* grad_x, T* grad_w, T* grad_Y) const {
    T M[kMaxBlock], grad_M[kMaxBlock];
    for (const auto& p : paths_) {
      coupling(p, Y, M);
      std::fill(grad_M, grad_M + p.d1 * p.d3, T(0));
      dispatch(p, [&](auto d1, auto d3) {
        backward_path<decltype(d1)::value, decltype(d3)::value>(p, x, M, w, grad_out, grad_x, grad_w, grad_M);
      });
      for (const auto& e : p.cg) grad_Y[p.sh_offset + e.j] += e.c * grad_M[e.i * p.d3 + e.k];
    }
  }

 private:
  static constexpr int kMaxBlock = 21 * 21;  // (2l+1)^2 up to l = 10
  struct Entry {
    int i, j, k;
    T c;  // alpha * C[i,j,k]
  };
  struct Path {
    int in_offset, sh_offset, out_offset, mul, d1, d3, weight_offset;
    std::vector<Entry> cg;
  };

  // Calls f with the path's (2l1+1, 2l3+1) as compile-time constants for
  // l <= 3, so the innermost loops unroll; 0 means "read it from the path".
  template <typename F>
  static void dispatch(const Path& p, F&& f) {
    using std::integral_constant;
    auto with_d3 = [&](auto d1) {
      switch (p.d3) {
        case 1: return f(d1, integral_constant<int, 1>{});
        case 3: return f(d1, integral_constant<int, 3>{});
        case 5: return f(d1, integral_constant<int, 5>{});
        case 7: return f(d1, integral_constant<int, 7>{});
        default: return f(d1, integral_constant<int, 0>{});
      }
    };
    switch (p.d1) {
      case 1: return with_d3(integral_constant<int, 1>{});
      case 3: return with_d3(integral_constant<int, 3>{});
      case 5: return with_d3(integral_constant<int, 5>{});
      case 7: return with_d3(integral_constant<int, 7>{});
      default: return with_d3(integral_constant<int, 0>{});
    }
  }

  template <int D1, int D3>
  static void forward_path(const Path& p, const T* x, const T* M, const T* w, T* out) {
    const int d1 = D1 ? D1 : p.d1, d3 = D3 ? D3 : p.d3;
    for (int u = 0; u < p.mul; ++u) {
      const T* xu = x + p.in_offset + u * d1;
      T* o = out + p.out_offset + u * d3;
      const T wu = w[p.weight_offset + u];
      for (int k = 0; k < d3; ++k) {
        T s = 0;
        for (int i = 0; i < d1; ++i) s += xu[i] * M[i * d3 + k];
        o[k] += wu * s;
      }
    }
  }

  template <int D1, int D3>
  static void backward_path(const Path& p, const T* x, const T* M, const T* w, const T* grad_out, T* grad_x,
                            T* grad_w, T* grad_M) {
    const int d1 = D1 ? D1 : p.d1, d3 = D3 ? D3 : p.d3;
    for (int u = 0; u < p.mul; ++u) {
      const T* xu = x + p.in_offset + u * d1;
      const T* g = grad_out + p.out_offset + u * d3;
      T* gx = grad_x + p.in_offset + u * d1;
      const T wu = w[p.weight_offset + u];
      T gw = 0;
      for (int i = 0; i < d1; ++i) {
        T s = 0;
        for (int k = 0; k < d3; ++k) {
          s += g[k] * M[i * d3 + k];
          grad_M[i * d3 + k] += wu * xu[i] * g[k];
        }
        gx[i] += wu * s;
        gw += xu[i] * s;
      }
      grad_w[p.weight_offset + u] = gw;
    }
  }

  static void coupling(const Path& p, const T* Y, T* M) {
    std::fill(M, M + p.d1 * p.d3, T(0));
    for (const auto& e : p.cg) M[e.i * p.d3 + e.k] += e.c * Y[p.sh_offset + e.j];
  }

  std::vector<Path> paths_;
};

}  // namespace flashtp::cpu
