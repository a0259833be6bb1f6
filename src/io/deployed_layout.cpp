#include "io/deployed_layout.hpp"

#include <algorithm>
#include <cmath>

namespace flashtp::io::deployed {
namespace {

using Role = Piece::Role;

ExpectedPiece contract(int64_t numel, std::vector<int64_t> shape, int64_t fan_in) {
  return {Role::contract, numel, std::move(shape), 1.0 / std::sqrt(static_cast<double>(fan_in))};
}

// e3nn o3.Linear: one path per pair of input and output segments of the same
// irrep, normalised by the fan-in of its output; the bias covers the 0e outputs.
std::vector<ExpectedTensor> linear(const std::string& name, const Irreps& in, const Irreps& out, bool bias) {
  ExpectedTensor w{name + ".linear.weight", {}, {}};
  for (int i = 0; i < in.size(); ++i)
    for (int o = 0; o < out.size(); ++o) {
      if (in[i].ir != out[o].ir || in[i].mul * out[o].mul == 0) continue;
      int64_t fan_in = 0;
      for (const auto& s : in)
        if (s.ir == out[o].ir) fan_in += s.mul;
      w.pieces.push_back(contract(int64_t{in[i].mul} * out[o].mul, {in[i].mul, out[o].mul}, fan_in));
    }
  std::vector<ExpectedTensor> out_tensors = {w};
  if (bias) {
    ExpectedTensor b{name + ".linear.bias", {}, {}};
    for (const auto& s : out)
      if (s.ir == Irrep{0, 1} && s.mul > 0) b.pieces.push_back({Role::add, s.mul, {}, 1});
    if (!b.pieces.empty()) out_tensors.push_back(b);
  }
  return out_tensors;
}

// 'nequip' self-connection: e3nn FullyConnectedTensorProduct(x, one-hot, out).
ExpectedTensor species_tensor_product(const std::string& name, const Irreps& in, int num_species, const Irreps& out) {
  ExpectedTensor w{name + ".fc_tensor_product.weight", {}, {}};
  for (int i = 0; i < in.size(); ++i)
    for (int o = 0; o < out.size(); ++o) {
      if (in[i].ir != out[o].ir || in[i].mul * out[o].mul == 0) continue;
      int64_t fan_in = 0;
      for (const auto& s : in)
        if (s.ir == out[o].ir) fan_in += int64_t{s.mul} * num_species;
      w.pieces.push_back(contract(int64_t{in[i].mul} * num_species * out[o].mul, {in[i].mul, num_species, out[o].mul}, fan_in));
    }
  return w;
}

// e3nn FullyConnectedNet: x @ W_k / sqrt(fan_in) per layer.
std::vector<ExpectedTensor> mlp(const std::string& prefix, const std::vector<int>& widths) {
  std::vector<ExpectedTensor> out;
  for (size_t k = 0; k + 1 < widths.size(); ++k) {
    const int64_t a = widths[k], b = widths[k + 1];
    out.push_back({prefix + ".layer" + std::to_string(k) + ".weight", {a, b}, {contract(a * b, {a, b}, a)}});
  }
  return out;
}

}  // namespace

Irreps Architecture::sh() const {
  std::vector<MulIrrep> out;
  for (int l = 0; l <= lmax_sh; ++l) out.push_back({1, {l, parity && l % 2 == 1 ? -1 : 1}});
  return Irreps(out);
}

std::vector<ConvPath> convolution_paths(const Architecture& a, int t, bool sorted) {
  const Irreps& x = a.node[t];
  const Irreps sh = a.sh();
  const Irreps out_tp = tp_irreps_out(a, t);
  std::vector<ConvPath> paths;
  std::vector<MulIrrep> mid;
  for (const auto& xi : x)
    for (const auto& sj : sh)
      for (const auto& ir : product(xi.ir, sj.ir))
        if (out_tp.contains(ir)) {
          paths.push_back({xi.ir.l, sj.ir.l, ir.l, 0, xi.mul});
          mid.push_back({xi.mul, ir});
        }
  if (sorted) {
    const auto order = Irreps(mid).sort().permutation;  // new position of each path's output
    std::vector<ConvPath> by_output(paths.size());
    std::vector<int> index(paths.size());
    for (size_t k = 0; k < paths.size(); ++k) index[k] = static_cast<int>(k);
    std::stable_sort(index.begin(), index.end(), [&](int i, int j) { return order[i] < order[j]; });
    for (size_t k = 0; k < paths.size(); ++k) by_output[k] = paths[index[k]];
    paths = by_output;
  }
  int offset = 0;
  for (auto& p : paths) {
    p.offset = offset;
    offset += p.mul;
  }
  return paths;
}

Irreps tp_irreps_out(const Architecture& a, int t) {
  const bool reduced = a.reduce_last && t == a.num_layers() - 1;
  return infer_irreps_out(a.node[t], a.sh(), a.node[t + 1].lmax(), reduced, 0);
}

std::vector<ExpectedTensor> head_tensors(const Architecture& a) {
  std::vector<ExpectedTensor> out = {{"edge_embedding.basis_function.coeffs", {}, {{Role::mul, a.num_basis, {}, 1}}}};
  const Irreps onehot(std::vector<MulIrrep>{{a.num_species, {0, 1}}});
  for (auto& t : linear("onehot_to_feature_x", onehot, a.node[0], a.bias)) out.push_back(t);
  return out;
}

std::vector<ExpectedTensor> layer_tensors(const Architecture& a, int t) {
  const std::string name = std::to_string(t) + "_";
  const Irreps& x = a.node[t];
  const Irreps gate_in = gate_groups(a.node[t + 1]).gate_input();
  const Irreps out_tp = tp_irreps_out(a, t);
  std::vector<ExpectedTensor> out;
  if (a.self_connection[t] == "nequip")
    out.push_back(species_tensor_product(name + "self_connection_intro", x, a.num_species, gate_in));
  else
    out.push_back(linear(name + "self_connection_intro", x, gate_in, false)[0]);
  for (auto& e : linear(name + "self_interaction_1", x, x, a.bias)) out.push_back(e);
  std::vector<int> widths = {a.num_basis};
  widths.insert(widths.end(), a.radial_hidden.begin(), a.radial_hidden.end());
  int num_weights = 0;
  for (const auto& p : convolution_paths(a, t, false)) num_weights += p.mul;
  widths.push_back(num_weights);
  for (auto& e : mlp(name + "convolution.weight_nn", widths)) out.push_back(e);
  out.push_back({name + "convolution.denominator", {}, {{Role::div, 1, {}, 1}}});
  for (auto& e : linear(name + "self_interaction_2", out_tp, gate_in, a.bias)) out.push_back(e);
  return out;
}

std::vector<ExpectedTensor> tail_tensors(const Architecture& a) {
  const Irreps& x = a.node.back();
  std::vector<ExpectedTensor> out;
  if (a.readout_fcn) {
    std::vector<int> widths = {x.dim()};
    widths.insert(widths.end(), a.readout_hidden.begin(), a.readout_hidden.end());
    widths.push_back(1);
    out = mlp("readout_FCN.fcn", widths);
  } else {
    // SevenNet <= 0.8 kept l > 0 features to the end and read out channel // 2 scalars.
    const int hidden_mul = a.reduce_last ? x.dim() / 2 : a.channel / 2;
    const Irreps hidden(std::vector<MulIrrep>{{hidden_mul, {0, 1}}});
    out = linear("reduce_input_to_hidden", x, hidden, a.bias);
    for (auto& e : linear("reduce_hidden_to_energy", hidden, Irreps(std::vector<MulIrrep>{{1, {0, 1}}}), a.bias))
      out.push_back(e);
  }
  // Species-wise or global: the code multiplies by the scale, then adds the shift.
  out.push_back({"rescale_atomic_energy.scale", {}, {{Role::mul, -1, {}, 1}}});
  out.push_back({"rescale_atomic_energy.shift", {}, {{Role::add, -1, {}, 1}}});
  return out;
}

}  // namespace flashtp::io::deployed
