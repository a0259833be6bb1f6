// The runtime of runtime.hpp on the host emulator: "device" memory is host
// memory, filled with NaN bytes when allocated so unwritten reads show.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "cuda/runtime.hpp"
#include "error.hpp"

namespace flashtp::cuda {
namespace {
std::atomic<size_t> in_use{0}, peak{0};
}  // namespace

bool device_available() { return true; }
int device_count() { return 1; }
void select_device(int) {}
std::string device_name() { return "host emulator"; }
size_t shared_memory_limit() { return 227 * 1024; }  // as on an H100

void* device_malloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);  // aligned as cudaMalloc's
  if (!p) throw Error("emulator: out of memory");
  std::memset(p, 0xff, bytes);
  in_use += bytes;
  if (in_use.load() > peak.load()) peak.store(in_use.load());
  return p;
}
void device_free(void* p, size_t bytes) {
  if (!p) return;
  std::free(p);
  in_use -= bytes;
}
void* pinned_malloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = std::malloc(bytes);
  if (!p) throw Error("emulator: out of memory");
  return p;
}
void pinned_free(void* p) { std::free(p); }
void copy_to_device(void* dst, const void* src, size_t bytes) {
  if (bytes) std::memcpy(dst, src, bytes);
}
void copy_to_host(void* dst, const void* src, size_t bytes) {
  if (bytes) std::memcpy(dst, src, bytes);
}
void device_zero(void* p, size_t bytes) {
  if (bytes) std::memset(p, 0, bytes);
}
void synchronize() {}
size_t memory_in_use() { return in_use.load(); }
size_t memory_peak() { return peak.load(); }
void reset_memory_peak() { peak.store(in_use.load()); }
void check_launch(const char*) {}
DevicePeaks device_peaks() { return {}; }  // a host's speed says nothing of a GPU's
namespace {
std::chrono::steady_clock::time_point kernel_start;
}  // namespace
void profile_start() { kernel_start = std::chrono::steady_clock::now(); }
void profile_stop(const char* kernel) {
  const std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - kernel_start;
  profile_kernel(kernel, ms.count());
}
void allow_shared_memory(const void*, size_t) {}
int resident_blocks(const void*, unsigned, size_t) { return 2 * 4; }

}  // namespace flashtp::cuda
