#include "model_build.hpp"

#include <cmath>
#include <sstream>

#include "activation.hpp"
#include "elements.hpp"
#include "error.hpp"

namespace flashtp {
namespace {

using nlohmann::json;

// ---- reading the config and the state dict ---------------------------------

class Source {
 public:
  explicit Source(const io::ModelSource& s) : s_(s) {}

  const json& config(const std::string& key) const {
    auto it = s_.config.find(key);
    if (it == s_.config.end()) throw Error("model config has no '" + key + "'");
    return *it;
  }
  template <typename V>
  V config_or(const std::string& key, V fallback) const {
    auto it = s_.config.find(key);
    return it == s_.config.end() || it->is_null() ? fallback : it->get<V>();
  }
  bool has(const std::string& name) const { return s_.weights.count(name) > 0; }

  const io::Tensor& tensor(const std::string& name, int64_t numel) const {
    auto it = s_.weights.find(name);
    if (it == s_.weights.end()) throw Error("model weights have no tensor '" + name + "'");
    if (numel >= 0 && it->second.numel() != numel) {
      std::ostringstream m;
      m << "tensor '" << name << "' has " << it->second.numel() << " values, the architecture needs " << numel;
      throw Error(m.str());
    }
    return it->second;
  }
  std::vector<double> values(const std::string& name, int64_t numel) const { return tensor(name, numel).values; }

 private:
  const io::ModelSource& s_;
};

// SevenNet keeps some options as a string or a list per layer.
template <typename V>
std::vector<V> per_layer(const json& value, int layers) {
  if (value.is_array()) {
    if (static_cast<int>(value.size()) != layers) throw Error("per-layer config list has the wrong length");
    return value.get<std::vector<V>>();
  }
  return std::vector<V>(layers, value.get<V>());
}

// ---- e3nn irreps algebra that SevenNet's builder uses ----------------------

Irreps spherical_harmonics_irreps(int lmax, bool parity) {
  std::vector<MulIrrep> out;
  for (int l = 0; l <= lmax; ++l) out.push_back({1, {l, parity && l % 2 == 1 ? -1 : 1}});
  return Irreps(out);
}

// ---- modules ----------------------------------------------------------------

// e3nn o3.Linear with path_normalization "element"; weight = flat e3nn weight.
Linear make_linear(const Irreps& in, const Irreps& out, const std::vector<double>& weight,
                   const std::vector<double>& bias) {
  Linear lin{in, out, {}, {}};
  size_t offset = 0;
  for (int i = 0; i < in.size(); ++i)
    for (int o = 0; o < out.size(); ++o) {
      if (in[i].ir != out[o].ir) continue;
      lin.paths.push_back({i, o, {}});
    }
  for (auto& p : lin.paths) {
    int fan_in = 0;
    for (const auto& q : lin.paths)
      if (q.seg_out == p.seg_out) fan_in += in[q.seg_in].mul;
    const double alpha = 1.0 / std::sqrt(static_cast<double>(fan_in > 0 ? fan_in : 1));
    const size_t n = static_cast<size_t>(in[p.seg_in].mul) * out[p.seg_out].mul;
    p.weight.assign(weight.begin() + offset, weight.begin() + offset + n);
    for (auto& w : p.weight) w *= alpha;
    offset += n;
  }
  if (offset != weight.size()) throw Error("linear " + in.str() + " -> " + out.str() + ": weight size mismatch");
  if (!bias.empty()) {
    // e3nn biases every 0e output segment, in order, with weight 1.
    lin.bias.assign(out.dim(), 0.0);
    size_t b = 0;
    for (int o = 0; o < out.size(); ++o) {
      if (out[o].ir != Irrep{0, 1}) continue;
      for (int v = 0; v < out[o].mul; ++v) lin.bias.at(out.offset(o) + v) = bias.at(b++);
    }
    if (b != bias.size()) throw Error("linear bias size mismatch for " + out.str());
  }
  return lin;
}

int64_t linear_numel(const Irreps& in, const Irreps& out) {
  int64_t n = 0;
  for (const auto& a : in)
    for (const auto& b : out)
      if (a.ir == b.ir) n += static_cast<int64_t>(a.mul) * b.mul;
  return n;
}

int64_t bias_numel(const Irreps& out) {
  int64_t n = 0;
  for (const auto& s : out)
    if (s.ir == Irrep{0, 1}) n += s.mul;
  return n;
}

// SevenNet IrrepsLinear named `name` (tensors name.linear.weight / .bias).
Linear read_linear(const Source& src, const std::string& name, const Irreps& in, const Irreps& out) {
  auto weight = src.values(name + ".linear.weight", linear_numel(in, out));
  std::vector<double> bias;
  const std::string bias_name = name + ".linear.bias";
  if (src.has(bias_name) && src.tensor(bias_name, -1).numel() > 0) bias = src.values(bias_name, bias_numel(out));
  return make_linear(in, out, weight, bias);
}

Mlp read_mlp(const Source& src, const std::string& prefix, const std::vector<int>& widths, Activation act) {
  Mlp mlp{widths, {}, act};
  for (size_t k = 0; k + 1 < widths.size(); ++k) {
    auto w = src.values(prefix + ".layer" + std::to_string(k) + ".weight",
                        static_cast<int64_t>(widths[k]) * widths[k + 1]);
    // e3nn _Layer: x @ (W / sqrt(h_in)), then act(.) * scale on hidden layers.
    // The scale of layer k's activation multiplies layer k+1's weight.
    double factor = 1.0 / std::sqrt(static_cast<double>(widths[k]));
    if (k > 0) factor *= act.scale;
    for (auto& v : w) v *= factor;
    mlp.weight.push_back(std::move(w));
  }
  return mlp;
}

// 'nequip' self-connection: e3nn FullyConnectedTensorProduct(x, one-hot, out),
// "uvw" paths (i1, 0, i_out) for every output segment of x's irrep. With a
// one-hot operand it is one Linear per species.
std::vector<Linear> read_species_tensor_product(const Source& src, const std::string& name, const Irreps& in,
                                                int num_species, const Irreps& out) {
  struct Path {
    int i1, o;
    size_t offset;
  };
  std::vector<Path> paths;
  size_t offset = 0;
  for (int i = 0; i < in.size(); ++i)
    for (int o = 0; o < out.size(); ++o)
      if (in[i].ir == out[o].ir) {
        paths.push_back({i, o, offset});
        offset += static_cast<size_t>(in[i].mul) * num_species * out[o].mul;
      }
  auto weight = src.values(name + ".fc_tensor_product.weight", static_cast<int64_t>(offset));
  std::vector<Linear> per_species;
  for (int s = 0; s < num_species; ++s) {
    Linear lin{in, out, {}, {}};
    for (const auto& p : paths) {
      int fan_in = 0;
      for (const auto& q : paths)
        if (q.o == p.o) fan_in += in[q.i1].mul * num_species;
      // sqrt((2l+1)/fan_in) * C(l,0,l)[m,0,m], with C(l,0,l) = delta / sqrt(2l+1).
      const int l = in[p.i1].ir.l;
      const double c = wigner_3j(l, 0, l)[0];
      const double alpha = std::sqrt((2.0 * l + 1.0) / fan_in) * c;
      const int mu = in[p.i1].mul, mw = out[p.o].mul;
      std::vector<double> w(static_cast<size_t>(mu) * mw);
      for (int u = 0; u < mu; ++u)
        for (int v = 0; v < mw; ++v) w[u * mw + v] = alpha * weight[p.offset + (static_cast<size_t>(u) * num_species + s) * mw + v];
      lin.paths.push_back({p.i1, p.o, std::move(w)});
    }
    per_species.push_back(std::move(lin));
  }
  return per_species;
}

// SevenNet IrrepsConvolution: one "uvu" path per (x segment, SH degree, output
// irrep allowed by irreps_out_tp); the mid irreps are sorted and, since
// SevenNet 0.11, so are the paths (by output), which fixes the radial MLP's
// column order.
Convolution make_convolution(const Irreps& x, const Irreps& sh, const Irreps& out_tp, bool sort_paths) {
  Convolution conv;
  conv.in = x;
  conv.sh = sh;
  std::vector<MulIrrep> mid;
  for (int i = 0; i < x.size(); ++i)
    for (int j = 0; j < sh.size(); ++j)
      for (const auto& ir : product(x[i].ir, sh[j].ir))
        if (out_tp.contains(ir)) {
          conv.paths.push_back({i, j, static_cast<int>(mid.size()), 0, 0.0, {}});
          mid.push_back({x[i].mul, ir});
        }
  auto sorted = Irreps(mid).sort();
  conv.mid = sorted.irreps;
  for (auto& p : conv.paths) p.seg_out = sorted.permutation[p.seg_out];
  if (sort_paths)
    std::stable_sort(conv.paths.begin(), conv.paths.end(),
                     [](const auto& a, const auto& b) { return a.seg_out < b.seg_out; });
  int offset = 0;
  for (auto& p : conv.paths) {
    p.weight_offset = offset;
    offset += x[p.seg_in].mul;
    // one path per output segment: fan-in 1 ("element" normalisation, mul_in2 = 1)
    const int l3 = conv.mid[p.seg_out].ir.l;
    p.alpha = std::sqrt(2.0 * l3 + 1.0);
    p.cg = wigner_3j_sparse(x[p.seg_in].ir.l, sh[p.seg_sh].ir.l, l3);
  }
  return conv;
}

int num_weights(const Convolution& conv) {
  int n = 0;
  for (const auto& p : conv.paths) n += conv.in[p.seg_in].mul;
  return n;
}

// SevenNet EquivariantGate(irreps_out) -> e3nn Gate(scalars, gates, gated).
Gate make_gate(const Irreps& irreps_out, const json& act_scalar, const json& act_gate) {
  const GateGroups split = gate_groups(irreps_out);
  auto act_for = [](const json& table, int parity) {
    const std::string key = parity == 1 ? "e" : "o";
    if (!table.contains(key)) throw Error("activation for parity '" + key + "' missing in the config");
    return make_activation(table[key].get<std::string>());
  };

  // e3nn _Sortcut: input = sort(scalars + gates + gated).
  const Irreps groups[3] = {split.scalars, split.gates, split.gated};
  const Irreps all = groups[0] + groups[1] + groups[2];
  const auto sorted = all.sort();
  Gate gate;
  gate.in = split.gate_input();
  std::vector<int> offset_of(all.size());
  for (int k = 0; k < all.size(); ++k) offset_of[k] = sorted.irreps.offset(sorted.permutation[k]);

  int k = 0;
  std::vector<MulIrrep> out;
  for (int s = 0; s < groups[0].size(); ++s, ++k) {
    Activation act = act_for(act_scalar, groups[0][s].ir.p);
    gate.scalars.push_back({offset_of[k], groups[0][s].mul, act});
    const int p_act = activation_parity(act.kind);
    const int p_in = groups[0][s].ir.p;
    const int p_out = p_in == -1 ? p_act : p_in;
    if (p_out == 0) throw Error("gate: odd scalars need an odd or even activation, got " + act.name());
    out.push_back({groups[0][s].mul, {0, p_out}});
  }
  std::vector<int> gate_channel;  // input index of each gate channel, in order
  for (int g = 0; g < groups[1].size(); ++g, ++k)
    for (int u = 0; u < groups[1][g].mul; ++u) gate_channel.push_back(offset_of[k] + u);
  const Activation gate_act = split.gates.size() == 0 ? Activation{} : act_for(act_gate, split.gate_parity);
  int channel = 0;
  for (int g = 0; g < groups[2].size(); ++g, ++k) {
    const auto& s = groups[2][g];
    // gate channels of one simplified gated segment are contiguous in the input
    gate.gated.push_back({offset_of[k], s.mul, s.ir.dim(), gate_channel.at(channel), gate_act});
    for (int u = 1; u < s.mul; ++u)
      if (gate_channel[channel + u] != gate_channel[channel] + u) throw Error("gate: non-contiguous gates");
    channel += s.mul;
    out.push_back(s);
  }
  gate.out = Irreps(out);
  return gate;
}

bool version_at_least(const std::string& version, int major, int minor) {
  int a = 0, b = 0;
  if (std::sscanf(version.c_str(), "%d.%d", &a, &b) < 2) return true;  // unknown: current layout
  return a > major || (a == major && b >= minor);
}

json as_object(const json& value) {
  // Older SevenNet configs and JSON dumps may keep dicts as Python repr strings.
  if (!value.is_string()) return value;
  std::string s = value.get<std::string>();
  for (auto& c : s) c = c == '\'' ? '"' : c;
  return json::parse(s);
}

}  // namespace

int Model::species_index(const std::string& element) const {
  for (size_t k = 0; k < species.size(); ++k)
    if (species[k] == element) return static_cast<int>(k);
  return -1;
}

Model build_model(const io::ModelSource& source) {
  const Source src(source);
  Model model;
  model.sevenn_version = source.version;
  model.legacy = source.legacy;

  const std::string interaction = src.config_or<std::string>("interaction_type", "nequip");
  if (interaction != "nequip") throw Error("unsupported interaction_type '" + interaction + "' (flashtp runs 'nequip')");
  if (src.config_or<bool>("use_modality", false))
    throw Error("multi-modal (use_modality) SevenNet models are not supported yet");

  // Species, in the model's order (the _type_map: atomic number -> index).
  const json type_map = as_object(src.config("_type_map"));
  model.species.resize(type_map.size());
  for (const auto& [z, index] : type_map.items()) {
    const int i = index.get<int>();
    if (i < 0 || i >= static_cast<int>(type_map.size())) throw Error("_type_map has an index out of range");
    model.species[i] = element_symbol(std::stoi(z));
  }
  const int num_species = model.num_species();

  // Edge embedding.
  const double cutoff = src.config("cutoff").get<double>();
  const json basis = as_object(src.config("radial_basis"));
  if (basis.value("radial_basis_name", "bessel") != "bessel")
    throw Error("unsupported radial basis '" + basis.value("radial_basis_name", "") + "'");
  const int num_basis = basis.value("bessel_basis_num", 8);
  model.radial.cutoff = cutoff;
  model.radial.frequency = src.values("edge_embedding.basis_function.coeffs", num_basis);
  const json envelope = as_object(src.config("cutoff_function"));
  const std::string env_name = envelope.value("cutoff_function_name", "poly_cut");
  if (env_name == "poly_cut") {
    model.radial.envelope = RadialBasis::Envelope::polynomial;
    model.radial.poly_p = envelope.value("poly_cut_p_value", 6.0);
  } else if (env_name == "XPLOR") {
    model.radial.envelope = RadialBasis::Envelope::xplor;
    model.radial.xplor_on = envelope.at("cutoff_on").get<double>();
  } else {
    throw Error("unsupported cutoff function '" + env_name + "'");
  }

  const int lmax = src.config("lmax").get<int>();
  const int lmax_edge = src.config_or<int>("lmax_edge", -1);
  int lmax_node = src.config_or<int>("lmax_node", -1) > 0 ? src.config_or<int>("lmax_node", -1) : lmax;
  const bool parity = src.config("is_parity").get<bool>();
  model.lmax_sh = lmax_edge > 0 ? lmax_edge : lmax;
  model.sh_normalized = src.config_or<bool>("_normalize_sph", true);
  // SevenNet <= 0.9 with optimize_by_reduce false (e.g. its HfO2 example) kept
  // the last layer like the others, and read out channel // 2 scalars.
  const bool reduce_last = src.config_or<bool>("optimize_by_reduce", true);
  const Irreps sh = spherical_harmonics_irreps(model.lmax_sh, parity);

  const int num_layers = src.config("num_convolution_layer").get<int>();
  const int channel = src.config("channel").get<int>();
  std::vector<Irreps> manual;
  if (src.config_or<json>("irreps_manual", json(false)).is_array()) {
    for (const auto& s : src.config("irreps_manual")) manual.push_back(Irreps::parse(s.get<std::string>()));
    if (static_cast<int>(manual.size()) != num_layers + 1) throw Error("irreps_manual needs num_convolution_layer + 1 entries");
  }
  const auto denominators = per_layer<double>(src.config("conv_denominator"), num_layers);
  (void)denominators;  // the stored parameter (float32 in the file) is what the model uses
  const auto sc_types = per_layer<std::string>(src.config_or<json>("self_connection_type", json("nequip")), num_layers);
  const Activation act_radial = make_activation(src.config_or<std::string>("act_radial", "silu"));
  const json act_scalar = as_object(src.config("act_scalar"));
  const json act_gate = as_object(src.config("act_gate"));
  std::vector<int> radial_widths = {num_basis};
  for (int h : src.config("weight_nn_hidden_neurons")) radial_widths.push_back(h);
  const bool sort_paths = version_at_least(source.version, 0, 11);

  // Node embedding: Linear(one-hot -> irreps_x) evaluated on each one-hot.
  Irreps x = manual.empty() ? Irreps(std::vector<MulIrrep>{{channel, {0, 1}}}) : manual[0];
  const Irreps onehot(std::vector<MulIrrep>{{num_species, {0, 1}}});
  const Linear embed = read_linear(src, "onehot_to_feature_x", onehot, x);
  model.irreps_embedding = x;
  for (int s = 0; s < num_species; ++s) {
    std::vector<double> e(x.dim(), 0.0);
    for (const auto& p : embed.paths)
      for (int v = 0; v < x[p.seg_out].mul; ++v) e[x.offset(p.seg_out) + v] += p.weight[s * x[p.seg_out].mul + v];
    if (!embed.bias.empty())
      for (int k = 0; k < x.dim(); ++k) e[k] += embed.bias[k];
    model.embedding.push_back(e);
  }

  for (int t = 0; t < num_layers; ++t) {
    const std::string name = std::to_string(t) + "_";
    const bool last = t == num_layers - 1 && reduce_last;
    const Irreps out = manual.empty() ? infer_irreps_out(x, sh, last ? 0 : lmax_node, last, channel) : manual[t + 1];
    const Irreps out_tp = infer_irreps_out(x, sh, out.lmax(), last, 0);

    Layer layer;
    layer.gate = make_gate(out, act_scalar, act_gate);
    const Irreps& gate_in = layer.gate.in;
    if (sc_types[t] == "nequip")
      layer.self_connection = read_species_tensor_product(src, name + "self_connection_intro", x, num_species, gate_in);
    else if (sc_types[t] == "linear")
      layer.self_connection = {make_linear(x, gate_in, src.values(name + "self_connection_intro.linear.weight", linear_numel(x, gate_in)), {})};
    else
      throw Error("unsupported self_connection_type '" + sc_types[t] + "'");
    layer.linear_1 = read_linear(src, name + "self_interaction_1", x, x);
    layer.conv = make_convolution(x, sh, out_tp, sort_paths);
    std::vector<int> widths = radial_widths;
    widths.push_back(num_weights(layer.conv));
    layer.conv.radial = read_mlp(src, name + "convolution.weight_nn", widths, act_radial);
    layer.conv.denominator = src.values(name + "convolution.denominator", 1)[0];
    layer.linear_2 = read_linear(src, name + "self_interaction_2", out_tp, gate_in);
    model.layers.push_back(std::move(layer));
    x = out;
  }

  if (src.config_or<bool>("readout_as_fcn", false)) {
    std::vector<int> widths = {x.dim()};
    for (int h : src.config("readout_fcn_hidden_neurons")) widths.push_back(h);
    widths.push_back(1);
    model.readout_mlp = read_mlp(src, "readout_FCN.fcn", widths,
                                 make_activation(src.config_or<std::string>("readout_fcn_activation", "relu")));
  } else {
    const Irreps hidden(std::vector<MulIrrep>{{reduce_last ? x.dim() / 2 : channel / 2, {0, 1}}});
    model.readout_linears.push_back(read_linear(src, "reduce_input_to_hidden", x, hidden));
    model.readout_linears.push_back(read_linear(src, "reduce_hidden_to_energy", hidden, Irreps(std::vector<MulIrrep>{{1, {0, 1}}})));
  }

  // Species-wise (or global) scale and shift of the atomic energy.
  auto per_species = [&](const std::string& tensor) {
    auto v = src.values(tensor, -1);
    if (v.size() == 1) v.assign(num_species, v[0]);
    if (static_cast<int>(v.size()) != num_species) throw Error("'" + tensor + "' does not have one value per species");
    return v;
  };
  model.shift = per_species("rescale_atomic_energy.shift");
  model.scale = per_species("rescale_atomic_energy.scale");
  return model;
}

}  // namespace flashtp
