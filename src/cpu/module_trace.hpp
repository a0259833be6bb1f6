// The outputs of SevenNet's top-level modules, from the float64 CPU engine,
// for checking a model stage by stage against upstream's intermediates.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "graph.hpp"
#include "model.hpp"

namespace flashtp {

// Per-atom rows of the local atoms, row-major, keyed by upstream's module
// name: "onehot_to_feature_x", then per layer t "{t}_self_interaction_1",
// "{t}_convolution", "{t}_self_interaction_2" (linear_2 alone),
// "{t}_self_connection_outro" (plus the self-connection), "{t}_equivariant_gate";
// then "reduce_input_to_hidden" (the first readout linear),
// "scaled_atomic_energy" (before the species scale and shift) and "atomic_energy".
using ModuleOutputs = std::map<std::string, std::vector<double>>;

ModuleOutputs trace_modules(const Model& model, const Graph& graph);

}  // namespace flashtp
