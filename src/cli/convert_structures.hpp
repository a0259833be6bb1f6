// The structures `flashtp convert` proves a converted model on.
//
// Generated from the model alone (its species and cutoff), the same on every
// machine: positions come from a fixed-seed splitmix64 stream (not from the
// standard library's distributions, whose output differs between
// implementations) under a minimum-distance rule that also holds for
// periodic images.
#pragma once
#include <string>
#include <vector>

#include "structure.hpp"

namespace flashtp::cli {

struct TestStructure {
  std::string name;
  Structure atoms;
  std::vector<int> species;  // model species index per atom
};

// A dense and a sparse periodic box, an open cluster, and a triclinic cell
// smaller than the cutoff. Every species of the model appears in the boxes.
std::vector<TestStructure> proof_structures(int num_species, double cutoff);

}  // namespace flashtp::cli
