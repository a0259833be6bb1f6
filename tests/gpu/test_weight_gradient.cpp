// The fused backward's dL/da GEMM (weight_gradient_to_hidden, convolution.cuh)
// on the host emulator, for every way it tiles the last hidden layer K over
// a block's warps: on the tensor-core path (K a multiple of 16: row tiles of
// 16 edges times 2 or 4 column tiles, over the whole pass or one half of its
// slots) and the FMA path (any K), from a pass that starts anywhere in the
// slots, against a double-precision product.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "cuda/convolution.cuh"
#include "cuda/emulator.hpp"

namespace flashtp::cuda {
namespace {

constexpr int EC = 32, THREADS = 256;

// grad_a[e][k] += sum_{c < slots} wt[e][c] W[k][q0 + c], W of K x S; grad_a
// starts from values of its own, as in a pass after the first.
void check_weight_gradient(int K, bool tensor_cores, int q0, int slots) {
  constexpr int S = 320, ld = THREADS + 4;
  std::mt19937 rng(static_cast<unsigned>(K * 1000 + q0 + slots));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> W(static_cast<size_t>(K) * S), WT(W.size()), wt(EC * ld), grad_a(EC * K), scratch(EC * K);
  for (int k = 0; k < K; ++k)
    for (int s = 0; s < S; ++s) W[k * S + s] = WT[s * K + k] = u(rng);
  for (auto& v : wt) v = u(rng);
  for (auto& v : grad_a) v = u(rng);
  const std::vector<float> start = grad_a;

  std::vector<float> packed, packed_t;  // PackedB's tiles need K a multiple of 16
  if (tensor_cores) {
    packed.resize(2 * W.size());
    packed_t.resize(2 * W.size());
    for (int k = 0; k < K; ++k)
      for (int s = 0; s < S; ++s) {
        PackedB::store(W[k * S + s], k, s, K, packed.data());
        PackedB::store(WT[s * K + k], s, k, S, packed_t.data());
      }
  }
  ConvView<float> cv;
  cv.K = K;
  cv.num_slots = S;
  cv.last = W.data();
  cv.last_transpose = WT.data();
  if (tensor_cores) {
    cv.last_packed_split = packed.data();
    cv.last_transpose_packed_split = packed_t.data();
  }
  emulator::run(1, THREADS, 0, [&] {
    weight_gradient_to_hidden<float, float, EC, THREADS>(cv, wt.data(), ld, q0, slots, grad_a.data(),
                                                          scratch.data());
  });
  for (int e = 0; e < EC; ++e)
    for (int k = 0; k < K; ++k) {
      double want = start[e * K + k], scale = std::fabs(want);
      for (int c = 0; c < slots; ++c) {
        const double term = static_cast<double>(wt[e * ld + c]) * W[k * S + q0 + c];
        want += term;
        scale += std::fabs(term);
      }
      ASSERT_NEAR(grad_a[e * K + k], want, 1e-5 * scale)
          << "K " << K << (tensor_cores ? " tensor cores" : " FMA") << " q0 " << q0 << " slots " << slots << " edge "
          << e << " column " << k;
    }
}

TEST(WeightGradient, EveryTilingOfTheHiddenWidth) {
  // K = 16, 32, 64: two halves of the slots; 48, 96: 3 groups of 2 or 4
  // column tiles; 128: 4 groups, one warp each
  for (const int K : {16, 32, 48, 64, 96, 128})
    for (const int slots : {8, 96, 256}) check_weight_gradient(K, true, 64, slots);
}

TEST(WeightGradient, FmaPathForAnyWidth) {
  for (const int K : {12, 40, 64}) check_weight_gradient(K, false, 32, 96);
}

}  // namespace
}  // namespace flashtp::cuda
