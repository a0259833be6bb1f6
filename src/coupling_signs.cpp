#include "coupling_signs.hpp"

#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "error.hpp"
#include "model_build.hpp"
#include "so3.hpp"

namespace flashtp {
namespace {

const std::string kConvolutionBuffer = "_convolution.convolution._compiled_main_left_right._w3j_";

// +1 or -1: the buffer `name` is (+-) wigner_3j(l1, l2, l3), in float32.
int coupling_sign(const std::string& name, const io::Tensor& t) {
  int l1 = -1, l2 = -1, l3 = -1;
  const auto at = name.rfind("_w3j_");
  if (std::sscanf(name.c_str() + at, "_w3j_%d_%d_%d", &l1, &l2, &l3) != 3 || l1 < 0 || l2 < 0 || l3 < 0 ||
      l3 < std::abs(l1 - l2) || l3 > l1 + l2)
    throw Error("'" + name + "' does not name a coupling (l1, l2, l3)");
  const std::vector<double> w = wigner_3j(l1, l2, l3);
  if (t.values.size() != w.size()) throw Error("'" + name + "' has the wrong size for wigner_3j");
  for (int sign : {1, -1}) {
    bool same = true;
    for (size_t k = 0; k < w.size() && same; ++k) same = std::abs(t.values[k] - sign * w[k]) <= 1e-6;
    if (same) return sign;
  }
  throw Error("'" + name + "' is neither e3nn's wigner_3j nor its negative");
}

}  // namespace

void undo_flipped_couplings(io::ModelSource& source) {
  std::set<std::string> flipped;
  for (const auto& [name, t] : source.weights) {
    if (name.find("._w3j_") == std::string::npos || coupling_sign(name, t) == 1) continue;
    if (name.find(kConvolutionBuffer) == std::string::npos)
      throw Error("'" + name + "' holds a flipped coupling outside a convolution, which flashtp cannot reproduce");
    flipped.insert(name);
  }
  if (flipped.empty()) return;

  const Model model = build_model(source);
  std::ostringstream note;
  note << "e3nn < 0.5 coupling signs: radial weights negated for paths";
  for (size_t t = 0; t < model.layers.size(); ++t) {
    const Convolution& conv = model.layers[t].conv;
    const std::string layer = std::to_string(t);
    io::Tensor& radial = source.weights.at(layer + "_convolution.weight_nn.layer" +
                                           std::to_string(conv.radial.widths.size() - 2) + ".weight");
    const int64_t columns = radial.shape.back();
    for (const auto& p : conv.paths) {
      const int l1 = conv.in[p.seg_in].ir.l, l2 = conv.sh[p.seg_sh].ir.l, l3 = conv.mid[p.seg_out].ir.l;
      const std::string buffer = layer + kConvolutionBuffer + std::to_string(l1) + "_" + std::to_string(l2) + "_" +
                                 std::to_string(l3);
      if (!flipped.count(buffer)) continue;
      for (int64_t row = 0; row < radial.numel() / columns; ++row)
        for (int u = 0; u < conv.in[p.seg_in].mul; ++u) radial.values[row * columns + p.weight_offset + u] *= -1;
      note << " " << layer << ":(" << l1 << "," << l2 << "," << l3 << ")";
    }
  }
  for (const auto& name : flipped)
    for (auto& v : source.weights.at(name).values) v = -v;
  source.legacy.push_back(note.str());
}

}  // namespace flashtp
