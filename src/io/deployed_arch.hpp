// SevenNet's architecture, recovered from a deployed model's code.
//
// What the code states outright is read directly (cutoff envelope, spherical
// harmonics, activations, the interface). The rest (parity, irreps per layer,
// self-connection kinds, biases, readout) is found by search: each candidate
// gives a layout of expected weights (deployed_layout), and the candidate
// whose every weight matches the code's pieces in order, role, size, shape
// and normalisation is the architecture. Where two candidates compute the
// same function (parity is invisible when no path tells 1o from 1e), the one
// SevenNet's defaults would have produced is taken.
#pragma once
#include <string>
#include <vector>

#include "io/deployed_features.hpp"
#include "io/deployed_layout.hpp"
#include "io/deployed_match.hpp"
#include "io/deployed_trace.hpp"

namespace flashtp::io::deployed {

struct Activations {
  std::string radial;
  std::string scalar_e = "silu", scalar_o = "tanh", gate_e = "silu", gate_o = "tanh";
  std::string readout = "relu";
};

struct Solution {
  Architecture arch;
  bool manual = false;  // irreps not of the lmax/channel family
  int lmax_node = -1;   // the family's lmax_node, -1 when it is lmax
  Activations acts;
  std::vector<Assignment> weights;
};

// Throws flashtp::Error with the closest candidate's first mismatch.
Solution recover(const Dataflow& flow, const std::vector<Piece>& pieces, const CodeFeatures& features, int num_species);

}  // namespace flashtp::io::deployed
