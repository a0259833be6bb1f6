#include "io/deployed.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "elements.hpp"
#include "error.hpp"
#include "io/deployed_arch.hpp"
#include "io/deployed_archive.hpp"
#include "io/deployed_coupling.hpp"
#include "io/deployed_script.hpp"
#include "io/zip.hpp"

namespace flashtp::io {
namespace {

using nlohmann::json;
using namespace deployed;

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

bool says_yes(const std::string& value) {
  const std::string v = trim(value);
  return v == "yes" || v == "true" || v == "True" || v == "1";
}

// What sevenn's deploy writes as _extra_files, checked before the code is read.
void check_metadata(const Archive& a) {
  const auto& extra = a.extra();
  if (extra.count("comm_size") || a.prefix().rfind("deployed_parallel", 0) == 0)
    throw Error("a parallel deployment (one of the deployed_parallel_*.pt files of `sevenn_get_model -p`); "
                "flashtp runs any number of ranks from the serial model: deploy it without -p, or give the checkpoint");
  if (says_yes(a.extra("flashTP")))
    throw Error("deployed with FlashTP kernels (extra/flashTP: yes), whose convolution is not in the file's code; "
                "deploy the checkpoint again without --enable_flash, or give the checkpoint");
  if (says_yes(a.extra("oeq")))
    throw Error("deployed with OpenEquivariance kernels (extra/oeq: yes), whose convolution is not in the file's code; "
                "deploy the checkpoint again without --enable_oeq, or give the checkpoint");
  if (says_yes(a.extra("cueq")) || says_yes(a.extra("cuequivariance")))
    throw Error("deployed with cuEquivariance kernels; deploy the checkpoint again without them, or give the checkpoint");
  if (!extra.count("chemical_symbols_to_index") || !extra.count("cutoff"))
    throw Error("a TorchScript file without SevenNet's metadata (extra/chemical_symbols_to_index, extra/cutoff): "
                "not a deployed SevenNet model");
  const std::string type = trim(a.extra("model_type"));
  if (!type.empty() && type != "E3_equivariant_model")
    throw Error("model_type '" + type + "' is not supported (flashtp runs SevenNet's E3_equivariant_model)");
}

// The one code file of a frozen SevenNet model.
std::string forward_code(const Archive& a) {
  std::vector<std::string> py;
  for (const auto& f : a.code_files())
    if (f.size() > 3 && f.compare(f.size() - 3, 3, ".py") == 0) py.push_back(f);
  if (py.empty()) throw Error("a zip archive without TorchScript code (code/*.py)");
  const std::string& file = py[0];
  if (file.find("code/__torch__/sevenn/") == std::string::npos)
    throw Error("TorchScript of '" + file + "', not of a SevenNet model (code/__torch__/sevenn/...)");
  if (py.size() > 1)
    throw Error("TorchScript with " + std::to_string(py.size()) +
                " code files: not a frozen deployment (sevenn_get_model freezes the model into one)");
  return a.code(file);
}

// Features of SevenNet that the engine does not run, told by the code.
void check_code(const script::Script& s) {
  for (const auto& st : s.body)
    script::visit(*st.value, [&](const script::Expr& e, const script::Expr*) {
      if (e.kind == script::Expr::Kind::string && e.text == "scaled_total_energy")
        throw Error("a SevenNet development build from before 0.8 (it scales the total energy, not atomic energies, "
                    "and divides no message by a denominator): not supported; deploy its checkpoint with SevenNet >= 0.8");
      if (e.kind == script::Expr::Kind::string && (e.text == "modal_attr" || e.text == "modal_type"))
        throw Error("a multi-modal SevenNet model (its code reads the modality, e.g. SevenNet-MF): not supported");
      if (e.kind == script::Expr::Kind::call && e.text.rfind("ops.", 0) == 0 && e.text.rfind("ops.prim.", 0) != 0)
        throw Error("code line " + std::to_string(st.line) + " calls the custom operator " + e.text +
                    " (FlashTP, cuEquivariance or OpenEquivariance kernels): deploy without them, or give the checkpoint");
    });
}

std::vector<std::string> species_of(const Archive& a) {
  std::vector<std::string> species;
  std::istringstream in(a.extra("chemical_symbols_to_index"));
  for (std::string s; in >> s;) {
    if (atomic_number(s) == 0) throw Error("extra/chemical_symbols_to_index names an unknown element '" + s + "'");
    species.push_back(s);
  }
  if (species.empty()) throw Error("extra/chemical_symbols_to_index is empty");
  const std::string n = trim(a.extra("num_species"));
  if (!n.empty() && std::atoi(n.c_str()) != static_cast<int>(species.size()))
    throw Error("extra/num_species is " + n + " but chemical_symbols_to_index names " + std::to_string(species.size()));
  return species;
}

// Which constants are weights: not 0-d (activation constants, placeholders)
// and not e3nn's coupling tensors.
struct Constants {
  std::vector<std::vector<int64_t>> shapes;
  std::set<int> not_weights;
  std::map<int, Coupling> couplings;
  std::vector<double> scalar;  // 0-d values, NaN elsewhere
};

Constants classify(const Archive& a) {
  Constants c;
  const auto& all = a.constants();
  for (int k = 0; k < static_cast<int>(all.size()); ++k) {
    const Constant& t = all[k];
    c.shapes.push_back(t.value.shape);
    c.scalar.push_back(std::nan(""));
    if (!t.tensor) {
      c.not_weights.insert(k);
      continue;
    }
    if (t.value.shape.empty()) {
      c.scalar[k] = t.value.values.at(0);
      c.not_weights.insert(k);
    } else if (auto coupling = as_coupling(t.value.shape, t.value.values)) {
      c.couplings[k] = *coupling;
      c.not_weights.insert(k);
    }
  }
  return c;
}

bool version_at_least(const std::string& version, int major, int minor) {
  int a = 0, b = 0;
  if (std::sscanf(version.c_str(), "%d.%d", &a, &b) < 2) return true;  // unknown: current layout
  return a > major || (a == major && b >= minor);
}

std::map<std::string, Tensor> read_weights(const Archive& a, const std::vector<Piece>& pieces, const Solution& s) {
  std::map<std::string, Tensor> out;
  for (const auto& as : s.weights) {
    Tensor t;
    t.dtype = "float32";
    for (const auto& part : as.parts) {
      const Piece& p = pieces[part.piece];
      auto v = a.values(p.constant, p.offset, p.numel);
      // A folded normalisation is divided out in double: the value is then no
      // longer a float32 number, and is kept as a double.
      if (part.scale != 1 || a.constants()[p.constant].value.dtype != "float32") t.dtype = "float64";
      for (auto& x : v) x *= part.scale;
      t.values.insert(t.values.end(), v.begin(), v.end());
    }
    t.shape = as.shape.empty() ? std::vector<int64_t>{static_cast<int64_t>(t.values.size())} : as.shape;
    out[as.name] = std::move(t);
  }
  return out;
}

// Negates the radial weights of every convolution path that used a coupling
// tensor of the opposite sign (see deployed_coupling.hpp).
void undo_flipped_couplings(const script::Script& script, const Constants& constants, const std::vector<Piece>& pieces,
                            const Solution& s, bool sorted, std::map<std::string, Tensor>& weights) {
  // The statements of each layer's convolution: from its last radial weights
  // to the module's output, written to the data dict as "x".
  auto statement_of = [&](const std::string& name) {
    for (const auto& as : s.weights)
      if (as.name == name) return pieces[as.parts.back().piece].statement;
    throw Error("no tensor " + name);
  };
  auto writes_x = [&](const script::Expr& e) {
    return e.is_call("torch._set_item") && e.args.size() == 3 && e.args[1]->kind == script::Expr::Kind::string &&
           e.args[1]->text == "x";
  };
  const int last = static_cast<int>(s.arch.radial_hidden.size());
  const int n = static_cast<int>(script.body.size());
  for (int t = 0; t < s.arch.num_layers(); ++t) {
    const std::string radial = std::to_string(t) + "_convolution.weight_nn.layer" + std::to_string(last) + ".weight";
    std::set<std::array<int, 3>> flipped;
    for (int i = statement_of(radial); i < n && !writes_x(*script.body[i].value); ++i)
      script::visit(*script.body[i].value, [&](const script::Expr& e, const script::Expr*) {
        if (e.kind != script::Expr::Kind::constant) return;
        auto it = constants.couplings.find(e.constant);
        if (it != constants.couplings.end() && it->second.flipped)
          flipped.insert({it->second.l1, it->second.l2, it->second.l3});
      });
    if (flipped.empty()) continue;
    Tensor& w = weights.at(radial);
    const int64_t cols = w.shape.back();
    for (const auto& p : convolution_paths(s.arch, t, sorted)) {
      if (!flipped.count({p.l_in, p.l_sh, p.l_out})) continue;
      for (int64_t r = 0; r < w.numel() / cols; ++r)
        for (int c = p.offset; c < p.offset + p.mul; ++c) w.values[r * cols + c] = -w.values[r * cols + c];
    }
  }
}

json per_layer(const std::vector<json>& values) {
  for (const auto& v : values)
    if (v != values[0]) return values;
  return values[0];
}

json make_config(const Solution& s, const CodeFeatures& f, double cutoff, const std::vector<std::string>& species,
                 const std::map<std::string, Tensor>& w) {
  const Architecture& a = s.arch;
  json c;
  c["cutoff"] = cutoff;
  c["channel"] = a.channel;
  c["lmax"] = a.lmax_sh;
  c["lmax_edge"] = -1;
  c["lmax_node"] = s.lmax_node;
  if (s.manual) {
    json irreps = json::array();
    for (const auto& x : a.node) irreps.push_back(x.str());
    c["irreps_manual"] = irreps;
  } else {
    c["irreps_manual"] = false;
  }
  c["is_parity"] = a.parity;
  c["num_convolution_layer"] = a.num_layers();
  c["radial_basis"] = {{"radial_basis_name", "bessel"}, {"bessel_basis_num", a.num_basis}};
  if (f.envelope == "XPLOR") {
    c["cutoff_function"] = {{"cutoff_function_name", "XPLOR"}, {"cutoff_on", f.xplor_on}};
  } else {
    json p = f.poly_p == std::round(f.poly_p) ? json(static_cast<int>(f.poly_p)) : json(f.poly_p);
    c["cutoff_function"] = {{"cutoff_function_name", "poly_cut"}, {"poly_cut_p_value", p}};
  }
  c["act_radial"] = s.acts.radial;
  c["act_scalar"] = {{"e", s.acts.scalar_e}, {"o", s.acts.scalar_o}};
  c["act_gate"] = {{"e", s.acts.gate_e}, {"o", s.acts.gate_o}};
  c["weight_nn_hidden_neurons"] = a.radial_hidden;
  std::vector<json> denominators, self_connection;
  for (int t = 0; t < a.num_layers(); ++t) {
    denominators.push_back(w.at(std::to_string(t) + "_convolution.denominator").values[0]);
    self_connection.push_back(a.self_connection[t]);
  }
  c["conv_denominator"] = per_layer(denominators);
  c["self_connection_type"] = per_layer(self_connection);
  c["use_bias_in_linear"] = a.bias;
  c["readout_as_fcn"] = a.readout_fcn;
  c["readout_fcn_hidden_neurons"] = a.readout_fcn ? a.readout_hidden : std::vector<int>{30, 30};
  c["readout_fcn_activation"] = s.acts.readout;
  c["interaction_type"] = "nequip";
  c["_normalize_sph"] = f.normalize_sh;
  if (!a.reduce_last) c["optimize_by_reduce"] = false;
  // Frozen into constants, not trainable any more; no accelerated kernels.
  for (const char* key : {"train_denominator", "train_shift_scale", "use_modal_node_embedding",
                          "use_modal_self_inter_intro", "use_modal_self_inter_outro", "use_modal_output_block",
                          "use_modality", "use_flash_tp", "use_oeq"})
    c[key] = false;
  c["cuequivariance_config"] = json::object();
  c["chemical_species"] = species;
  c["_number_of_species"] = static_cast<int>(species.size());
  json type_map = json::object();
  for (size_t k = 0; k < species.size(); ++k) type_map[std::to_string(atomic_number(species[k]))] = k;
  c["_type_map"] = type_map;
  for (const char* key : {"shift", "scale"}) {
    const auto& v = w.at(std::string("rescale_atomic_energy.") + key).values;
    c[key] = v.size() == 1 ? json(v[0]) : json(v);
  }
  return c;
}

ModelSource read(const std::string& path) {
  const Archive archive(path);
  check_metadata(archive);
  const std::vector<std::string> species = species_of(archive);
  const script::Script script = script::parse(forward_code(archive));
  check_code(script);

  const Constants constants = classify(archive);
  const Dataflow flow(script);
  const std::vector<Piece> pieces = flow.pieces(constants.shapes, constants.not_weights);
  const CodeFeatures features = read_features(flow, [&](int k) { return constants.scalar.at(k); });
  const Solution solution = recover(flow, pieces, features, static_cast<int>(species.size()));

  const double cutoff = std::atof(archive.extra("cutoff").c_str());
  if (!(cutoff > 0)) throw Error("extra/cutoff '" + archive.extra("cutoff") + "' is not a positive number");
  if (features.envelope == "poly_cut" && std::abs(features.envelope_cutoff - cutoff) > 1e-9 * cutoff)
    throw Error("extra/cutoff says " + archive.extra("cutoff") + " but the code's envelope ends at " +
                std::to_string(features.envelope_cutoff));

  ModelSource source;
  source.origin = "deployed";
  source.version = trim(archive.extra("version"));
  source.weights = read_weights(archive, pieces, solution);
  undo_flipped_couplings(script, constants, pieces, solution, version_at_least(source.version, 0, 11), source.weights);
  source.config = make_config(solution, features, cutoff, species, source.weights);
  return source;
}

}  // namespace

bool is_deployed_file(const std::string& path) {
  try {
    const ZipArchive zip(path);
    for (const auto& name : zip.names()) {
      const auto slash = name.find('/');
      if (slash != std::string::npos && name.compare(slash, std::string::npos, "/constants.pkl") == 0) return true;
    }
  } catch (const Error&) {
  }
  return false;
}

ModelSource read_deployed(const std::string& path) {
  try {
    return read(path);
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.find(path) != std::string::npos) throw;
    throw Error("'" + path + "': " + what);
  }
}

}  // namespace flashtp::io
