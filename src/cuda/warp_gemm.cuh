// A warp's share of a block GEMM: C (+)= A B for a block of 16 MT rows and
// 16 NT columns of C, float, on the tensor cores.
//
// Accuracy is float32's, not TF32's: each factor is split into a TF32 head
// and a TF32 tail, x = x_hi + x_lo (x_lo carries the 13 bits x_hi drops), and
//   a b ~= a_lo b_hi + a_hi b_lo + a_hi b_hi,
// the dropped a_lo b_lo being ~2^-22 of a b ("3xTF32"), smallest terms first.
// The accumulation runs in float on the tensor cores, in a fixed order, so
// results are reproducible.
//
// Off the device (the host emulator, or a chip before Ampere) each lane
// computes its 8 MT NT entries of the block with scalar float sums instead.
#pragma once
#include <cstdint>

#include "cuda/platform.hpp"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#include <mma.h>
#define FLASHTP_TENSOR_CORES 1
#endif

namespace flashtp::cuda {

// How a matrix is stored: element (r, c) at r * ld + c (row) or c * ld + r (column).
enum class Major { row, column };

template <Major M>
FLASHTP_DEVICE constexpr int element_offset(int r, int c, int ld) {
  return M == Major::row ? r * ld + c : c * ld + r;
}

#if defined(FLASHTP_TENSOR_CORES)
namespace wmma_detail {
namespace w = nvcuda::wmma;
template <Major M> struct Layout { using type = w::row_major; };
template <> struct Layout<Major::column> { using type = w::col_major; };

// Round to nearest TF32 (10 mantissa bits, the low 13 zero) by integer
// arithmetic: no inf/NaN branches, |x - head - tail| <= 2^-22 |x|.
__device__ __forceinline__ float tf32_round(float x) {
  return __uint_as_float((__float_as_uint(x) + 0x1000u) & ~0x1fffu);
}
template <class Fragment>
__device__ __forceinline__ void split_tf32(Fragment& hi, Fragment& lo) {
  for (int i = 0; i < hi.num_elements; ++i) {
    const float x = hi.x[i], head = tf32_round(x);
    hi.x[i] = head;
    lo.x[i] = tf32_round(x - head);
  }
}
}  // namespace wmma_detail
#endif

// A pointer as the tensor cores need it: 32-byte aligned.
template <class T>
FLASHTP_DEVICE bool tensor_core_aligned(const T* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 32 == 0;
}

// C[r][c] (+)= sum_{k < K} A[r][k] B[k][c] for r < 16 MT, c < 16 NT, by one warp
// (all 32 lanes call it). C is row-major with leading dimension ldc; A and B
// are stored as MA and MB say. K is a multiple of 8; with the tensor cores,
// the pointers are 32-byte aligned and the leading dimensions multiples of 4.
template <int MT, int NT, Major MA, Major MB>
FLASHTP_DEVICE_ONLY void warp_gemm(int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                                         bool accumulate) {
#if defined(FLASHTP_TENSOR_CORES)
  namespace w = wmma_detail::w;
  using FragA = w::fragment<w::matrix_a, 16, 16, 8, w::precision::tf32, typename wmma_detail::Layout<MA>::type>;
  using FragB = w::fragment<w::matrix_b, 16, 16, 8, w::precision::tf32, typename wmma_detail::Layout<MB>::type>;
  w::fragment<w::accumulator, 16, 16, 8, float> acc[MT][NT];
  FLASHTP_UNROLL
  for (int t = 0; t < MT; ++t) {
    FLASHTP_UNROLL
    for (int u = 0; u < NT; ++u) {
      if (accumulate)
        w::load_matrix_sync(acc[t][u], C + 16 * t * ldc + 16 * u, ldc, w::mem_row_major);
      else
        w::fill_fragment(acc[t][u], 0.0f);
    }
  }
  for (int k = 0; k < K; k += 8) {
    FragA a_hi[MT], a_lo[MT];
    FragB b_hi[NT], b_lo[NT];
    FLASHTP_UNROLL
    for (int t = 0; t < MT; ++t) {
      w::load_matrix_sync(a_hi[t], A + element_offset<MA>(16 * t, k, lda), lda);
      wmma_detail::split_tf32(a_hi[t], a_lo[t]);
    }
    FLASHTP_UNROLL
    for (int u = 0; u < NT; ++u) {
      w::load_matrix_sync(b_hi[u], B + element_offset<MB>(k, 16 * u, ldb), ldb);
      wmma_detail::split_tf32(b_hi[u], b_lo[u]);
    }
    FLASHTP_UNROLL
    for (int t = 0; t < MT; ++t) {
      FLASHTP_UNROLL
      for (int u = 0; u < NT; ++u) {
        w::mma_sync(acc[t][u], a_lo[t], b_hi[u], acc[t][u]);
        w::mma_sync(acc[t][u], a_hi[t], b_lo[u], acc[t][u]);
        w::mma_sync(acc[t][u], a_hi[t], b_hi[u], acc[t][u]);
      }
    }
  }
  FLASHTP_UNROLL
  for (int t = 0; t < MT; ++t) {
    FLASHTP_UNROLL
    for (int u = 0; u < NT; ++u) w::store_matrix_sync(C + 16 * t * ldc + 16 * u, acc[t][u], ldc, w::mem_row_major);
  }
#else
  for (int idx = lane_id(); idx < 16 * MT * 16 * NT; idx += kWarpSize) {
    const int r = idx / (16 * NT), c = idx % (16 * NT);
    float sum = accumulate ? C[r * ldc + c] : 0.0f;
    for (int k = 0; k < K; ++k) sum += A[element_offset<MA>(r, k, lda)] * B[element_offset<MB>(k, c, ldb)];
    C[r * ldc + c] = sum;
  }
#endif
}

}  // namespace flashtp::cuda
