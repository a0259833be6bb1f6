#include "io/deployed_archive.hpp"

#include "error.hpp"
#include "io/pickle.hpp"
#include "io/zip.hpp"

namespace flashtp::io::deployed {

Archive::Archive(const std::string& path) {
  const ZipArchive zip(path);
  // Every entry sits under one top directory, named after the file as first saved.
  for (const auto& name : zip.names()) {
    const auto slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/constants.pkl") == 0) {
      prefix_ = name.substr(0, slash);
      break;
    }
  }
  if (prefix_.empty()) {
    for (const auto& name : zip.names())
      if (name.find("/data.pkl") != std::string::npos)
        throw Error("a zip archive without constants.pkl: a torch.save file (a checkpoint?), not a deployed model");
    throw Error("a zip archive that is not a PyTorch file (no constants.pkl, no data.pkl)");
  }
  const std::string extra_dir = prefix_ + "/extra/", code_dir = prefix_ + "/code/";
  for (const auto& name : zip.names()) {
    if (name.rfind(extra_dir, 0) == 0) extra_[name.substr(extra_dir.size())] = zip.read(name);
    if (name.rfind(code_dir, 0) == 0) {
      const std::string file = name.substr(prefix_.size() + 1);
      code_files_.push_back(file);
      if (file.size() > 3 && file.compare(file.size() - 3, 3, ".py") == 0) code_[file] = zip.read(name);
    }
  }

  // constants.pkl: a tuple, one item per CONSTANTS.cN.
  const pickle::ValuePtr root = pickle::load(zip.read(prefix_ + "/constants.pkl"), [&](const std::string& key) {
    const std::string name = prefix_ + "/constants/" + key;
    if (!zip.contains(name)) throw Error("constants.pkl names a storage " + name + " that the archive lacks");
    return zip.read(name);
  });
  if (root->kind != pickle::Value::Kind::Tuple) throw Error("constants.pkl holds " + root->describe() + ", not a tuple");
  for (const auto& item : root->items) {
    Constant c;
    c.tensor = item->kind == pickle::Value::Kind::Tensor;
    if (c.tensor) c.value = item->tensor;
    constants_.push_back(std::move(c));
  }
}

std::string Archive::extra(const std::string& key) const {
  auto it = extra_.find(key);
  return it == extra_.end() ? "" : it->second;
}

const std::string& Archive::code(const std::string& name) const {
  auto it = code_.find(name);
  if (it == code_.end()) throw Error("the archive has no code file " + name);
  return it->second;
}

std::vector<double> Archive::values(int constant, int64_t offset, int64_t count) const {
  const Constant& c = constants_.at(constant);
  if (!c.tensor || offset < 0 || offset + count > static_cast<int64_t>(c.value.values.size()))
    throw Error("CONSTANTS.c" + std::to_string(constant) + " has no elements [" + std::to_string(offset) + ", " +
                std::to_string(offset + count) + ")");
  return {c.value.values.begin() + offset, c.value.values.begin() + offset + count};
}

}  // namespace flashtp::io::deployed
