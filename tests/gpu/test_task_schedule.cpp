// The static schedule of a convolution's tasks over a block's warps
// (src/cuda/task_schedule.hpp): every task placed once in each pass direction,
// backward passes contiguous and within their width, forward lists within
// LPT's guarantee, the backward passes faster than one task a warp in model
// order, and the same schedule every time.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "cuda/coupling_generated.hpp"
#include "cuda/task_schedule.hpp"
#include "error.hpp"

namespace flashtp::cuda {
namespace {

// The tasks of one SevenNet-0 interaction layer (128x0e+64x1e+32x2e with
// spherical harmonics up to l = 2, every path): 4, 2 and 1 tasks of 32
// channels for l1 = 0, 1, 2.
struct Costs {
  std::vector<double> forward, backward;
};
Costs sevennet0_layer(int words, int edges) {
  Costs c;
  for (int l1 = 0; l1 <= 2; ++l1)
    for (int l2 = 0; l2 <= 2; ++l2)
      for (int l3 = std::abs(l1 - l2); l3 <= std::min(l1 + l2, 2); ++l3) {
        const CouplingShape& s = kCouplingShapes[coupling_index(l1, l2, l3)];
        for (int t = 0; t < (l1 == 0 ? 4 : l1 == 1 ? 2 : 1); ++t) {
          c.forward.push_back(task_cost(s, lane_channels(words, s.d1, s.d3, s.nnz, false), edges, false));
          c.backward.push_back(task_cost(s, lane_channels(words, s.d1, s.d3, s.nnz, true), edges, true));
        }
      }
  return c;
}

double load(const std::vector<int>& tasks, int begin, int end, const std::vector<int>& order,
            const std::vector<double>& cost) {
  double sum = 0;
  for (int i = begin; i < end; ++i) sum += cost[order[tasks[i]]];
  return sum;
}

void check_schedule(const Costs& c, int warps, int width) {
  const int n = static_cast<int>(c.backward.size());
  const TaskSchedule s = schedule_tasks(c.forward, c.backward, warps, width);

  std::vector<int> sorted = s.order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> all(n);
  std::iota(all.begin(), all.end(), 0);
  ASSERT_EQ(sorted, all) << "order is a permutation of the tasks";

  // forward: each task in one warp's list; the busiest warp within LPT's 4/3
  ASSERT_EQ(static_cast<int>(s.forward_start.size()), warps + 1);
  sorted = s.forward_tasks;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, all);
  const double total = std::accumulate(c.forward.begin(), c.forward.end(), 0.0);
  const double bound = std::max(total / warps, *std::max_element(c.forward.begin(), c.forward.end()));
  for (int w = 0; w < warps; ++w)
    EXPECT_LE(load(s.forward_tasks, s.forward_start[w], s.forward_start[w + 1], s.order, c.forward), 4.0 / 3 * bound)
        << "warp " << w;

  // backward: passes are runs of the order, each task once in its own pass
  const int passes = static_cast<int>(s.pass_first.size()) - 1;
  ASSERT_EQ(s.pass_first.front(), 0);
  ASSERT_EQ(s.pass_first.back(), n);
  ASSERT_EQ(static_cast<int>(s.backward_start.size()), passes * warps + 1);
  EXPECT_EQ(passes, (n + width - 1) / width) << "as few passes as the width allows";
  double scheduled = 0;
  int widest = 0;
  for (int p = 0; p < passes; ++p) {
    const int first = s.pass_first[p], last = s.pass_first[p + 1];
    widest = std::max(widest, last - first);
    EXPECT_LE(last - first, width);
    std::vector<int> in_pass(s.backward_tasks.begin() + s.backward_start[p * warps],
                             s.backward_tasks.begin() + s.backward_start[(p + 1) * warps]);
    std::sort(in_pass.begin(), in_pass.end());
    std::vector<int> expected(last - first);
    std::iota(expected.begin(), expected.end(), first);
    EXPECT_EQ(in_pass, expected) << "pass " << p;
    double busiest = 0;
    for (int w = 0; w < warps; ++w)
      busiest = std::max(busiest, load(s.backward_tasks, s.backward_start[p * warps + w],
                                       s.backward_start[p * warps + w + 1], s.order, c.backward));
    scheduled += busiest;
  }
  EXPECT_EQ(s.widest_pass, widest);
  // one task a warp in model order, passes of `warps` tasks: what the kernels did before
  double naive = 0;
  for (int first = 0; first < n; first += warps)
    naive += *std::max_element(c.backward.begin() + first, c.backward.begin() + std::min(n, first + warps));
  EXPECT_LT(scheduled, naive);

  const TaskSchedule again = schedule_tasks(c.forward, c.backward, warps, width);
  EXPECT_EQ(again.order, s.order);
  EXPECT_EQ(again.forward_tasks, s.forward_tasks);
  EXPECT_EQ(again.backward_tasks, s.backward_tasks);
}

TEST(TaskSchedule, Sevennet0LayerOnEachBlockShape) {
  check_schedule(sevennet0_layer(1, 32), 8, 12);  // float
  check_schedule(sevennet0_layer(2, 16), 8, 12);  // double
  check_schedule(sevennet0_layer(4, 8), 4, 6);    // dual double (Hessian-vector products)
}

TEST(TaskSchedule, HeavyTasksRunSideBySide) {
  // two tasks 10x the rest, 4 warps, passes of 6: the best is both heavy
  // tasks in one pass (span 10, the light ones on the other two warps), then
  // 6 light tasks (span 2) and 4 (span 1)
  std::vector<double> cost(16, 1.0);
  cost[3] = cost[11] = 10.0;
  const TaskSchedule s = schedule_tasks(cost, cost, 4, 6);
  const int passes = static_cast<int>(s.pass_first.size()) - 1;
  ASSERT_EQ(passes, 3);
  double sum_of_spans = 0;
  for (int p = 0; p < passes; ++p) {
    double busiest = 0;
    for (int w = 0; w < 4; ++w)
      busiest = std::max(busiest, load(s.backward_tasks, s.backward_start[p * 4 + w], s.backward_start[p * 4 + w + 1],
                                       s.order, cost));
    sum_of_spans += busiest;
  }
  EXPECT_EQ(sum_of_spans, 10.0 + 2.0 + 1.0);
}

TEST(TaskSchedule, RejectsInconsistentInput) {
  EXPECT_THROW(schedule_tasks({1.0}, {1.0, 2.0}, 8, 12), Error);
  EXPECT_THROW(schedule_tasks({1.0}, {1.0}, 0, 12), Error);
  EXPECT_THROW(schedule_tasks({1.0}, {1.0}, 8, 0), Error);
}

}  // namespace
}  // namespace flashtp::cuda
