// lanes_sum_add (src/cuda/platform.hpp) on the host emulator, for the shapes
// the convolution kernels use: every component of every set of lanes summed
// once, into the row of that set, and nothing written where write is false.
#include <gtest/gtest.h>

#include <vector>

#include "cuda/emulator.hpp"
#include "cuda/platform.hpp"

namespace flashtp::cuda {
namespace {

// Lane l holds v[m] = 1000 l + m (exact in double). A set is the SPAN lanes
// that differ only in the bits STRIDE .. STRIDE SPAN / 2; its row is that of
// its lane with those bits clear.
template <int D, int SPAN, int STRIDE>
void check_lane_sums(bool write) {
  constexpr int set_bits = (SPAN - 1) * STRIDE;
  std::vector<double> out(kWarpSize * D, 0.0);
  emulator::run(1, kWarpSize, 0, [&] {
    const int lane = lane_id();
    double v[D];
    for (int m = 0; m < D; ++m) v[m] = 1000.0 * lane + m;
    lanes_sum_add<D, SPAN, STRIDE>(v, out.data() + (lane & ~set_bits) * D, write);
  });
  for (int row = 0; row < kWarpSize; ++row)
    for (int m = 0; m < D; ++m) {
      double expected = 0;
      if (write && (row & set_bits) == 0)
        for (int lane = 0; lane < kWarpSize; ++lane)
          if ((lane & ~set_bits) == row) expected += 1000.0 * lane + m;
      ASSERT_EQ(out[row * D + m], expected) << "D " << D << " SPAN " << SPAN << " STRIDE " << STRIDE << " row " << row
                                            << " component " << m;
    }
}

TEST(LaneSums, EverySetSummedOnce) {
  check_lane_sums<1, 1, 1>(true);    // one lane per set: a plain add
  check_lane_sums<9, 32, 1>(true);   // the whole warp (the old warp_sum_add)
  check_lane_sums<5, 8, 1>(true);    // dL/dY of an l = 2 block over a group of 8 lanes
  check_lane_sums<7, 16, 1>(true);   // ... of an l = 3 block over 16 lanes
  check_lane_sums<20, 4, 8>(true);   // a segment's message sums, U = 4 channels of l = 2, over 4 groups
  check_lane_sums<3, 2, 16>(true);   // U = 2 channels... fewer values than lanes
  check_lane_sums<14, 2, 16>(true);  // ... more values than lanes
  check_lane_sums<36, 4, 8>(true);   // U = 4 channels of l = 4
  check_lane_sums<5, 4, 8>(true);    // a backward share's dL/dh, U = 1 channel of l = 2, over 4 groups
  check_lane_sums<9, 8, 1>(true);    // its dL/dY of an l = 4 block over 8 lanes: more values than lanes
}

TEST(LaneSums, NothingWrittenWithoutWrite) {
  check_lane_sums<5, 8, 1>(false);
  check_lane_sums<20, 4, 8>(false);
}

}  // namespace
}  // namespace flashtp::cuda
