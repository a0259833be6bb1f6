// What kernels need from the machine: qualifiers, thread indices, dynamic
// shared memory, block and warp barriers, warp sums and prefetches.
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

__device__ __forceinline__ unsigned ballot(bool p) { return __ballot_sync(0xffffffffu, p); }
__device__ __forceinline__ int popcount(unsigned m) { return __popc(m); }
__device__ __forceinline__ float shuffle_xor(float v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }
__device__ __forceinline__ double shuffle_xor(double v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }
// Asks for the cache line holding p in L1 (and L2), and goes on: a load of
// it later waits less. No register holds the line.
__device__ __forceinline__ void prefetch(const void* p) { asm volatile("prefetch.global.L1 [%0];" ::"l"(p)); }
// *counter += add, atomically; returns the value before.
__device__ __forceinline__ int fetch_add(int* counter, int add) { return atomicAdd(counter, add); }

}  // namespace flashtp::cuda

#else  // host compiler: the emulator

#include "cuda/emulator.hpp"

#endif

namespace flashtp::cuda {

FLASHTP_DEVICE constexpr int power_of_two_at_least(int n) { return n <= 1 ? 1 : 2 * power_of_two_at_least((n + 1) / 2); }

// N values of T moved as one aligned vector (one load or store of up to 16 bytes).
template <class T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

namespace lanes_detail {
// The steps of lanes_sum_add from lane bit MASK down to STOP, the lane holding
// HELD values a[0 .. HELD) (components from `component`).
template <int MASK, int STOP, int HELD, int P, class T>
FLASHTP_DEVICE_ONLY void steps(T (&a)[P], int lane, int& component, bool& writer) {
  if constexpr (MASK >= STOP) {
    const bool upper = (lane & MASK) != 0;
    if constexpr (HELD > 1) {
      constexpr int half = HELD / 2;
      FLASHTP_UNROLL
      for (int i = 0; i < half; ++i) {
        const T keep = upper ? a[i + half] : a[i];
        const T send = upper ? a[i] : a[i + half];
        a[i] = keep + shuffle_xor(send, MASK);
      }
      if (upper) component += half;
      steps<MASK / 2, STOP, half>(a, lane, component, writer);
    } else {
      a[0] += shuffle_xor(a[0], MASK);
      if (upper) writer = false;
      steps<MASK / 2, STOP, 1>(a, lane, component, writer);
    }
  }
}
}  // namespace lanes_detail

// out[m] += the sum of v[m], m < D, over a set of SPAN lanes (a power of two):
// those whose ids differ only in the bits STRIDE, 2 STRIDE, ..., SPAN STRIDE / 2.
// Each sum is written once, by one lane of the set, where write is true (the
// same for the whole set); every lane of the warp must call it. A
// reduce-scatter: each step sends half of the values still held to the
// partner lane and keeps the other half, then, once a lane holds one value,
// plain butterflies; P - 1 + log2(SPAN / P) shuffles (P: D rounded up to a
// power of two, when P <= SPAN) instead of D log2 SPAN. The order is fixed, so
// the result is reproducible.
template <int D, int SPAN, int STRIDE, class T>
FLASHTP_DEVICE_ONLY void lanes_sum_add(const T (&v)[D], T* out, bool write) {
  constexpr int P = power_of_two_at_least(D);
  constexpr int held = P > SPAN ? P / SPAN : 1;  // values per lane after the scatter
  T a[P];
  FLASHTP_UNROLL
  for (int m = 0; m < P; ++m) a[m] = m < D ? v[m] : T(0);
  int component = 0;     // this lane holds components [component, component + held)
  bool writer = true;    // false once the lane has a butterfly partner with the same sums
  lanes_detail::steps<STRIDE * SPAN / 2, STRIDE, P>(a, lane_id(), component, writer);
  if (!write || !writer) return;
  FLASHTP_UNROLL
  for (int i = 0; i < held; ++i)
    if (component + i < D) out[component + i] += a[i];
}

}  // namespace flashtp::cuda
