// The fragment layouts of src/cuda/tensor_cores.cuh on the host emulator:
// the lane maps against spot entries of the PTX ISA's m16n8k8 .tf32 tables,
// and every source's fragments against the matrix it reads (the device's
// mma.sync consumes exactly these registers; only the instruction itself is
// left to the GPU tests).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "cuda/emulator.hpp"
#include "cuda/tensor_cores.cuh"

namespace flashtp::cuda {
namespace {

// PTX ISA, "Matrix Fragments for mma.m16n8k8" (.tf32): groupID = lane / 4,
// threadID_in_group = lane % 4; lane 5 is group 1, thread 1; lane 30 is 7, 2.
TEST(TensorCores, LaneMapsFollowThePtxTables) {
  auto at = [](int row, int col) { return std::vector<int>{row, col}; };
  EXPECT_EQ(at(a_row(5, 0), a_col(5, 0)), at(1, 1));
  EXPECT_EQ(at(a_row(5, 1), a_col(5, 1)), at(9, 1));
  EXPECT_EQ(at(a_row(5, 2), a_col(5, 2)), at(1, 5));
  EXPECT_EQ(at(a_row(30, 3), a_col(30, 3)), at(15, 6));
  EXPECT_EQ(at(b_row(5, 0), b_col(5, 0)), at(1, 1));
  EXPECT_EQ(at(b_row(30, 1), b_col(30, 1)), at(6, 7));
  EXPECT_EQ(at(c_row(5, 0), c_col(5, 0)), at(1, 2));
  EXPECT_EQ(at(c_row(5, 1), c_col(5, 1)), at(1, 3));
  EXPECT_EQ(at(c_row(30, 2), c_col(30, 2)), at(15, 4));
  EXPECT_EQ(at(c_row(30, 3), c_col(30, 3)), at(15, 5));
  for (int l = 0; l < kWarpSize; ++l) {
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(a_lane(a_row(l, i), a_col(l, i)), l);
      EXPECT_EQ(a_element(a_row(l, i), a_col(l, i)), i);
    }
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(b_lane(b_row(l, i), b_col(l, i)), l);
      EXPECT_EQ(b_element(b_row(l, i), b_col(l, i)), i);
    }
  }
}

TEST(TensorCores, SplitKeepsFloatAccuracy) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  for (int n = 0; n < 1000; ++n) {
    const float x = u(rng);
    const Tf32Split s = tf32_split(x);
    EXPECT_EQ(tf32_round(s.hi), s.hi);
    EXPECT_EQ(tf32_round(s.lo), s.lo);
    EXPECT_LE(std::fabs(x - s.hi - s.lo), std::ldexp(std::fabs(x), -21));
  }
}

// A lane's B fragments of k-step `step`, heads and tails as warp_mma takes
// them (both on the TF32 grid).
template <int NT>
void b_fragments(const PackedB& B, int step, float (&hi)[NT][2], float (&lo)[NT][2]) {
  PackedB::Loaded<NT> loaded;
  B.load<NT>(step, loaded);
  PackedB::split<NT>(loaded, hi, lo);
  for (int t = 0; t < NT; ++t)
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(tf32_round(hi[t][i]), hi[t][i]);
      EXPECT_EQ(tf32_round(lo[t][i]), lo[t][i]);
    }
}

// A (32 x 16) and B (16 x 32) through every source: each lane's fragments
// hold the entries the maps name.
TEST(TensorCores, FragmentsHoldTheirEntries) {
  constexpr int M = 32, K = 16, N = 32;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> A(M * K), B(K * N), packed_a(2 * M * K), packed_b(2 * K * N);
  for (auto& v : A) v = u(rng);
  for (auto& v : B) v = u(rng);
  for (int r = 0; r < M; ++r)
    for (int k = 0; k < K; ++k) PackedA::store(A[r * K + k], r, k, K, packed_a.data());
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n) PackedB::store(B[k * N + n], k, n, K, packed_b.data());

  // per lane: A fragments (head + tail) of tiles x steps, B fragments of steps x tiles
  std::vector<float> a_packed(kWarpSize * 2 * 2 * 4), a_rows(a_packed.size());
  // per lane: heads then tails of B fragments of steps x tiles
  std::vector<float> b_packed(2 * kWarpSize * 2 * 4 * 2);
  emulator::run(1, kWarpSize, 0, [&] {
    const int l = lane_id();
    for (int m = 0; m < 2; ++m)
      for (int s = 0; s < 2; ++s) {
        float hi[4], lo[4];
        PackedA{packed_a.data(), K}.fragment(m, s, hi, lo);
        for (int i = 0; i < 4; ++i) a_packed[((l * 2 + m) * 2 + s) * 4 + i] = hi[i] + lo[i];
        RowMajorA{A.data(), K}.fragment(m, s, hi, lo);
        for (int i = 0; i < 4; ++i) a_rows[((l * 2 + m) * 2 + s) * 4 + i] = hi[i] + lo[i];
      }
    for (int s = 0; s < 2; ++s) {
      auto keep = [&](std::vector<float>& to, const float (&hi)[4][2], const float (&lo)[4][2]) {
        for (int t = 0; t < 4; ++t)
          for (int i = 0; i < 2; ++i) {
            const size_t at = ((l * 2 + s) * 4 + t) * 2 + i;
            to[at] = hi[t][i], to[to.size() / 2 + at] = lo[t][i];
          }
      };
      float hi[4][2], lo[4][2];
      b_fragments(PackedB{packed_b.data(), K, 0, 0}, s, hi, lo);
      keep(b_packed, hi, lo);
    }
  });
  for (int l = 0; l < kWarpSize; ++l) {
    for (int m = 0; m < 2; ++m)
      for (int s = 0; s < 2; ++s)
        for (int i = 0; i < 4; ++i) {
          const float want = A[(16 * m + a_row(l, i)) * K + 8 * s + a_col(l, i)];
          const size_t at = ((l * 2 + m) * 2 + s) * 4 + i;
          EXPECT_NEAR(a_packed[at], want, std::ldexp(std::fabs(want), -21)) << "lane " << l;
          EXPECT_NEAR(a_rows[at], want, std::ldexp(std::fabs(want), -21)) << "lane " << l;
        }
    for (int s = 0; s < 2; ++s)
      for (int t = 0; t < 4; ++t)
        for (int i = 0; i < 2; ++i) {
          const float want = B[(8 * s + b_row(l, i)) * N + 8 * t + b_col(l, i)];
          const size_t at = ((l * 2 + s) * 4 + t) * 2 + i;
          const Tf32Split parts = tf32_split(want);
          EXPECT_EQ(b_packed[at], parts.hi) << "lane " << l;
          EXPECT_EQ(b_packed[b_packed.size() / 2 + at], parts.lo) << "lane " << l;
        }
  }
}

// PackedB from any k-step and 8-column tile: single tiles (a share of 8
// slots, loads of 2) and pairs (loads of 4) hold B's entries, heads and tails
// (each entry needs both: its tail is exact in TF32).
TEST(TensorCores, PackedBFromAnyTile) {
  constexpr int K = 24, N = 64;
  std::vector<float> B(K * N), packed(PackedB::kParts * K * N);
  for (int i = 0; i < K * N; ++i) B[i] = 1.0f + std::ldexp(static_cast<float>(i), -20);
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n) PackedB::store(B[k * N + n], k, n, K, packed.data());
  std::vector<float> one(kWarpSize * 8 * 2), two(kWarpSize * 4 * 2 * 2);
  emulator::run(1, kWarpSize, 0, [&] {
    const int l = lane_id();
    for (int tile = 0; tile < 8; ++tile) {
      float hi[1][2], lo[1][2];
      b_fragments(PackedB{packed.data(), K, 1, tile}, 1, hi, lo);  // k-step 2
      for (int i = 0; i < 2; ++i) one[(l * 8 + tile) * 2 + i] = hi[0][i] + lo[0][i];
    }
    for (int pair = 0; pair < 4; ++pair) {
      float hi[2][2], lo[2][2];
      b_fragments(PackedB{packed.data(), K, 2, 2 * pair}, 0, hi, lo);  // k-step 2
      for (int t = 0; t < 2; ++t)
        for (int i = 0; i < 2; ++i) two[((l * 4 + pair) * 2 + t) * 2 + i] = hi[t][i] + lo[t][i];
    }
  });
  for (int l = 0; l < kWarpSize; ++l)
    for (int tile = 0; tile < 8; ++tile)
      for (int i = 0; i < 2; ++i) {
        const float want = B[(16 + b_row(l, i)) * N + 8 * tile + b_col(l, i)];
        EXPECT_EQ(one[(l * 8 + tile) * 2 + i], want) << "lane " << l << ", tile " << tile;
        EXPECT_EQ(two[((l * 4 + tile / 2) * 2 + tile % 2) * 2 + i], want) << "lane " << l << ", tile " << tile;
      }
}

// C through store_c and load_c: element i of lane l lands at (c_row, c_col).
TEST(TensorCores, AccumulatorsLandWhereTheMapsSay) {
  constexpr int ld = 40;  // a row longer than the block, as the kernels' padded rows
  std::vector<float> stored(32 * ld, -1.0f), reloaded(kWarpSize * 2 * 4 * 4);
  emulator::run(1, kWarpSize, 0, [&] {
    const int l = lane_id();
    Accumulators<2, 4> c;
    for (int m = 0; m < 2; ++m)
      for (int n = 0; n < 4; ++n)
        for (int i = 0; i < 4; ++i) c[m][n][i] = 1000.0f * l + 100.0f * m + 10.0f * n + i;
    store_c(c, stored.data(), ld);
    sync_warp();
    Accumulators<2, 4> back;
    load_c(stored.data(), ld, back);
    for (int m = 0; m < 2; ++m)
      for (int n = 0; n < 4; ++n)
        for (int i = 0; i < 4; ++i) reloaded[((l * 2 + m) * 4 + n) * 4 + i] = back[m][n][i];
  });
  for (int l = 0; l < kWarpSize; ++l)
    for (int m = 0; m < 2; ++m)
      for (int n = 0; n < 4; ++n)
        for (int i = 0; i < 4; ++i) {
          const float value = 1000.0f * l + 100.0f * m + 10.0f * n + i;
          EXPECT_EQ(stored[(16 * m + c_row(l, i)) * ld + 8 * n + c_col(l, i)], value);
          EXPECT_EQ(reloaded[((l * 2 + m) * 4 + n) * 4 + i], value);
        }
  for (int r = 0; r < 32; ++r)
    for (int col = 32; col < ld; ++col) EXPECT_EQ(stored[r * ld + col], -1.0f) << "written past the block";
}

}  // namespace
}  // namespace flashtp::cuda
