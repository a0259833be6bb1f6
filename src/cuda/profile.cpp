// The kernel profile of runtime.hpp, the same on a GPU and on the emulator:
// which launches and host spans took how long, per name, since the last reset.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>

#include "cuda/runtime.hpp"

namespace flashtp::cuda {
namespace {

std::atomic<bool> profiling_on{[] {
  const char* v = std::getenv("FLASHTP_CUDA_PROFILE");
  return v && *v && std::string(v) != "0";
}()};

using Times = std::map<std::string, std::pair<double, int>>;  // name -> (total ms, launches or spans)
struct Profile {
  std::mutex mutex;
  Times kernels, host;
};
Profile& profile() {
  static Profile p;
  return p;
}
void add(Times& times, const std::string& name, double ms) {
  auto& entry = times[name];
  entry.first += ms;
  entry.second += 1;
}

}  // namespace

bool profiling() { return profiling_on.load(); }
void set_profiling(bool on) { profiling_on.store(on); }

void profile_kernel(const char* kernel, double ms) {
  std::lock_guard<std::mutex> lock(profile().mutex);
  add(profile().kernels, kernel, ms);
}
void profile_host(const char* name, double ms) {
  std::lock_guard<std::mutex> lock(profile().mutex);
  add(profile().host, name, ms);
}

double HostSpan::now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::map<std::string, KernelTime> profile_kernels() {
  std::lock_guard<std::mutex> lock(profile().mutex);
  std::map<std::string, KernelTime> out;
  for (const auto& [name, e] : profile().kernels) out[name] = {e.first, e.second};
  return out;
}

std::string profile_report(bool reset) {
  auto& p = profile();
  std::lock_guard<std::mutex> lock(p.mutex);
  std::ostringstream out;
  double total = 0;
  int launches = 0;
  for (const auto& [name, e] : p.kernels) {
    total += e.first;
    launches += e.second;
  }
  auto line = [&](const std::string& name, double ms, int n, const char* what) {
    out << "  " << std::left << std::setw(24) << name << std::right << std::fixed << std::setprecision(3)
        << std::setw(10) << ms << " ms " << std::setw(6) << n << " " << std::left << std::setw(9) << what
        << std::right << std::setprecision(1) << std::setw(6) << 100 * ms / std::max(total, 1e-30) << " %\n";
  };
  for (const auto& [name, e] : p.kernels) line(name, e.first, e.second, "launches");
  line("all kernels", total, launches, "launches");
  // an evaluation's time beyond the kernels': the host's, and launch gaps
  for (const auto& [name, e] : p.host) line("host: " + name, e.first, e.second, "spans");
  if (reset) {
    p.kernels.clear();
    p.host.clear();
  }
  return out.str();
}

}  // namespace flashtp::cuda
