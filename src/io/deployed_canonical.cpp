#include "io/deployed_canonical.hpp"

#include <cmath>

#include "irreps.hpp"
#include "io/model_source.hpp"

namespace flashtp::io {
namespace {

using nlohmann::json;

// A number that is an integer is written as one.
json number(const json& value) {
  if (!value.is_number()) return value;
  const double x = value.get<double>();
  return x == std::round(x) && std::abs(x) < 1e15 ? json(static_cast<int64_t>(x)) : json(x);
}

// A per-layer option: one value if every layer has the same.
json per_layer(const json& value) {
  if (!value.is_array() || value.empty()) return value;
  for (const auto& v : value)
    if (v != value[0]) return value;
  return value[0];
}

template <typename V>
json get_or(const json& config, const char* key, V fallback) {
  auto it = config.find(key);
  return it == config.end() || it->is_null() ? json(fallback) : *it;
}

json canonical_config(const json& c, const std::map<std::string, Tensor>& weights) {
  json out;
  // The keys the model builder reads (src/model_build.cpp), with its defaults.
  for (const char* key : {"cutoff", "channel", "lmax", "is_parity", "num_convolution_layer", "weight_nn_hidden_neurons"})
    if (c.contains(key)) out[key] = c[key];
  out["cutoff"] = get_or(c, "cutoff", 0.0).get<double>();
  out["lmax_edge"] = get_or(c, "lmax_edge", -1);
  out["lmax_node"] = get_or(c, "lmax_node", -1);
  out["interaction_type"] = get_or(c, "interaction_type", "nequip");
  out["use_modality"] = get_or(c, "use_modality", false);
  out["act_radial"] = get_or(c, "act_radial", "silu");
  out["self_connection_type"] = per_layer(get_or(c, "self_connection_type", "nequip"));
  for (const char* key : {"act_scalar", "act_gate", "_type_map"})
    if (c.contains(key)) out[key] = config_object(c[key]);

  const json irreps = get_or(c, "irreps_manual", false);
  if (irreps.is_array()) {
    out["irreps_manual"] = json::array();
    for (const auto& s : irreps) out["irreps_manual"].push_back(s.is_string() ? json(Irreps::parse(s).str()) : s);
  } else {
    out["irreps_manual"] = false;
  }

  json basis = config_object(get_or(c, "radial_basis", json::object()));
  out["radial_basis"] = {{"radial_basis_name", basis.value("radial_basis_name", "bessel")},
                         {"bessel_basis_num", number(basis.value("bessel_basis_num", json(8)))}};
  json envelope = config_object(get_or(c, "cutoff_function", json::object()));
  const std::string name = envelope.value("cutoff_function_name", "poly_cut");
  if (name == "XPLOR")
    out["cutoff_function"] = {{"cutoff_function_name", name}, {"cutoff_on", envelope.value("cutoff_on", json())}};
  else
    out["cutoff_function"] = {{"cutoff_function_name", name},
                              {"poly_cut_p_value", number(envelope.value("poly_cut_p_value", json(6)))}};

  out["readout_as_fcn"] = get_or(c, "readout_as_fcn", false);
  if (out["readout_as_fcn"].get<bool>()) {
    out["readout_fcn_hidden_neurons"] = get_or(c, "readout_fcn_hidden_neurons", json::array({30, 30}));
    out["readout_fcn_activation"] = get_or(c, "readout_fcn_activation", "relu");
  }
  // SevenNet <= 0.9 options, kept where they differ from today's behaviour.
  out["_normalize_sph"] = get_or(c, "_normalize_sph", true);
  if (c.contains("optimize_by_reduce") && c["optimize_by_reduce"] == false) out["optimize_by_reduce"] = false;

  // The denominators the model divides by are its parameters, not the config's numbers.
  json denominators = json::array();
  for (int t = 0; weights.count(std::to_string(t) + "_convolution.denominator"); ++t)
    denominators.push_back(weights.at(std::to_string(t) + "_convolution.denominator").values.at(0));
  out["conv_denominator"] = denominators.empty() ? get_or(c, "conv_denominator", json()) : per_layer(denominators);
  return out;
}

// Tensors the model builder never reads: e3nn's output masks and coupling
// buffers, and empty parameters (biases and weights of layers without any).
bool is_bookkeeping(const std::string& name, const Tensor& t) {
  const std::string mask = ".output_mask";
  if (name.size() >= mask.size() && name.compare(name.size() - mask.size(), mask.size(), mask) == 0) return true;
  return name.find("._w3j_") != std::string::npos || t.numel() == 0;
}

}  // namespace

ModelSource canonical_source(const ModelSource& source) {
  ModelSource out;
  out.version = source.version;
  out.origin = "sevenn";  // a checkpoint or a deployed file: the same model, the same bytes
  for (const auto& [name, t] : source.weights)
    if (!is_bookkeeping(name, t)) out.weights[name] = t;
  out.config = canonical_config(source.config, out.weights);
  return out;
}

}  // namespace flashtp::io
