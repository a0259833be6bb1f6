#include "native_potential.h"

#include <algorithm>

#include "model_file.hpp"
#include "species_map.hpp"

namespace flashtp_lammps {

NativePotential::NativePotential(const std::string& path, std::optional<flashtp::Precision> precision,
                                 flashtp::Device device, int gpu)
    : model_(flashtp::load_model(path)), gpu_(gpu) {
  set_engine(precision, device);
}

void NativePotential::set_engine(std::optional<flashtp::Precision> precision, flashtp::Device device) {
  const bool gpu = device == flashtp::Device::cuda || (device == flashtp::Device::automatic && flashtp::gpu_available());
  const flashtp::Precision p = precision.value_or(gpu ? flashtp::Precision::float32 : flashtp::Precision::float64);
  const std::string backend = gpu ? "cuda" : "cpu";
  if (!engine_ || engine_->precision() != p || engine_->backend() != backend)
    engine_ = flashtp::make_engine(model_, p, gpu ? flashtp::Device::cuda : flashtp::Device::cpu, gpu_);
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
  const std::string where = engine_->backend() == "cuda" ? " engine on GPU " + std::to_string(gpu_ % flashtp::gpu_count())
                                                         : " engine";
  return "SevenNet model, " + std::to_string(model_.layers.size()) + " interaction layers, " + engine_->backend() +
         where + " in " + (engine_->precision() == flashtp::Precision::float64 ? "float64" : "float32");
}

}  // namespace flashtp_lammps
