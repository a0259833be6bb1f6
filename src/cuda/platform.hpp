// What kernels need from the machine: qualifiers, thread indices, dynamic
// shared memory, block and warp barriers and warp sums.
//
// Under nvcc these are CUDA's. Compiled by a host compiler they come from the
// emulator (cuda/emulator.hpp): each CUDA thread of a block is a host thread,
// so the same kernel sources run, slowly, on a machine without a GPU, and the
// tests check their logic there (CI) before they meet a device.
#pragma once

#if defined(__CUDACC__)

#define FLASHTP_DEVICE __host__ __device__ __forceinline__
#define FLASHTP_DEVICE_ONLY __device__ __forceinline__
#define FLASHTP_KERNEL __global__
#define FLASHTP_LAUNCH_BOUNDS(threads, blocks_per_sm) __launch_bounds__(threads, blocks_per_sm)
#define FLASHTP_UNROLL _Pragma("unroll")

namespace flashtp::cuda {

constexpr int kWarpSize = 32;

__device__ __forceinline__ unsigned char* shared_memory() {
  extern __shared__ __align__(128) unsigned char flashtp_shared[];
  return flashtp_shared;
}
__device__ __forceinline__ void sync_block() { __syncthreads(); }
__device__ __forceinline__ void sync_warp() { __syncwarp(); }
__device__ __forceinline__ int lane_id() { return threadIdx.x & (kWarpSize - 1); }
__device__ __forceinline__ int warp_id() { return threadIdx.x / kWarpSize; }

__device__ __forceinline__ float shuffle_xor(float v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }
__device__ __forceinline__ double shuffle_xor(double v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }

}  // namespace flashtp::cuda

#else  // host compiler: the emulator

#include "cuda/emulator.hpp"

#endif

namespace flashtp::cuda {

FLASHTP_DEVICE constexpr int power_of_two_at_least(int n) { return n <= 1 ? 1 : 2 * power_of_two_at_least((n + 1) / 2); }

// out[m] += the sum over the warp's lanes of v[m], m < D, one lane writing
// each; all lanes must call it. A reduce-scatter: each step sends half of the values still held to
// the partner lane and keeps the other half, so it takes P - 1 + 5 - log2 P
// shuffles (P: D rounded up to a power of two, at most 32) instead of 5 D.
// The order is fixed, so the result is reproducible.
template <int D, class T>
FLASHTP_DEVICE_ONLY void warp_sum_add(const T (&v)[D], T* out) {
  constexpr int P = power_of_two_at_least(D);
  static_assert(P <= kWarpSize, "at most one value per lane after the scatter");
  T a[P];
  FLASHTP_UNROLL
  for (int m = 0; m < P; ++m) a[m] = m < D ? v[m] : T(0);
  const int lane = lane_id();
  int component = 0;  // the index of a[0] among the D values
  int mask = kWarpSize / 2;
  FLASHTP_UNROLL
  for (int half = P / 2; half >= 1; half /= 2, mask /= 2) {
    const bool upper = (lane & mask) != 0;
    FLASHTP_UNROLL
    for (int i = 0; i < half; ++i) {
      const T keep = upper ? a[i + half] : a[i];
      const T send = upper ? a[i] : a[i + half];
      a[i] = keep + shuffle_xor(send, mask);
    }
    if (upper) component += half;
  }
  for (; mask > 0; mask /= 2) a[0] += shuffle_xor(a[0], mask);
  if ((lane & (kWarpSize / P - 1)) == 0 && component < D) out[component] += a[0];
}

}  // namespace flashtp::cuda
