#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <utility>

#include "cuda/runtime.hpp"
#include "error.hpp"

namespace flashtp::cuda {
namespace {

void check(cudaError_t status, const std::string& what) {
  if (status != cudaSuccess) throw Error("CUDA: " + what + ": " + cudaGetErrorString(status));
}

std::atomic<size_t> in_use{0}, peak{0};

}  // namespace

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return count;
}

bool device_available() { return device_count() > 0; }

void select_device(int index) { check(cudaSetDevice(index), "cudaSetDevice(" + std::to_string(index) + ")"); }

std::string device_name() {
  cudaDeviceProp prop{};
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return prop.name;
}

size_t shared_memory_limit() {
  int device = 0, bytes = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), "shared memory limit");
  return static_cast<size_t>(bytes);
}

DevicePeaks device_peaks() {
  int device = 0, major = 0, minor = 0, sms = 0, clock_khz = 0, memory_khz = 0, bus_bits = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  const std::pair<int*, cudaDeviceAttr> attributes[] = {
      {&major, cudaDevAttrComputeCapabilityMajor}, {&minor, cudaDevAttrComputeCapabilityMinor},
      {&sms, cudaDevAttrMultiProcessorCount},      {&clock_khz, cudaDevAttrClockRate},
      {&memory_khz, cudaDevAttrMemoryClockRate},   {&bus_bits, cudaDevAttrGlobalMemoryBusWidth}};
  for (const auto& [value, attribute] : attributes)
    check(cudaDeviceGetAttribute(value, attribute, device), "device attribute");
  // FLOP per clock and multiprocessor (2 per multiply-add) of the data-centre
  // parts the engine is built for: float, double, dense TF32 on the tensor cores
  struct Rates {
    double fp32, fp64, tf32;
  };
  Rates rates{};
  if (major == 9 && minor == 0) rates = {256, 128, 2048};  // H100, H200
  if (major == 8 && minor == 0) rates = {128, 64, 1024};   // A100
  const double per_sm = 1e3 * clock_khz * sms;
  // double data rate: two transfers per memory clock
  return {rates.fp32 * per_sm, rates.fp64 * per_sm, rates.tf32 * per_sm, 2e3 * memory_khz * (bus_bits / 8.0)};
}

void* device_malloc(size_t bytes) {
  void* p = nullptr;
  if (bytes == 0) return nullptr;
  const cudaError_t status = cudaMalloc(&p, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw Error("CUDA: out of device memory allocating " + std::to_string(bytes >> 20) + " MiB (" +
                std::to_string(in_use.load() >> 20) + " MiB already held by flashtp)");
  }
  in_use += bytes;
  size_t seen = peak.load();
  while (in_use.load() > seen && !peak.compare_exchange_weak(seen, in_use.load())) {
  }
  return p;
}

void device_free(void* p, size_t bytes) {
  if (!p) return;
  cudaFree(p);
  in_use -= bytes;
}

void* pinned_malloc(size_t bytes) {
  void* p = nullptr;
  if (bytes == 0) return nullptr;
  if (cudaMallocHost(&p, bytes) != cudaSuccess) {
    cudaGetLastError();
    throw Error("CUDA: out of page-locked host memory allocating " + std::to_string(bytes >> 20) + " MiB");
  }
  return p;
}
void pinned_free(void* p) {
  if (p) cudaFreeHost(p);
}

void copy_to_device(void* dst, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "copy to device");
}
void copy_to_host(void* dst, const void* src, size_t bytes) {
  if (bytes) check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "copy to host");
}
void device_zero(void* p, size_t bytes) {
  if (bytes) check(cudaMemsetAsync(p, 0, bytes), "memset");
}
void synchronize() { check(cudaDeviceSynchronize(), "synchronize"); }

size_t memory_in_use() { return in_use.load(); }
size_t memory_peak() { return peak.load(); }
void reset_memory_peak() { peak.store(in_use.load()); }

namespace {
cudaEvent_t kernel_start = nullptr, kernel_stop = nullptr;
}  // namespace

void profile_start() {
  if (!kernel_start) {
    check(cudaEventCreate(&kernel_start), "cudaEventCreate");
    check(cudaEventCreate(&kernel_stop), "cudaEventCreate");
  }
  check(cudaEventRecord(kernel_start), "cudaEventRecord");
}

void profile_stop(const char* kernel) {
  check(cudaEventRecord(kernel_stop), "cudaEventRecord");
  check(cudaEventSynchronize(kernel_stop), "cudaEventSynchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, kernel_start, kernel_stop), "cudaEventElapsedTime");
  profile_kernel(kernel, ms);
}

void check_launch(const char* kernel) { check(cudaGetLastError(), std::string("launch of ") + kernel); }

void allow_shared_memory(const void* kernel, size_t bytes) {
  if (bytes <= 48 * 1024) return;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
        "shared memory of " + std::to_string(bytes) + " bytes");
}

int resident_blocks(const void* kernel, unsigned threads, size_t shared_bytes) {
  int device = 0, sms = 0, per_sm = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "multiprocessor count");
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, static_cast<int>(threads), shared_bytes),
        "occupancy");
  return std::max(1, sms * per_sm);
}

}  // namespace flashtp::cuda
