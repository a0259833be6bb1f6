// How the tasks of a convolution (32 channels of one path each, views.hpp) are
// spread over the warps of a fused kernel's block: a static schedule, made on
// the host once per model and block shape, so that every sum still runs in a
// fixed order.
//
// A block waits for its busiest warp at a barrier: at the end of each chunk of
// edges in the forward pass, and at the end of each backward "pass" (the
// per-edge weights of up to `pass_width` tasks staged in shared memory, whose
// gradient then goes through the radial MLP's last layer as one block GEMM).
// Tasks differ up to ~10x in cost (the coupling's size and the channels a
// lane takes), so:
//   forward: each warp works through its own list of tasks, the lists
//     balanced longest-processing-time first (LPT);
//   backward: tasks sorted by cost are cut into passes of `pass_width`, each
//     spread over the warps by LPT; then pairs of tasks are swapped between
//     passes while that shortens the sum of the passes' spans (the busiest
//     warp's load).
#pragma once
#include <vector>

#include "cuda/coupling_shape.hpp"

namespace flashtp::cuda {

// Estimated issue cost of one task over a chunk of `edges` edges, with U
// channels a lane. Per round (a lane's U channels of one edge), fitted to the
// per-task instruction counts of the backward kernel (Nsight Compute, H200,
// sevennet0_arch: within ~35% for every coupling there):
//   backward: 32 + U (3 nnz + 2 d1 + d3) + 0.34 d2 log2(32 / U)
//             (fixed work, M^T g, dL/dw and P per channel, the dL/dY sums over lanes)
//   forward:  24 + entries + U (nnz + 2 d1)
//             (fixed work, M from Y, the product and x's loads per channel)
double task_cost(const CouplingShape& c, int U, int edges, bool backward);

struct TaskSchedule {
  // order[n]: the task (its index before scheduling) that comes n-th; tasks
  // are numbered in this order below, and each backward pass is a run of them.
  std::vector<int> order;
  std::vector<int> forward_start, forward_tasks;    // warp w: forward_tasks[forward_start[w] .. forward_start[w + 1])
  std::vector<int> pass_first;                      // pass p: tasks pass_first[p] .. pass_first[p + 1] - 1
  std::vector<int> backward_start, backward_tasks;  // pass p, warp w: from backward_start[p * warps + w]
  int widest_pass = 0;                              // the most tasks in one pass
};

TaskSchedule schedule_tasks(const std::vector<double>& forward_cost, const std::vector<double>& backward_cost,
                            int warps, int pass_width);

}  // namespace flashtp::cuda
