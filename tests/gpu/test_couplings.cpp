// The generated couplings (coupling_generated.hpp) as the host sees them: the
// table the host plans the backward's shares with (coupling_shape) agrees with
// the Coupling structs the kernels dispatch to, index by index, and so does
// the host's U (lane channels) with the kernels' for every scalar.
#include <gtest/gtest.h>

#include "cuda/convolution.cuh"
#include "cuda/coupling_generated.hpp"

namespace flashtp::cuda {
namespace {

TEST(Couplings, HostTableMatchesTheStructs) {
  int count = 0;
  for (int l1 = 0; l1 <= kMaxL; ++l1)
    for (int l2 = 0; l2 <= kMaxL; ++l2)
      for (int l3 = 0; l3 <= kMaxL; ++l3) {
        const int index = coupling_index(l1, l2, l3);
        if (index < 0) continue;
        ++count;
        const CouplingShape shape = coupling_shape(index);
        bool dispatched = false;
        dispatch_coupling(index, [&](auto coupling) {
          using C = decltype(coupling);
          dispatched = true;
          EXPECT_EQ(shape.d1, C::d1) << l1 << l2 << l3;
          EXPECT_EQ(shape.d3, C::d3) << l1 << l2 << l3;
          EXPECT_EQ(shape.nnz, C::nnz) << l1 << l2 << l3;
          EXPECT_EQ(shape.products, C::products) << l1 << l2 << l3;
          EXPECT_EQ(C::sh_dim, 2 * l2 + 1) << l1 << l2 << l3;
          // the lane channels the host plans shares with (plan_shares) are the kernels'
          auto planned = [&](int words) {
            return lane_channels(words, LaneArrays{shape.d1, shape.d3, shape.products}, true);
          };
          EXPECT_EQ(planned(1), (lane_channels<float, C, true>())) << l1 << l2 << l3;
          EXPECT_EQ(planned(2), (lane_channels<double, C, true>())) << l1 << l2 << l3;
          EXPECT_EQ(planned(4), (lane_channels<Dual<double>, C, true>())) << l1 << l2 << l3;
        });
        EXPECT_TRUE(dispatched) << l1 << l2 << l3;
      }
  EXPECT_EQ(count, 65);  // (l1, l2, l3) with |l1 - l2| <= l3 <= min(l1 + l2, 4)
}

}  // namespace
}  // namespace flashtp::cuda
