// A CUDA execution model on the host, for testing kernels without a GPU.
//
// A launch runs every block of a 1-D grid in turn; within a block, each CUDA
// thread is a host thread, so __syncthreads is a real barrier and shared
// memory is one buffer seen by all of them. Warps exchange values through
// per-warp slots and barriers. Shared memory and fresh allocations are filled
// with NaN bytes, so a read of something no thread wrote shows in the result.
// Slow (one OS thread per CUDA thread) and meant for small graphs only.
#pragma once
#include <cstddef>
#include <functional>

#define FLASHTP_DEVICE inline
#define FLASHTP_DEVICE_ONLY inline
#define FLASHTP_KERNEL
#define FLASHTP_LAUNCH_BOUNDS(threads, blocks_per_sm)
#define FLASHTP_UNROLL

namespace flashtp::cuda {

constexpr int kWarpSize = 32;

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

namespace emulator {

struct Block;
struct ThreadState {
  Dim3 thread, block, block_dim, grid_dim;
  unsigned char* shared = nullptr;
  Block* owner = nullptr;
};
extern thread_local ThreadState current;

void barrier();
void warp_barrier();
double exchange_xor(double v, int mask);
unsigned ballot(bool p);

// Runs body once per CUDA thread of every block.
void run(unsigned grid, unsigned block, size_t shared_bytes, const std::function<void()>& body);

}  // namespace emulator

inline unsigned char* shared_memory() { return emulator::current.shared; }
inline void sync_block() { emulator::barrier(); }
inline void sync_warp() { emulator::warp_barrier(); }
inline int lane_id() { return static_cast<int>(emulator::current.thread.x) % kWarpSize; }
inline int warp_id() { return static_cast<int>(emulator::current.thread.x) / kWarpSize; }
inline unsigned ballot(bool p) { return emulator::ballot(p); }
inline int popcount(unsigned m) { return __builtin_popcount(m); }
inline float shuffle_xor(float v, int mask) { return static_cast<float>(emulator::exchange_xor(v, mask)); }
inline double shuffle_xor(double v, int mask) { return emulator::exchange_xor(v, mask); }
inline void prefetch(const void*) {}
inline int fetch_add(int* counter, int add) { return __atomic_fetch_add(counter, add, __ATOMIC_SEQ_CST); }

}  // namespace flashtp::cuda

#define threadIdx (::flashtp::cuda::emulator::current.thread)
#define blockIdx (::flashtp::cuda::emulator::current.block)
#define blockDim (::flashtp::cuda::emulator::current.block_dim)
#define gridDim (::flashtp::cuda::emulator::current.grid_dim)
