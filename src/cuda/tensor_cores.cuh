// Float GEMMs on the tensor cores, one warp per block of C, with float32's
// accuracy rather than TF32's.
//
// Each factor is split into a TF32 head and a TF32 tail, x = x_hi + x_lo
// (x_lo carries the 13 bits x_hi drops), and
//   a b ~= a_lo b_hi + a_hi b_lo + a_hi b_hi,
// the dropped a_lo b_lo being ~2^-22 of a b ("3xTF32"), smallest terms first,
// accumulated in float on the tensor cores in a fixed order (reproducible).
//
// The instruction is mma.sync m16n8k8: C[16][8] += A[16][8] B[8][8], each
// operand spread over the warp's lanes as "fragments". Lane l = 4 g + t holds
//   A: a[i] = A[g + 8 (i & 1)][t + 4 (i >> 1)],  i < 4
//   B: b[i] = B[t + 4 i][g],                      i < 2
//   C: c[i] = C[g + 8 (i >> 1)][2 t + (i & 1)],   i < 4.
// An operand is read through a source that knows its storage and gives both a
// lane's fragments (the device) and single elements (everywhere else: the
// host emulator, chips before Ampere, and tests of the layouts). Two packed
// layouts make fragments single vector loads:
//   PackedA: a block's activations in shared memory, already split, per
//     (16-row tile, k-step) the 32 lanes' heads (4 each), then their tails;
//   PackedB: a weight matrix in global memory, per (pair of 8-column tiles,
//     k-step) each lane's b[0], b[1] of both tiles as 4 consecutive floats,
//     already split (the 32 lanes' heads, then their tails).
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cuda/platform.hpp"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#define FLASHTP_TENSOR_CORES 1
#endif

namespace flashtp::cuda {

constexpr int kMmaRows = 16, kMmaCols = 8, kMmaDepth = 8;

// Where fragment element i of lane l sits in its tile.
FLASHTP_DEVICE constexpr int a_row(int l, int i) { return l / 4 + 8 * (i & 1); }
FLASHTP_DEVICE constexpr int a_col(int l, int i) { return l % 4 + 4 * (i >> 1); }
FLASHTP_DEVICE constexpr int b_row(int l, int i) { return l % 4 + 4 * i; }
FLASHTP_DEVICE constexpr int b_col(int l, int) { return l / 4; }
FLASHTP_DEVICE constexpr int c_row(int l, int i) { return l / 4 + 8 * (i >> 1); }
FLASHTP_DEVICE constexpr int c_col(int l, int i) { return 2 * (l % 4) + (i & 1); }
// ... and the inverse: the lane and element of A[r][k], B[k][n] in a tile.
FLASHTP_DEVICE constexpr int a_lane(int r, int k) { return 4 * (r % 8) + k % 4; }
FLASHTP_DEVICE constexpr int a_element(int r, int k) { return r / 8 + 2 * (k / 4); }
FLASHTP_DEVICE constexpr int b_lane(int k, int n) { return 4 * n + k % 4; }
FLASHTP_DEVICE constexpr int b_element(int k, int) { return k / 4; }

// Round to nearest TF32 (10 mantissa bits, the low 13 zero) by integer
// arithmetic: no inf/NaN branches; then |x - hi - lo| <= 2^-22 |x|.
FLASHTP_DEVICE float tf32_round(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, 4);
  bits = (bits + 0x1000u) & ~0x1fffu;
  std::memcpy(&x, &bits, 4);
  return x;
}
struct Tf32Split {
  float hi, lo;
};
FLASHTP_DEVICE Tf32Split tf32_split(float x) {
  const float hi = tf32_round(x);
  return {hi, tf32_round(x - hi)};
}

// A's fragments gathered element by element from any source with element():
// whole, or split as they are loaded.
template <class Source>
FLASHTP_DEVICE_ONLY float a_fragment_element(const Source& A, int tile, int step, int i) {
  const int l = lane_id();
  return A.element(kMmaRows * tile + a_row(l, i), kMmaDepth * step + a_col(l, i));
}
template <class Source>
FLASHTP_DEVICE_ONLY void gather_a(const Source& A, int tile, int step, float (&a)[4]) {
  FLASHTP_UNROLL
  for (int i = 0; i < 4; ++i) a[i] = a_fragment_element(A, tile, step, i);
}
template <class Source>
FLASHTP_DEVICE_ONLY void gather_a(const Source& A, int tile, int step, float (&hi)[4], float (&lo)[4]) {
  FLASHTP_UNROLL
  for (int i = 0; i < 4; ++i) {
    const Tf32Split s = tf32_split(a_fragment_element(A, tile, step, i));
    hi[i] = s.hi, lo[i] = s.lo;
  }
}
// Marks an A source in global memory whose fragments are gathered element by
// element (gather_a): warp_mma loads them whole a k-step ahead and splits them
// when they are used.
struct GatheredA {};
template <class Source>
inline constexpr bool gathered_a = std::is_base_of_v<GatheredA, Source>;

// A[r][k] at p[r * ld + k].
struct RowMajorA {
  const float* p;
  int ld;
  FLASHTP_DEVICE_ONLY void fragment(int tile, int step, float (&hi)[4], float (&lo)[4]) const {
    gather_a(*this, tile, step, hi, lo);
  }
  FLASHTP_DEVICE_ONLY float element(int r, int k) const { return p[r * ld + k]; }
};

// A rows x K matrix (rows a multiple of 16, K of 8), split and packed:
// element (r, k) of tile (r / 16, k / 8) at block (r / 16) (K / 8) + k / 8,
// each block 256 floats: 4 heads per lane, then 4 tails per lane.
struct PackedA {
  static constexpr int kBlock = 2 * 4 * kWarpSize;
  FLASHTP_DEVICE static int offset(int r, int k, int K) {
    const int rr = r % kMmaRows, kk = k % kMmaDepth;
    return (r / kMmaRows * (K / kMmaDepth) + k / kMmaDepth) * kBlock + 4 * a_lane(rr, kk) + a_element(rr, kk);
  }
  // p[offset(r, k)] = head, + 4 * kWarpSize: tail
  FLASHTP_DEVICE static void store(float x, int r, int k, int K, float* p) {
    const Tf32Split s = tf32_split(x);
    p[offset(r, k, K)] = s.hi;
    p[offset(r, k, K) + 4 * kWarpSize] = s.lo;
  }

  const float* p;
  int K;
  FLASHTP_DEVICE_ONLY void fragment(int tile, int step, float (&hi)[4], float (&lo)[4]) const {
    const float* block = p + (tile * (K / kMmaDepth) + step) * kBlock + 4 * lane_id();
    const Pack<float, 4> h = *reinterpret_cast<const Pack<float, 4>*>(block);
    const Pack<float, 4> t = *reinterpret_cast<const Pack<float, 4>*>(block + 4 * kWarpSize);
    FLASHTP_UNROLL
    for (int i = 0; i < 4; ++i) hi[i] = h.v[i], lo[i] = t.v[i];
  }
  FLASHTP_DEVICE_ONLY float element(int r, int k) const {
    const int at = offset(r, k, K);
    return p[at] + p[at + 4 * kWarpSize];
  }
};

// A rows x N matrix (rows a multiple of 8, N of 16) split into TF32 heads and
// tails and packed for B fragments: element (k, n)'s head at
// ((n / 16) (rows / 8) + k / 8) 256 + 4 lane + 2 ((n / 8) % 2) + element,
// lane and element those of (k % 8, n % 8) in its tile, its tail 128
// further. A source reads the sub-matrix from k-step `step0` and 8-column
// tile `tile0` on (an even tile when it reads pairs of tiles, NT even). A
// load takes two registers an element and no instructions after.
struct PackedB {
  static constexpr int kParts = 2, kBlock = kParts * 4 * kWarpSize;
  template <int NT>
  using Loaded = float[kParts][NT][2];
  FLASHTP_DEVICE static int64_t offset(int k, int n, int rows) {
    const int kk = k % kMmaDepth, nn = n % kMmaCols;
    return (static_cast<int64_t>(n / 16) * (rows / kMmaDepth) + k / kMmaDepth) * kBlock + 4 * b_lane(kk, nn) +
           2 * (n / kMmaCols % 2) + b_element(kk, nn);
  }
  FLASHTP_DEVICE static void store(float x, int k, int n, int rows, float* p) {
    const int64_t at = offset(k, n, rows);
    const Tf32Split s = tf32_split(x);
    p[at] = s.hi;
    p[at + 4 * kWarpSize] = s.lo;
  }

  const float* p;
  int rows, step0, tile0;
  template <int NT>
  FLASHTP_DEVICE_ONLY void load(int step, Loaded<NT>& b) const {
    auto block = [&](int pair, int part) {
      return p + (static_cast<int64_t>(pair) * (rows / kMmaDepth) + step0 + step) * kBlock + part * 4 * kWarpSize +
             4 * lane_id();
    };
    FLASHTP_UNROLL
    for (int part = 0; part < kParts; ++part) {
      if constexpr (NT % 2 == 0) {  // both tiles of a pair, one load
        FLASHTP_UNROLL
        for (int q = 0; q < NT / 2; ++q) {
          const Pack<float, 4> v = *reinterpret_cast<const Pack<float, 4>*>(block(tile0 / 2 + q, part));
          FLASHTP_UNROLL
          for (int i = 0; i < 4; ++i) b[part][2 * q + i / 2][i % 2] = v.v[i];
        }
      } else {  // one tile a load
        FLASHTP_UNROLL
        for (int t = 0; t < NT; ++t) {
          const int tile = tile0 + t;
          const Pack<float, 2> v = *reinterpret_cast<const Pack<float, 2>*>(block(tile / 2, part) + 2 * (tile % 2));
          b[part][t][0] = v.v[0], b[part][t][1] = v.v[1];
        }
      }
    }
  }
  template <int NT>
  FLASHTP_DEVICE_ONLY static void split(const Loaded<NT>& b, float (&hi)[NT][2], float (&lo)[NT][2]) {
    FLASHTP_UNROLL
    for (int t = 0; t < NT; ++t) {
      FLASHTP_UNROLL
      for (int i = 0; i < 2; ++i) hi[t][i] = b[0][t][i], lo[t][i] = b[1][t][i];
    }
  }
  FLASHTP_DEVICE_ONLY float element(int k, int n) const {
    const int64_t at = offset(kMmaDepth * step0 + k, kMmaCols * tile0 + n, rows);
    return p[at] + p[at + 4 * kWarpSize];
  }
};

// C[r][n] of a warp's block, MT x NT tiles of 16 x 8, in fragments.
template <int MT, int NT>
using Accumulators = float[MT][NT][4];

// A lane's accumulator x, its elements flattened as [m][n][i], and where it
// sits in the warp's block of C.
template <int MT, int NT>
FLASHTP_DEVICE_ONLY float& accumulator(Accumulators<MT, NT>& c, int x) {
  return c[x / (4 * NT)][x / 4 % NT][x % 4];
}
template <int MT, int NT>
FLASHTP_DEVICE_ONLY float accumulator(const Accumulators<MT, NT>& c, int x) {
  return c[x / (4 * NT)][x / 4 % NT][x % 4];
}
template <int NT>
FLASHTP_DEVICE constexpr int accumulator_row(int l, int x) {
  return kMmaRows * (x / (4 * NT)) + c_row(l, x % 4);
}
template <int NT>
FLASHTP_DEVICE constexpr int accumulator_col(int l, int x) {
  return kMmaCols * (x / 4 % NT) + c_col(l, x % 4);
}

template <int MT, int NT>
FLASHTP_DEVICE_ONLY void zero_accumulators(Accumulators<MT, NT>& c) {
  FLASHTP_UNROLL
  for (int x = 0; x < MT * NT * 4; ++x) accumulator(c, x) = 0.0f;
}
// C <-> a row-major p[r * ld + n] (load_c is the accumulate case)
template <int MT, int NT>
FLASHTP_DEVICE_ONLY void load_c(const float* p, int ld, Accumulators<MT, NT>& c) {
  const int l = lane_id();
  FLASHTP_UNROLL
  for (int x = 0; x < MT * NT * 4; ++x) accumulator(c, x) = p[accumulator_row<NT>(l, x) * ld + accumulator_col<NT>(l, x)];
}
template <int MT, int NT>
FLASHTP_DEVICE_ONLY void store_c(const Accumulators<MT, NT>& c, float* p, int ld) {
  const int l = lane_id();
  FLASHTP_UNROLL
  for (int x = 0; x < MT * NT * 4; x += 2) {  // elements 2h, 2h + 1: one row, two adjacent columns
    const Pack<float, 2> v{{accumulator(c, x), accumulator(c, x + 1)}};
    *reinterpret_cast<Pack<float, 2>*>(p + accumulator_row<NT>(l, x) * ld + accumulator_col<NT>(l, x)) = v;
  }
}

#if defined(FLASHTP_TENSOR_CORES)
// c += a b, one m16n8k8 TF32 product of the warp
__device__ __forceinline__ void mma_tf32(float (&c)[4], const float (&a)[4], const float (&b)[2]) {
  asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(__float_as_uint(a[0])), "r"(__float_as_uint(a[1])), "r"(__float_as_uint(a[2])),
        "r"(__float_as_uint(a[3])), "r"(__float_as_uint(b[0])), "r"(__float_as_uint(b[1])));
}
#endif

// How C sums over k: on the tensor cores, whose additions truncate (a long
// sum drifts toward zero by up to ~2^-23 of C per step), or each k-step's
// products on the tensor cores, added to C in float, rounded to nearest
// (4 more instructions per tile and step).
enum class Sums { on_tensor_cores, rounded_per_step };

// C += A B over `steps` k-steps of 8, for the warp's MT x NT tiles (all 32
// lanes call it): A's rows 16 MT, B's columns 8 NT, from their sources. A's
// fragments come split (a GatheredA's are split here, and always loaded a
// step ahead), B's as its source splits them, and with `ahead` each step's
// are loaded during the step before (B is global memory; the registers this
// takes are worth it where nothing spills for them).
template <bool ahead = true, Sums sums = Sums::on_tensor_cores, int MT, int NT, class SourceA, class SourceB>
FLASHTP_DEVICE_ONLY void warp_mma(int steps, const SourceA& A, const SourceB& B, Accumulators<MT, NT>& c) {
#if defined(FLASHTP_TENSOR_CORES)
  typename SourceB::template Loaded<NT> b_next;
  float a_next[MT][4];  // gathered A's whole fragments, a step ahead
  auto load_a = [&](int step) {
    FLASHTP_UNROLL
    for (int m = 0; m < MT; ++m) gather_a(A, m, step, a_next[m]);
  };
  if (ahead && steps > 0) B.template load<NT>(0, b_next);
  if constexpr (gathered_a<SourceA>) {
    if (steps > 0) load_a(0);
  }
  for (int s = 0; s < steps; ++s) {
    float a_hi[MT][4], a_lo[MT][4], b_hi[NT][2], b_lo[NT][2];
    if (!ahead) B.template load<NT>(s, b_next);
    SourceB::template split<NT>(b_next, b_hi, b_lo);
    if (ahead && s + 1 < steps) B.template load<NT>(s + 1, b_next);
    if constexpr (gathered_a<SourceA>) {
      FLASHTP_UNROLL
      for (int x = 0; x < MT * 4; ++x) {
        const Tf32Split a = tf32_split(a_next[x / 4][x % 4]);
        a_hi[x / 4][x % 4] = a.hi, a_lo[x / 4][x % 4] = a.lo;
      }
      if (s + 1 < steps) load_a(s + 1);
    } else {
      FLASHTP_UNROLL
      for (int m = 0; m < MT; ++m) A.fragment(m, s, a_hi[m], a_lo[m]);
    }
    FLASHTP_UNROLL
    for (int m = 0; m < MT; ++m) {
      FLASHTP_UNROLL
      for (int n = 0; n < NT; ++n) {
        float step[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        float(&sum)[4] = sums == Sums::on_tensor_cores ? c[m][n] : step;
        mma_tf32(sum, a_lo[m], b_hi[n]);
        mma_tf32(sum, a_hi[m], b_lo[n]);
        mma_tf32(sum, a_hi[m], b_hi[n]);
        if constexpr (sums == Sums::rounded_per_step) {
          FLASHTP_UNROLL
          for (int i = 0; i < 4; ++i) c[m][n][i] += step[i];
        }
      }
    }
  }
#else  // each lane its own elements of C, by float sums
  const int l = lane_id();
  for (int x = 0; x < MT * NT * 4; ++x) {
    const int r = accumulator_row<NT>(l, x), col = accumulator_col<NT>(l, x);
    float& sum = accumulator(c, x);
    for (int k = 0; k < kMmaDepth * steps; ++k) sum += A.element(r, k) * B.element(k, col);
  }
#endif
}

}  // namespace flashtp::cuda
