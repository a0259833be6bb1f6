// The generated couplings (coupling_generated.hpp) as the host sees them: the
// table the host plans the backward's shares with (coupling_shape) agrees with
// the Coupling structs the kernels dispatch to, index by index, and so does
// the host's U (lane channels) with the kernels' for every scalar; and every
// coupling's straight-line code computes what the dense Clebsch-Gordan tensor
// says, forward and backward.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "cuda/convolution.cuh"
#include "cuda/coupling_generated.hpp"
#include "so3.hpp"

namespace flashtp::cuda {
namespace {

// f(l1, l2, l3, index) for every generated coupling; how many there are.
template <class F>
int for_each_coupling(F&& f) {
  int count = 0;
  for (int l1 = 0; l1 <= kMaxL; ++l1)
    for (int l2 = 0; l2 <= kMaxL; ++l2)
      for (int l3 = 0; l3 <= kMaxL; ++l3)
        if (const int index = coupling_index(l1, l2, l3); index >= 0) {
          f(l1, l2, l3, index);
          ++count;
        }
  return count;
}

TEST(Couplings, HostTableMatchesTheStructs) {
  const int count = for_each_coupling([](int l1, int l2, int l3, int index) {
    const CouplingShape shape = coupling_shape(index);
    bool dispatched = false;
    dispatch_coupling(index, [&](auto coupling) {
      using C = decltype(coupling);
      dispatched = true;
      EXPECT_EQ(shape.d1, C::d1) << l1 << l2 << l3;
      EXPECT_EQ(shape.d3, C::d3) << l1 << l2 << l3;
      EXPECT_EQ(shape.nnz, C::nnz) << l1 << l2 << l3;
      EXPECT_EQ(C::sh_dim, 2 * l2 + 1) << l1 << l2 << l3;
      // the lane channels the host plans shares with (plan_shares) are the kernels'
      auto planned = [&](int words) { return lane_channels(words, shape, true); };
      EXPECT_EQ(planned(1), (lane_channels<float, C, true>())) << l1 << l2 << l3;
      EXPECT_EQ(planned(2), (lane_channels<double, C, true>())) << l1 << l2 << l3;
      EXPECT_EQ(planned(4), (lane_channels<Dual<double>, C, true>())) << l1 << l2 << l3;
    });
    EXPECT_TRUE(dispatched) << l1 << l2 << l3;
  });
  EXPECT_EQ(count, 65);  // (l1, l2, l3) with |l1 - l2| <= l3 <= min(l1 + l2, 4)
}

// With C the dense tensor (so3.hpp), for two channels u of one edge:
//   forward   out[k] += w_u sum_ij C[i][j][k] x_u[i] Y[j]
//   backward  dL/dx_u[i] += w_u sum_jk C[i][j][k] Y[j] g_u[k],
//             dL/dw_u = sum_ijk C[i][j][k] x_u[i] Y[j] g_u[k],
//             dL/dY[j] += sum_u w_u sum_ik C[i][j][k] x_u[i] g_u[k]
// (the second channel's P accumulating onto the first's), on random numbers.
TEST(Couplings, ComputeWhatTheDenseTensorSays) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  int checked = 0;
  for_each_coupling([&](int l1, int l2, int l3, int index) {
    dispatch_coupling(index, [&](auto coupling) {
      using C = decltype(coupling);
      const int d1 = C::d1, d2 = C::sh_dim, d3 = C::d3;
      const std::vector<double> cg = wigner_3j(l1, l2, l3);
      auto c = [&](int i, int j, int k) { return cg[(i * d2 + j) * d3 + k]; };
      double Y[(kMaxL + 1) * (kMaxL + 1)], x[2][C::d1], g[2][C::d3], w[2];
      for (double& v : Y) v = uniform(rng);
      for (int u = 0; u < 2; ++u) {
        for (double& v : x[u]) v = uniform(rng);
        for (double& v : g[u]) v = uniform(rng);
        w[u] = uniform(rng);
      }
      double M[C::products], P[C::products] = {}, out[C::d3] = {}, gY[C::sh_dim] = {};
      C::matrix(Y, M);  // the edge's whole row of harmonics
      for (int u = 0; u < 2; ++u) {
        double gx[C::d1] = {};
        C::forward(x[u], M, w[u], out);
        const double gw = C::backward(x[u], M, w[u], g[u], gx, P);
        double want_gw = 0;
        for (int i = 0; i < d1; ++i) {
          double want_gx = 0;
          for (int j = 0; j < d2; ++j)
            for (int k = 0; k < d3; ++k) {
              want_gx += w[u] * c(i, j, k) * Y[C::sh_offset + j] * g[u][k];
              want_gw += c(i, j, k) * x[u][i] * Y[C::sh_offset + j] * g[u][k];
            }
          EXPECT_NEAR(gx[i], want_gx, 1e-14) << l1 << l2 << l3 << " dL/dx " << i;
        }
        EXPECT_NEAR(gw, want_gw, 1e-14) << l1 << l2 << l3 << " dL/dw";
      }
      C::sh_gradient(P, gY);
      for (int j = 0; j < d2; ++j) {
        double want_gY = 0;
        for (int u = 0; u < 2; ++u)
          for (int i = 0; i < d1; ++i)
            for (int k = 0; k < d3; ++k) want_gY += w[u] * c(i, j, k) * x[u][i] * g[u][k];
        EXPECT_NEAR(gY[j], want_gY, 1e-14) << l1 << l2 << l3 << " dL/dY " << j;
      }
      for (int k = 0; k < d3; ++k) {
        double want_out = 0;
        for (int u = 0; u < 2; ++u)
          for (int i = 0; i < d1; ++i)
            for (int j = 0; j < d2; ++j) want_out += w[u] * c(i, j, k) * x[u][i] * Y[C::sh_offset + j];
        EXPECT_NEAR(out[k], want_out, 1e-14) << l1 << l2 << l3 << " out " << k;
      }
      ++checked;
    });
  });
  EXPECT_EQ(checked, 65);
}

}  // namespace
}  // namespace flashtp::cuda
