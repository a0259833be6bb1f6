// SevenNet checkpoints (.pth): torch.save zip archives holding a pickle of
// {'config': dict, 'model_state_dict': OrderedDict, ...}, the SevenNet version
// in config['version'] (or beside the config). Read as the file holds it: the
// layout of an older SevenNet is brought to today's by read_model_source.
// Read without LibTorch: a zip reader and a small pickle machine.
#pragma once
#include <string>

#include "io/model_source.hpp"

namespace flashtp::io {

// Throws flashtp::Error naming the file and what is wrong with it.
ModelSource read_checkpoint(const std::string& path);

}  // namespace flashtp::io
