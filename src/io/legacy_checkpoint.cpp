#include "io/legacy_checkpoint.hpp"

#include <cstdio>
#include <sstream>

#include "error.hpp"
#include "io/model_source.hpp"

namespace flashtp::io {
namespace {

using nlohmann::json;

// Module names before 2024-04-14 -> today's (sevenn map_old_model).
std::string today_module(const std::string& old) {
  if (old == "EdgeEmbedding") return "edge_embedding";
  if (old == "reducing nn input to hidden") return "reduce_input_to_hidden";
  if (old == "reducing nn hidden to energy") return "reduce_hidden_to_energy";
  if (old == "rescale atomic energy") return "rescale_atomic_energy";
  // "{i} self connection intro" -> "{i}_self_connection_intro", likewise for
  // the convolution, self interaction 2 and the gate
  const auto space = old.find(' ');
  if (space == std::string::npos || space == 0 || old.find_first_not_of("0123456789") != space) return old;
  const std::string block = old.substr(space + 1);
  for (const char* known : {"self connection intro", "convolution", "self interaction 2", "equivariant gate"})
    if (block == known) {
      std::string name = old;
      for (auto& c : name) c = c == ' ' ? '_' : c;
      return name;
    }
  return old;
}

// Renames every tensor; true if any had an old name.
bool rename_modules(std::map<std::string, Tensor>& weights) {
  std::map<std::string, Tensor> out;
  bool renamed = false;
  for (auto& [name, t] : weights) {
    const auto dot = name.find('.');
    std::string module = name.substr(0, dot), rest = dot == std::string::npos ? "" : name.substr(dot);
    const std::string today = today_module(module);
    if (const auto d = rest.find("denumerator"); d != std::string::npos) rest.replace(d, 11, "denominator");
    const std::string new_name = today + rest;
    renamed = renamed || new_name != name;
    if (out.count(new_name)) throw Error("tensors '" + name + "' and '" + new_name + "' name the same parameter");
    out[new_name] = std::move(t);
  }
  weights = std::move(out);
  return renamed;
}

bool any_of(const json& per_layer, const std::string& value) {
  if (per_layer.is_array()) {
    for (const auto& v : per_layer)
      if (v == value) return true;
    return false;
  }
  return per_layer == value;
}

std::string numbers(const std::vector<double>& values) {
  std::ostringstream s;
  for (size_t k = 0; k < values.size(); ++k) s << (k ? ", " : "") << values[k];
  return s.str();
}

void upgrade_config(ModelSource& s, bool old_names) {
  json& c = s.config;
  auto note = [&](const std::string& line) { s.legacy.push_back(line); };

  if (!c.contains("_normalize_sph")) {
    c["_normalize_sph"] = false;
    note("no _normalize_sph: harmonics of the edge vector, not normalised (SevenNet before 2024-05)");
  }

  if (!c.contains("conv_denominator") || c["conv_denominator"].is_null()) {
    std::vector<double> stored;
    for (int t = 0; s.weights.count(std::to_string(t) + "_convolution.denominator"); ++t) {
      const Tensor& d = s.weights.at(std::to_string(t) + "_convolution.denominator");
      if (d.values.size() != 1) throw Error(std::to_string(t) + "_convolution.denominator is not one number");
      stored.push_back(d.values[0]);
    }
    if (stored.empty()) throw Error("the config has no conv_denominator and the weights no 0_convolution.denominator");
    c["conv_denominator"] = stored;
    note("no conv_denominator: the stored denominators (set to sqrt(avg_num_neigh) for training): " + numbers(stored));
  }

  const json sc = c.value("self_connection_type", json("nequip"));
  // The XPLOR arguments were swapped until the commit that renamed 'MACE' to
  // 'linear', three days before the module names changed.
  if (old_names && !any_of(sc, "linear") && c.contains("cutoff_function") && c.contains("cutoff")) {
    json envelope = config_object(c["cutoff_function"]);
    if (envelope.value("cutoff_function_name", "") == "XPLOR") {
      const double cutoff = c.at("cutoff").get<double>();
      std::ostringstream line;
      line << "XPLOR as SevenNet before 2024-04-11 computed it: r_on = cutoff (" << cutoff << "), not cutoff_on ("
           << envelope.value("cutoff_on", json()).dump() << "): the envelope is 1 on every edge";
      envelope["cutoff_on"] = cutoff;
      c["cutoff_function"] = envelope;
      note(line.str());
    }
  }
  if (any_of(sc, "MACE")) {
    json today = sc;
    if (today.is_array())
      for (auto& v : today) v = v == "MACE" ? json("linear") : v;
    else
      today = "linear";
    c["self_connection_type"] = today;
    note("self_connection_type 'MACE' is today's 'linear'");
  }

  if (!c.contains("act_radial")) {
    const json scalar = config_object(c.at("act_scalar")), gate = config_object(c.at("act_gate"));
    c["act_scalar"] = gate;
    c["act_gate"] = scalar;
    c["act_radial"] = gate.at("e");
    note("no act_radial: act_scalar and act_gate swapped and the radial MLP on act_gate['e'] (" +
         gate.at("e").get<std::string>() + "), as SevenNet 0.9.0 built them");
  }
}

}  // namespace

ModelSource upgrade_legacy_checkpoint(ModelSource source) {
  int major = 0, minor = 0;
  if (std::sscanf(source.version.c_str(), "%d.%d", &major, &minor) < 2) return source;  // today's layout
  if (major == 0 && minor < 9)
    throw Error("checkpoints of SevenNet " + source.version +
                " are not supported: 0.8.x changed its layout within one version (the energy rescaled after the "
                "forces, act_scalar and act_gate swapped); a model deployed by that SevenNet (.pt) is read");
  if (major > 0 || minor >= 11) return source;
  if (minor < 10) {
    const bool old_names = rename_modules(source.weights);
    if (old_names) source.legacy.push_back("module names of SevenNet before 2024-04 ('EdgeEmbedding', '0 convolution', ...)");
    try {
      upgrade_config(source, old_names);
    } catch (const json::exception& e) {
      throw Error(std::string("config of SevenNet ") + source.version + ": " + e.what());
    }
  }
  source.legacy.push_back("convolution paths in their order before SevenNet 0.11 (unsorted): the radial MLP's columns");
  return source;
}

}  // namespace flashtp::io
