// The larger of a running largest deviation and a new one, where a NaN wins
// and stays: std::max(so_far, NaN) is so_far, and would let a NaN result
// (forces of a broken backward, say) pass every bound.
#pragma once
#include <cmath>

namespace flashtp::test {

inline double nan_max(double so_far, double x) { return std::isnan(so_far) || x <= so_far ? so_far : x; }

}  // namespace flashtp::test
