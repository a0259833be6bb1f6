// The parts of a TorchScript zip that a deployed SevenNet model consists of.
//
// torch.jit.save writes a zip with one top directory: code/__torch__/... (the
// printed TorchScript of each class), constants.pkl (a pickle of the tuple
// of graph constants, CONSTANTS.c0, c1, ...; tensors are persistent ids
// naming files constants/<key>), extra/* (the metadata passed as
// _extra_files) and data.pkl (the module object; nearly empty once frozen).
// Read with flashtp's zip reader and pickle machine, without LibTorch.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/model_source.hpp"

namespace flashtp::io::deployed {

struct Constant {
  bool tensor = false;  // other constants (ints, lists) are only counted
  Tensor value;         // row-major, widened to double
};

class Archive {
 public:
  // Throws flashtp::Error: not a zip, truncated or corrupt, or a zip that is
  // not TorchScript (no constants.pkl or no code).
  explicit Archive(const std::string& path);

  const std::string& prefix() const { return prefix_; }  // the top directory
  const std::map<std::string, std::string>& extra() const { return extra_; }
  std::string extra(const std::string& key) const;  // "" if absent
  const std::vector<std::string>& code_files() const { return code_files_; }  // under code/
  const std::string& code(const std::string& name) const;
  const std::vector<Constant>& constants() const { return constants_; }

  // Elements [offset, offset + count) of a tensor constant, row-major.
  std::vector<double> values(int constant, int64_t offset, int64_t count) const;

 private:
  std::string prefix_;
  std::map<std::string, std::string> extra_;
  std::vector<std::string> code_files_;
  std::map<std::string, std::string> code_;
  std::vector<Constant> constants_;
};

}  // namespace flashtp::io::deployed
