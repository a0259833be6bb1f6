// A model as SevenNet describes it: its config dict and its state dict.
//
// Every file format funnels into this one shape (checkpoint .pth, deployed .pt,
// the native file), and one builder (model_build) turns it into the engine's
// Model. Tensor names and config keys are SevenNet's own.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flashtp::io {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> values;  // row-major, widened to double
  std::string dtype;           // dtype on disk: "float32" or "float64"
  int64_t numel() const {
    int64_t n = 1;
    for (auto s : shape) n *= s;
    return n;
  }
};

struct ModelSource {
  nlohmann::json config;                  // SevenNet config (JSON-compatible values)
  std::map<std::string, Tensor> weights;  // SevenNet state dict names
  std::string version;                    // SevenNet version that wrote the file
  std::string origin;                     // "checkpoint", "deployed", "native"
  // How a file of an older SevenNet was read in today's terms, one line each
  // (see io/legacy_checkpoint.hpp); empty for today's files.
  std::vector<std::string> legacy;
};

// Older SevenNet configs may keep dicts as Python repr strings ({'e': 'silu'}):
// such a string as the JSON object it spells; anything else as it is.
inline nlohmann::json config_object(const nlohmann::json& value) {
  if (!value.is_string()) return value;
  std::string s = value.get<std::string>();
  for (auto& c : s) c = c == '\'' ? '"' : c;
  return nlohmann::json::parse(s);
}

}  // namespace flashtp::io
