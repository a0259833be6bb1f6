// Deployed SevenNet models (.pt): frozen TorchScript written by
// `sevenn_get_model` / `sevenn deploy`, read without LibTorch.
//
// The architecture and every weight are recovered from the file alone (its
// code text, its constants and its metadata) into the ModelSource that the
// checkpoint of the same model gives: SevenNet's config keys and state-dict
// tensor names. Serial deployments of current SevenNet (inputs edge_vec,
// edge_index) and of older versions (inputs pos, cell_lattice_vectors,
// pbc_shift) are read; other files get an error naming what they are.
#pragma once
#include <string>

#include "io/model_source.hpp"

namespace flashtp::io {

// Throws flashtp::Error naming the file and the problem: not a zip,
// truncated, not TorchScript, not a SevenNet model, a parallel deployment,
// a model deployed with FlashTP / cuEquivariance / OpenEquivariance kernels,
// a multi-modal model, another model type, or code this reader does not
// understand.
ModelSource read_deployed(const std::string& path);

// A zip archive holding <dir>/constants.pkl (TorchScript). Never throws.
bool is_deployed_file(const std::string& path);

}  // namespace flashtp::io
