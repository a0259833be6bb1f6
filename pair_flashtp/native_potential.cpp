#include "native_potential.h"

#include <algorithm>

#include "model_file.hpp"
#include "species_map.hpp"

namespace flashtp_lammps {

NativePotential::NativePotential(const std::string& path, flashtp::Precision precision)
    : model_(flashtp::load_model(path)), engine_(flashtp::make_cpu_engine(model_, precision)) {}

void NativePotential::set_precision(flashtp::Precision precision) {
  if (precision != engine_->precision()) engine_ = flashtp::make_cpu_engine(model_, precision);
}

int NativePotential::widest_layer_input() const {
  int widest = 0;
  for (const auto& layer : model_.layers) widest = std::max(widest, layer.conv.in.dim());
  return widest;
}

std::vector<int> NativePotential::species_of(const std::vector<std::string>& elements) const {
  return flashtp::map_type_elements(model_, elements);
}

std::string NativePotential::description() const {
  return "SevenNet model, " + std::to_string(model_.layers.size()) + " interaction layers, " + engine_->backend() +
         " engine in " + (engine_->precision() == flashtp::Precision::float64 ? "float64" : "float32");
}

}  // namespace flashtp_lammps
