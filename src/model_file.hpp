// Loading a model from any file a user has, by content rather than extension.
#pragma once
#include <string>

#include "io/model_source.hpp"
#include "model.hpp"

namespace flashtp {

// SevenNet checkpoint (.pth), deployed model (.pt) or flashtp native file,
// in today's SevenNet terms (older checkpoints upgraded, source.legacy says
// how). Throws flashtp::Error naming the file and the problem.
io::ModelSource read_model_source(const std::string& path);
Model load_model(const std::string& path);

}  // namespace flashtp
