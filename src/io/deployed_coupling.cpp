#include "io/deployed_coupling.hpp"

#include <cmath>

#include "so3.hpp"

namespace flashtp::io::deployed {

std::optional<Coupling> as_coupling(const std::vector<int64_t>& shape, const std::vector<double>& values) {
  if (shape.size() != 3) return std::nullopt;
  for (auto d : shape)
    if (d % 2 == 0 || d > 2 * 12 + 1) return std::nullopt;
  const int l1 = static_cast<int>(shape[0] / 2), l2 = static_cast<int>(shape[1] / 2), l3 = static_cast<int>(shape[2] / 2);
  if (l3 < std::abs(l1 - l2) || l3 > l1 + l2) return std::nullopt;
  const std::vector<double> w = wigner_3j(l1, l2, l3);
  if (w.size() != values.size()) return std::nullopt;
  // values = c * w: c from least squares, then every element within float32 rounding.
  double vw = 0, ww = 0;
  for (size_t k = 0; k < w.size(); ++k) {
    vw += values[k] * w[k];
    ww += w[k] * w[k];
  }
  const double c = vw / ww;
  if (!(std::abs(c) > 1e-3)) return std::nullopt;
  for (size_t k = 0; k < w.size(); ++k)
    if (std::abs(values[k] - c * w[k]) > 1e-6 * std::abs(c)) return std::nullopt;
  return Coupling{l1, l2, l3, c < 0};
}

}  // namespace flashtp::io::deployed
