#include "model_file.hpp"

#include <fstream>

#include "coupling_signs.hpp"
#include "error.hpp"
#include "io/checkpoint.hpp"
#include "io/deployed.hpp"
#include "io/legacy_checkpoint.hpp"
#include "io/native.hpp"
#include "model_build.hpp"

namespace flashtp {
namespace {

// A checkpoint of any SevenNet version in today's terms.
io::ModelSource read_checkpoint(const std::string& path) {
  io::ModelSource source = io::read_checkpoint(path);
  const std::string version = source.version;
  try {
    source = io::upgrade_legacy_checkpoint(std::move(source));
    undo_flipped_couplings(source);
  } catch (const Error& e) {
    throw Error("checkpoint '" + path + "' (SevenNet " + version + "): " + e.what());
  }
  return source;
}

}  // namespace

io::ModelSource read_model_source(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open model file '" + path + "'");
  if (io::is_native_file(path)) return io::read_native(path);
  char magic[2] = {0, 0};
  in.read(magic, 2);
  if (magic[0] == 'P' && magic[1] == 'K') return io::is_deployed_file(path) ? io::read_deployed(path) : read_checkpoint(path);
  throw Error("'" + path + "' is neither a SevenNet checkpoint (.pth), a deployed SevenNet model (.pt) nor a flashtp native model");
}

Model load_model(const std::string& path) {
  try {
    return build_model(read_model_source(path));
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.find(path) != std::string::npos) throw;
    throw Error("model '" + path + "': " + what);
  }
}

}  // namespace flashtp
