// Atoms in a box, as read from a LAMMPS data file or handed over by a driver.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace flashtp {

using Vec3 = std::array<double, 3>;

struct Structure {
  // Rows are the lattice vectors a, b, c (LAMMPS: a = (lx,0,0), b = (xy,ly,0),
  // c = (xz,yz,lz)); origin is (xlo, ylo, zlo).
  std::array<Vec3, 3> cell{};
  Vec3 origin{};
  std::array<bool, 3> pbc{true, true, true};
  std::vector<Vec3> positions;
  std::vector<int> types;       // LAMMPS atom type, 1-based
  std::vector<int64_t> tags;    // LAMMPS atom ID
};

}  // namespace flashtp
