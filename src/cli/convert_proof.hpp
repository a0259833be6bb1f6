// The proof a converted model must pass: the same energy, forces and virial
// as the original on every test structure, within the noise of the
// arithmetic both sides use.
#pragma once
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/convert_structures.hpp"
#include "graph.hpp"
#include "result.hpp"

namespace flashtp::cli {

// Bounds on |difference| relative to max(1, size of the reference value):
// energy per atom (size: the mean |atomic energy|), every force component
// (size: the largest), every virial component (size: the largest).
struct Tolerance {
  double energy, force, virial;
};

// float32 against float32: summation order and float32 arithmetic.
constexpr Tolerance kFloat32Noise{5e-6, 2e-5, 2e-5};
// float64 against float64: the original may keep float32-rounded constants
// (e3nn's coupling tensors, normalisations that freezing folded into weights),
// which bounds agreement near 1e-7 relative; a wrong weight shows at 1e-4 and
// beyond.
constexpr Tolerance kFloat64Noise{1e-7, 2e-6, 2e-6};
// The same model through two file formats: rounding only.
constexpr Tolerance kExact{1e-12, 1e-12, 1e-12};

struct Comparison {
  std::string label;  // "<reference> vs <candidate>, <precision>"
  Tolerance tolerance;
  std::function<Result(const Graph&)> reference, candidate;
};

struct Check {
  std::string structure, label;
  int atoms = 0;
  int64_t edges = 0;
  double energy = 0, force = 0, virial = 0;  // differences
  double energy_bound = 0, force_bound = 0, virial_bound = 0;
  bool pass() const { return energy <= energy_bound && force <= force_bound && virial <= virial_bound; }
};

// Runs every comparison on every structure, printing one line per check.
std::vector<Check> prove(const std::vector<TestStructure>& structures, double cutoff,
                         const std::vector<Comparison>& comparisons, std::ostream& log);

}  // namespace flashtp::cli
