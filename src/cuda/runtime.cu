#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>

#include "cuda/runtime.hpp"
#include "error.hpp"

namespace flashtp::cuda {
namespace {

void check(cudaError_t status, const std::string& what) {
  if (status != cudaSuccess) throw Error("CUDA: " + what + ": " + cudaGetErrorString(status));
}

std::atomic<size_t> in_use{0}, peak{0};

}  // namespace

bool device_available() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return false;
  }
  return count > 0;
}

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

void check_launch(const char* kernel) { check(cudaGetLastError(), std::string("launch of ") + kernel); }

void allow_shared_memory(const void* kernel, size_t bytes) {
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
        "shared memory of " + std::to_string(bytes) + " bytes");
}

}  // namespace flashtp::cuda
