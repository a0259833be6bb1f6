// What one evaluation returns, always in float64 (LAMMPS metal units: eV, eV/A).
#pragma once
#include <array>
#include <vector>

#include "structure.hpp"

namespace flashtp {

// Voigt order of LAMMPS: xx yy zz xy xz yz.
using Virial = std::array<double, 6>;

struct Result {
  double energy = 0.0;
  std::vector<double> atomic_energy;  // per local atom
  std::vector<Vec3> forces;           // per node: ghosts too, for reverse comm
  Virial virial{};                    // W_ab = -sum_e (r_e)_a dE/d(r_e)_b
  std::vector<Virial> atomic_virial;  // per node, half of each edge to each end
};

}  // namespace flashtp
