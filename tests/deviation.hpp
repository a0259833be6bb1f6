// Largest deviations of a result from a reference: upstream's numbers (JSON)
// or another result. A NaN anywhere makes a deviation NaN, and so does a
// reference of another size: no bound passes then.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>

#include <nlohmann/json.hpp>

#include "result.hpp"

namespace flashtp::test {

// The larger of a running largest deviation and a new one, where a NaN wins
// and stays: std::max(so_far, NaN) is so_far, and would let a NaN result
// (forces of a broken backward, say) pass every bound.
inline double nan_max(double so_far, double x) { return std::isnan(so_far) || x <= so_far ? so_far : x; }

struct Deviation {
  double energy_per_atom = 0, atomic_energy = 0, force = 0, virial = 0;
  size_t atoms = 0;
  double virial_per_atom() const { return virial / static_cast<double>(atoms); }

  static Deviation mismatched(size_t atoms) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {nan, nan, nan, nan, atoms};
  }
};

// Over the local atoms (the reference's); the virial unless the reference
// has none (null: open structures in tests/data/legacy).
inline Deviation deviation(const Result& r, const nlohmann::json& ref) {
  const size_t n = r.atomic_energy.size();
  if (ref["atomic_energy"].size() != n || ref["forces"].size() != n || r.forces.size() < n)
    return Deviation::mismatched(n);
  Deviation d;
  d.atoms = n;
  d.energy_per_atom = std::abs(r.energy - ref["energy"].get<double>()) / static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) {
    d.atomic_energy = nan_max(d.atomic_energy, std::abs(r.atomic_energy[i] - ref["atomic_energy"][i].get<double>()));
    for (int a = 0; a < 3; ++a) d.force = nan_max(d.force, std::abs(r.forces[i][a] - ref["forces"][i][a].get<double>()));
  }
  if (!ref["virial"].is_null())
    for (int k = 0; k < 6; ++k) d.virial = nan_max(d.virial, std::abs(r.virial[k] - ref["virial"][k].get<double>()));
  return d;
}

// Over every atom and every node's force (ghosts included).
inline Deviation deviation(const Result& r, const Result& ref) {
  const size_t n = r.atomic_energy.size();
  if (ref.atomic_energy.size() != n || ref.forces.size() != r.forces.size()) return Deviation::mismatched(n);
  Deviation d;
  d.atoms = n;
  d.energy_per_atom = std::abs(r.energy - ref.energy) / static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) d.atomic_energy = nan_max(d.atomic_energy, std::abs(r.atomic_energy[i] - ref.atomic_energy[i]));
  for (size_t i = 0; i < r.forces.size(); ++i)
    for (int a = 0; a < 3; ++a) d.force = nan_max(d.force, std::abs(r.forces[i][a] - ref.forces[i][a]));
  for (int k = 0; k < 6; ++k) d.virial = nan_max(d.virial, std::abs(r.virial[k] - ref.virial[k]));
  return d;
}

}  // namespace flashtp::test
