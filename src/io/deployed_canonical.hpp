// One model, one native file: the part of a ModelSource that a deployed
// file and a checkpoint of the same model share.
//
// A checkpoint carries more than the model: training settings in its config,
// bookkeeping tensors (e3nn's output masks and coupling buffers, empty
// biases), and config values that its parameters have since left behind
// (conv_denominator, shift and scale are trained or perturbed parameters; the
// tensors hold the values the model uses). A deployed file carries only the
// model. The canonical form keeps what the model builder reads, each config
// value in one spelling (defaults filled in, dicts as objects, denominators
// from their tensors), so that converting the .pt and the .pth of one model
// writes the same bytes.
#pragma once
#include "io/model_source.hpp"

namespace flashtp::io {

ModelSource canonical_source(const ModelSource& source);

}  // namespace flashtp::io
