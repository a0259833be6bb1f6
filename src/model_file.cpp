#include "model_file.hpp"

#include <fstream>

#include "error.hpp"
#include "io/checkpoint.hpp"
#include "io/deployed.hpp"
#include "io/native.hpp"
#include "model_build.hpp"

namespace flashtp {

io::ModelSource read_model_source(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open model file '" + path + "'");
  if (io::is_native_file(path)) return io::read_native(path);
  char magic[2] = {0, 0};
  in.read(magic, 2);
  if (magic[0] == 'P' && magic[1] == 'K') return io::is_deployed_file(path) ? io::read_deployed(path) : io::read_checkpoint(path);
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
