// e3nn's coupling tensors among a deployed model's constants.
//
// e3nn's tensor products keep wigner_3j(l1, l2, l3) as buffers, which freezing
// turns into constants like the weights: they are told apart by their values
// (a multiple of wigner_3j; freezing may have folded sqrt(2 l3 + 1) in).
// Models written with older e3nn have some of them with the opposite sign:
// such a model computes those paths negated, which SevenNet corrects by
// negating the paths' radial weights (sevenn.util._sort_old_convolution).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace flashtp::io::deployed {

struct Coupling {
  int l1, l2, l3;
  bool flipped;  // -wigner_3j (up to a positive factor)
};

// Whether a constant of this shape and these values (row-major) is a coupling tensor.
std::optional<Coupling> as_coupling(const std::vector<int64_t>& shape, const std::vector<double>& values);

}  // namespace flashtp::io::deployed
