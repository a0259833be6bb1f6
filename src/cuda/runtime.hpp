// The host side of the backend: device memory, copies and kernel launches,
// every CUDA error turned into a flashtp::Error. Implemented by runtime.cu on
// a GPU and by runtime_emulated.cpp on the host emulator.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cuda/platform.hpp"

namespace flashtp::cuda {

bool device_available();  // a usable CUDA device (the emulator always is one)
int device_count();
void select_device(int index);  // the calling thread's current device
std::string device_name();
size_t shared_memory_limit();  // opt-in dynamic shared memory per block, bytes

void* device_malloc(size_t bytes);
void device_free(void* p, size_t bytes);
void* pinned_malloc(size_t bytes);  // page-locked host memory: copies from and to it run at the bus's speed
void pinned_free(void* p);
void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void device_zero(void* p, size_t bytes);
void synchronize();

// Bytes held by device_malloc now, and the most held since the last reset.
size_t memory_in_use();
size_t memory_peak();
void reset_memory_peak();

// What the device can do at most, for rooflines: FLOP/s on the CUDA cores in
// float and double, dense TF32 FLOP/s on the tensor cores, and bytes/s of
// device memory. From the multiprocessors' rates at the device's clocks;
// zero where not known (the emulator, an architecture not listed).
struct DevicePeaks {
  double fp32 = 0, fp64 = 0, tf32 = 0, bandwidth = 0;
};
DevicePeaks device_peaks();

// While profiling (set_profiling, or FLASHTP_CUDA_PROFILE=1 in the
// environment), every launch is timed and synchronised (profile_start and
// profile_stop around it: events on a GPU, the host's clock on the emulator):
// time per kernel name, summed since the last reset (profile.cpp).
bool profiling();
void set_profiling(bool on);
void profile_start();
void profile_stop(const char* kernel);
void profile_kernel(const char* kernel, double ms);  // what profile_stop records
struct KernelTime {
  double ms = 0;
  int launches = 0;
};
std::map<std::string, KernelTime> profile_kernels();  // per kernel name, since the last reset
std::string profile_report(bool reset);

// While profiling, the host's time in a scope (no kernels in it), reported
// after the kernels as "host: <name>".
void profile_host(const char* name, double ms);
class HostSpan {
 public:
  explicit HostSpan(const char* name) : name_(name), start_(profiling() ? now_ms() : -1) {}
  ~HostSpan() {
    if (start_ >= 0) profile_host(name_, now_ms() - start_);
  }
  HostSpan(const HostSpan&) = delete;
  HostSpan& operator=(const HostSpan&) = delete;

 private:
  static double now_ms();
  const char* name_;
  double start_;
};

// Throws flashtp::Error naming the kernel if its launch failed.
void check_launch(const char* kernel);
// Lets the kernel take `bytes` of dynamic shared memory (a no-op within the
// 48 KiB every kernel may take).
void allow_shared_memory(const void* kernel, size_t bytes);
// Blocks of a kernel (of `threads` threads and `shared_bytes` of dynamic
// shared memory) the device runs at once: its multiprocessors times the
// blocks each holds (the emulator: 2 x 4).
int resident_blocks(const void* kernel, unsigned threads, size_t shared_bytes);
template <class... Params>
int resident_blocks(void (*kernel)(Params...), unsigned threads, size_t shared_bytes) {
  allow_shared_memory(reinterpret_cast<const void*>(kernel), shared_bytes);
  return resident_blocks(reinterpret_cast<const void*>(kernel), threads, shared_bytes);
}

// Memory of a Space that grows on demand (contents are not kept when it
// grows): Space::allocate(bytes), Space::release(p, bytes).
template <class T, class Space>
class GrowingArray {
 public:
  GrowingArray() = default;
  GrowingArray(const GrowingArray&) = delete;
  GrowingArray& operator=(const GrowingArray&) = delete;
  GrowingArray(GrowingArray&& o) noexcept { *this = std::move(o); }
  GrowingArray& operator=(GrowingArray&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(capacity_, o.capacity_);
    return *this;
  }
  ~GrowingArray() { Space::release(data_, capacity_ * sizeof(T)); }

  T* reserve(size_t n) {
    if (n > capacity_) {
      Space::release(data_, capacity_ * sizeof(T));
      data_ = nullptr;
      capacity_ = 0;
      data_ = static_cast<T*>(Space::allocate(n * sizeof(T)));
      capacity_ = n;
    }
    return data_;
  }
  T* data() const { return data_; }

 private:
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

struct DeviceMemory {
  static void* allocate(size_t bytes) { return device_malloc(bytes); }
  static void release(void* p, size_t bytes) { device_free(p, bytes); }
};
struct PinnedMemory {
  static void* allocate(size_t bytes) { return pinned_malloc(bytes); }
  static void release(void* p, size_t) { pinned_free(p); }
};

// A device array that grows on demand, and the copies to and from it.
template <class T>
class DeviceArray : public GrowingArray<T, DeviceMemory> {
 public:
  T* upload(const T* src, size_t n) {
    T* p = this->reserve(n);
    copy_to_device(p, src, n * sizeof(T));
    return p;
  }
  T* upload(const std::vector<T>& v) { return upload(v.data(), v.size()); }
  T* zeros(size_t n) {
    T* p = this->reserve(n);
    device_zero(p, n * sizeof(T));
    return p;
  }
  void download(T* dst, size_t n, size_t offset = 0) const {
    copy_to_host(dst, this->data() + offset, n * sizeof(T));
  }
};

// Page-locked host memory: what goes to the device, or comes back, at every step.
template <class T>
using PinnedArray = GrowingArray<T, PinnedMemory>;

// Runs kernel<<<grid, threads, shared_bytes>>>(args...) (or its emulation).
template <class... Params, class... Args>
void launch(const char* name, void (*kernel)(Params...), unsigned grid, unsigned threads, size_t shared_bytes,
            Args&&... args) {
  if (grid == 0) return;
  allow_shared_memory(reinterpret_cast<const void*>(kernel), shared_bytes);
  const bool timed = profiling();
  if (timed) profile_start();
#if defined(__CUDACC__)
  kernel<<<grid, threads, shared_bytes>>>(std::forward<Args>(args)...);
  check_launch(name);
#else
  emulator::run(grid, threads, shared_bytes, [&] { kernel(args...); });
#endif
  if (timed) profile_stop(name);
}

}  // namespace flashtp::cuda
