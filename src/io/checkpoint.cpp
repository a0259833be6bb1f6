#include "io/checkpoint.hpp"

#include "error.hpp"
#include "io/pickle.hpp"
#include "io/zip.hpp"

namespace flashtp::io {
namespace {

using nlohmann::json;
using pickle::Value;
using Kind = Value::Kind;

// torch.save writes every entry under one top directory (named after the file
// it was first saved as, not necessarily this one): <dir>/data.pkl is the
// pickle, <dir>/data/<key> the storages, <dir>/byteorder "little" or "big".
std::string top_directory(const ZipArchive& zip) {
  for (const auto& name : zip.names()) {
    const auto slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      const std::string dir = name.substr(0, slash);
      if (zip.contains(dir + "/constants.pkl"))
        throw Error("this is a TorchScript (deployed) model, not a checkpoint: it holds " + dir + "/constants.pkl");
      return dir;
    }
  }
  throw Error("the archive has no <dir>/data.pkl: not a torch.save checkpoint");
}

json tensor_json(const Tensor& t, size_t dim, size_t& next) {
  if (dim == t.shape.size()) return t.values[next++];
  json a = json::array();
  for (int64_t i = 0; i < t.shape[dim]; ++i) a.push_back(tensor_json(t, dim + 1, next));
  return a;
}

// Dict keys become JSON strings as Python's str() writes them: {8: 0} -> {"8": 0}.
std::string key_string(const Value& k, const std::string& where) {
  switch (k.kind) {
    case Kind::String: return k.text;
    case Kind::Int: return std::to_string(k.integer);
    case Kind::Bool: return k.boolean ? "True" : "False";
    case Kind::None: return "None";
    case Kind::Float: return json(k.number).dump();
    default: throw Error("a key of " + where + " is " + k.describe() + ", which JSON cannot hold");
  }
}

// A config value as JSON. Tuples and sets become arrays, tensors (nested)
// arrays of numbers, globals (e.g. torch.float32) their dotted name; values
// JSON cannot hold (opaque objects, bytes) become a "<description>" string,
// so only a config key that the model builder reads can fail on them.
json to_json(const Value& v, const std::string& where) {
  switch (v.kind) {
    case Kind::None: return nullptr;
    case Kind::Bool: return v.boolean;
    case Kind::Int: return v.integer;
    case Kind::Float: return v.number;
    case Kind::String:
    case Kind::Global: return v.text;
    case Kind::List:
    case Kind::Tuple: {
      json a = json::array();
      for (size_t k = 0; k < v.items.size(); ++k) a.push_back(to_json(*v.items[k], where + "[" + std::to_string(k) + "]"));
      return a;
    }
    case Kind::Dict: {
      json o = json::object();
      for (const auto& [k, value] : v.entries) {
        const std::string key = key_string(*k, where);
        o[key] = to_json(*value, where + "['" + key + "']");
      }
      return o;
    }
    case Kind::Tensor: {
      size_t next = 0;
      return tensor_json(v.tensor, 0, next);
    }
    default: return "<" + v.describe() + ">";
  }
}

const Value& required_dict(const Value& top, const std::string& key) {
  const Value* v = top.find(key);
  if (!v) throw Error("the pickle has no '" + key + "': not a SevenNet checkpoint");
  if (v->kind != Kind::Dict) throw Error("'" + key + "' is " + v->describe() + ", not a dict");
  return *v;
}

ModelSource read(const std::string& path) {
  const ZipArchive zip(path);
  const std::string dir = top_directory(zip);
  if (zip.contains(dir + "/byteorder") && zip.read(dir + "/byteorder") != "little")
    throw Error("the tensors are stored big-endian, which is not supported");
  const pickle::ValuePtr top =
      pickle::load(zip.read(dir + "/data.pkl"), [&](const std::string& key) { return zip.read(dir + "/data/" + key); });
  if (top->kind != Kind::Dict) throw Error("the pickle holds " + top->describe() + ", not a dict: not a SevenNet checkpoint");

  ModelSource source;
  source.origin = "checkpoint";
  source.config = to_json(required_dict(*top, "config"), "config");
  for (const auto& [k, v] : required_dict(*top, "model_state_dict").entries) {
    const std::string name = key_string(*k, "model_state_dict");
    if (v->kind != Kind::Tensor || (v->tensor.dtype != "float32" && v->tensor.dtype != "float64"))
      throw Error("model_state_dict['" + name + "'] is " + v->describe() + ", not a float32 or float64 tensor");
    source.weights[name] = v->tensor;
  }
  // SevenNet's training writes its version inside the config (global_config
  // starts from {'version': ...}); some writers put it beside the config.
  const Value* version = top->find("version");
  if (!version) version = required_dict(*top, "config").find("version");
  if (version) {
    if (version->kind != Kind::String) throw Error("'version' is " + version->describe() + ", not a string");
    source.version = version->text;
  }
  return source;
}

}  // namespace

ModelSource read_checkpoint(const std::string& path) {
  try {
    return read(path);
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.find("'" + path + "'") != std::string::npos) throw;  // the zip reader names the file itself
    throw Error("checkpoint '" + path + "': " + what);
  }
}

}  // namespace flashtp::io
