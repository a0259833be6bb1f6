// Reader for LAMMPS data files (atom_style atomic; orthogonal or triclinic).
#pragma once
#include <array>
#include <string>

#include "structure.hpp"

namespace flashtp::io {

// pbc gives the boundary per axis (LAMMPS "p p p" -> all true). Throws
// flashtp::Error naming the file and line for anything malformed: a missing
// header count, a short Atoms section, a type out of range, a non-finite
// coordinate.
Structure read_lammps_data(const std::string& path, const std::array<bool, 3>& pbc);

// "p p p", "f f f", "p p f", ...: LAMMPS boundary letters (p periodic; f, s, m open).
std::array<bool, 3> parse_boundary(const std::string& text);

}  // namespace flashtp::io
