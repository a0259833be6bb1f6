#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <map>
#include <sstream>

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
std::atomic<bool> profiling_on{[] {
  const char* v = std::getenv("FLASHTP_CUDA_PROFILE");
  return v && *v && std::string(v) != "0";
}()};
}  // namespace

bool profiling() { return profiling_on.load(); }
void set_profiling(bool on) { profiling_on.store(on); }

namespace {
using Times = std::map<std::string, std::pair<double, int>>;  // name -> (total ms, launches or spans)
struct KernelTimes {
  cudaEvent_t start = nullptr, stop = nullptr;
  Times ms, host_ms;
};
void add(Times& times, const std::string& name, double ms) {
  auto& entry = times[name];
  entry.first += ms;
  entry.second += 1;
}
KernelTimes& kernel_times() {
  static KernelTimes t;
  if (!t.start) {
    check(cudaEventCreate(&t.start), "cudaEventCreate");
    check(cudaEventCreate(&t.stop), "cudaEventCreate");
  }
  return t;
}
}  // namespace

void profile_start() { check(cudaEventRecord(kernel_times().start), "cudaEventRecord"); }

void profile_stop(const char* kernel) {
  auto& t = kernel_times();
  check(cudaEventRecord(t.stop), "cudaEventRecord");
  check(cudaEventSynchronize(t.stop), "cudaEventSynchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, t.start, t.stop), "cudaEventElapsedTime");
  add(t.ms, kernel, ms);
}

void profile_host(const char* name, double ms) { add(kernel_times().host_ms, name, ms); }

double HostSpan::now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string profile_report(bool reset) {
  auto& t = kernel_times();
  std::ostringstream out;
  double total = 0;
  int launches = 0;
  for (const auto& [name, e] : t.ms) {
    total += e.first;
    launches += e.second;
  }
  auto line = [&](const std::string& name, double ms, int n, const char* what) {
    out << "  " << std::left << std::setw(24) << name << std::right << std::fixed << std::setprecision(3)
        << std::setw(10) << ms << " ms " << std::setw(6) << n << " " << std::left << std::setw(9) << what
        << std::right << std::setprecision(1) << std::setw(6) << 100 * ms / std::max(total, 1e-30) << " %\n";
  };
  for (const auto& [name, e] : t.ms) line(name, e.first, e.second, "launches");
  line("all kernels", total, launches, "launches");
  // an evaluation's time beyond the kernels': the host's, and launch gaps
  for (const auto& [name, e] : t.host_ms) line("host: " + name, e.first, e.second, "spans");
  if (reset) {
    t.ms.clear();
    t.host_ms.clear();
  }
  return out.str();
}

void check_launch(const char* kernel) { check(cudaGetLastError(), std::string("launch of ") + kernel); }

void allow_shared_memory(const void* kernel, size_t bytes) {
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
        "shared memory of " + std::to_string(bytes) + " bytes");
}

}  // namespace flashtp::cuda
