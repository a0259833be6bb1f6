// From the user's "this atom type is that element" to the model's species.
#pragma once
#include <string>
#include <vector>

#include "model.hpp"
#include "structure.hpp"

namespace flashtp {

// elements[t] names LAMMPS type t+1. Returns the model species index of each
// type; throws flashtp::Error naming every element the model lacks.
std::vector<int> map_type_elements(const Model& model, const std::vector<std::string>& elements);

// Species index of every atom of s, given the per-type map.
std::vector<int> species_of_atoms(const Structure& s, const std::vector<int>& type_species);

// s repeated n[0] x n[1] x n[2] times along its lattice vectors.
Structure replicate(const Structure& s, const std::array<int, 3>& n);

}  // namespace flashtp
