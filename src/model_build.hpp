// SevenNet config + state dict -> Model, following sevenn/model_build.py.
#pragma once
#include "io/model_source.hpp"
#include "model.hpp"

namespace flashtp {

// Throws flashtp::Error naming the config key or tensor that is missing,
// unsupported or of the wrong shape.
Model build_model(const io::ModelSource& source);

}  // namespace flashtp
