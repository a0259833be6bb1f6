#include "cuda/task_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "error.hpp"

namespace flashtp::cuda {

double task_cost(const CouplingShape& c, int U, int edges, bool backward) {
  const double rounds = static_cast<double>(edges) / U;
  if (backward) return rounds * (32 + U * (3 * c.nnz + 2 * c.d1 + c.d3) + 0.34 * c.d2 * std::log2(32.0 / U));
  return rounds * (24 + c.entries + U * (c.nnz + 2 * c.d1));
}

namespace {

using Lists = std::vector<std::vector<int>>;

// LPT: the tasks by decreasing cost (then index), each onto the least loaded
// warp (the first of equals).
Lists spread(std::vector<int> tasks, const std::vector<double>& cost, int warps) {
  std::sort(tasks.begin(), tasks.end(), [&](int a, int b) { return cost[a] != cost[b] ? cost[a] > cost[b] : a < b; });
  Lists lists(warps);
  std::vector<double> load(warps, 0.0);
  for (int t : tasks) {
    const auto w = std::min_element(load.begin(), load.end()) - load.begin();
    lists[w].push_back(t);
    load[w] += cost[t];
  }
  return lists;
}

// The busiest warp's load when `tasks` are spread over the warps.
double span(const std::vector<int>& tasks, const std::vector<double>& cost, int warps) {
  double busiest = 0;
  for (const auto& list : spread(tasks, cost, warps)) {
    double load = 0;
    for (int t : list) load += cost[t];
    busiest = std::max(busiest, load);
  }
  return busiest;
}

// Passes of at most `width` tasks with a short sum of spans: the tasks sorted
// by cost cut into runs, then improving swaps between passes (bounded sweeps).
Lists backward_passes(const std::vector<double>& cost, int warps, int width) {
  const int n = static_cast<int>(cost.size());
  std::vector<int> sorted(n);
  std::iota(sorted.begin(), sorted.end(), 0);
  std::sort(sorted.begin(), sorted.end(), [&](int a, int b) { return cost[a] != cost[b] ? cost[a] > cost[b] : a < b; });
  Lists passes;
  for (int i = 0; i < n; i += width) passes.emplace_back(sorted.begin() + i, sorted.begin() + std::min(n, i + width));
  std::vector<double> spans;
  for (const auto& p : passes) spans.push_back(span(p, cost, warps));

  constexpr int kSweeps = 64;
  bool improved = true;
  for (int sweep = 0; improved && sweep < kSweeps; ++sweep) {
    improved = false;
    for (size_t a = 0; a < passes.size(); ++a)
      for (size_t b = a + 1; b < passes.size(); ++b)
        for (int& x : passes[a])
          for (int& y : passes[b]) {
            std::swap(x, y);
            const double sa = span(passes[a], cost, warps), sb = span(passes[b], cost, warps);
            if (sa + sb < (spans[a] + spans[b]) * (1 - 1e-9)) {
              spans[a] = sa, spans[b] = sb;
              improved = true;
            } else {
              std::swap(x, y);
            }
          }
  }
  return passes;
}

}  // namespace

TaskSchedule schedule_tasks(const std::vector<double>& forward_cost, const std::vector<double>& backward_cost,
                            int warps, int pass_width) {
  const int n = static_cast<int>(backward_cost.size());
  if (forward_cost.size() != backward_cost.size() || warps < 1 || pass_width < 1)
    throw Error("task schedule: inconsistent costs or block shape");
  TaskSchedule s;
  std::vector<int> position(n);
  s.pass_first.push_back(0);
  s.backward_start.push_back(0);
  for (const auto& pass : backward_passes(backward_cost, warps, pass_width)) {
    for (const auto& list : spread(pass, backward_cost, warps)) {
      for (int t : list) {
        position[t] = static_cast<int>(s.order.size());
        s.backward_tasks.push_back(position[t]);
        s.order.push_back(t);
      }
      s.backward_start.push_back(static_cast<int>(s.backward_tasks.size()));
    }
    s.pass_first.push_back(static_cast<int>(s.order.size()));
    s.widest_pass = std::max(s.widest_pass, static_cast<int>(pass.size()));
  }
  std::vector<int> all(n);
  std::iota(all.begin(), all.end(), 0);
  s.forward_start.push_back(0);
  for (const auto& list : spread(all, forward_cost, warps)) {
    for (int t : list) s.forward_tasks.push_back(position[t]);
    s.forward_start.push_back(static_cast<int>(s.forward_tasks.size()));
  }
  return s;
}

}  // namespace flashtp::cuda
