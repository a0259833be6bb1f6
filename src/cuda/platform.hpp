// What kernels need from the machine: qualifiers, thread indices, dynamic
// shared memory, block barriers and warp sums.
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
#define FLASHTP_UNROLL _Pragma("unroll")

namespace flashtp::cuda {

constexpr int kWarpSize = 32;

__device__ __forceinline__ unsigned char* shared_memory() {
  extern __shared__ __align__(16) unsigned char flashtp_shared[];
  return flashtp_shared;
}
__device__ __forceinline__ void sync_block() { __syncthreads(); }
__device__ __forceinline__ int lane_id() { return threadIdx.x & (kWarpSize - 1); }
__device__ __forceinline__ int warp_id() { return threadIdx.x / kWarpSize; }

__device__ __forceinline__ float shuffle_xor(float v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }
__device__ __forceinline__ double shuffle_xor(double v, int mask) { return __shfl_xor_sync(0xffffffffu, v, mask); }

}  // namespace flashtp::cuda

#else  // host compiler: the emulator

#include "cuda/emulator.hpp"

#endif

namespace flashtp::cuda {

// Sum over the 32 lanes of a warp, every lane receiving the total. All lanes
// must call it; the butterfly order is fixed, so the result is reproducible.
template <class T>
FLASHTP_DEVICE_ONLY T warp_sum(T v) {
  for (int mask = kWarpSize / 2; mask > 0; mask /= 2) v += shuffle_xor(v, mask);
  return v;
}

}  // namespace flashtp::cuda
