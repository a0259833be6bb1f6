// Wall time of a piece of work for the benchmarks: the median in
// milliseconds of `repeat` runs after `warmup` runs.
#pragma once
#include <algorithm>
#include <chrono>
#include <vector>

namespace flashtp {

template <class Work>
double median_ms(int repeat, int warmup, Work&& work) {
  for (int k = 0; k < warmup; ++k) work();
  std::vector<double> ms;
  for (int k = 0; k < repeat; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    work();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace flashtp
