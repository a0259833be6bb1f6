#include "irreps.hpp"

#include <algorithm>
#include <numeric>
#include <regex>
#include <sstream>

#include "error.hpp"

namespace flashtp {

std::string Irrep::str() const { return std::to_string(l) + (p == 1 ? "e" : "o"); }

Irreps Irreps::parse(const std::string& text) {
  static const std::regex term(R"(\s*(?:(\d+)\s*x\s*)?(\d+)\s*([eoy])\s*)");
  std::vector<MulIrrep> segments;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, '+')) {
    if (item.find_first_not_of(" \t") == std::string::npos) continue;
    std::smatch m;
    if (!std::regex_match(item, m, term)) throw Error("cannot parse irreps '" + text + "'");
    int mul = m[1].matched ? std::stoi(m[1]) : 1;
    int l = std::stoi(m[2]);
    // "y" is e3nn's spherical-harmonic parity (-1)^l.
    int p = m[3] == "e" ? 1 : m[3] == "o" ? -1 : (l % 2 == 0 ? 1 : -1);
    segments.push_back({mul, {l, p}});
  }
  return Irreps(segments);
}

int Irreps::dim() const {
  int d = 0;
  for (const auto& s : segments_) d += s.dim();
  return d;
}

int Irreps::offset(int segment) const {
  int d = 0;
  for (int i = 0; i < segment; ++i) d += segments_[i].dim();
  return d;
}

int Irreps::lmax() const {
  int l = -1;
  for (const auto& s : segments_) l = std::max(l, s.ir.l);
  return l;
}

bool Irreps::contains(const Irrep& ir) const {
  return std::any_of(segments_.begin(), segments_.end(), [&](const MulIrrep& s) { return s.ir == ir; });
}

Irreps Irreps::operator+(const Irreps& o) const {
  auto all = segments_;
  all.insert(all.end(), o.segments_.begin(), o.segments_.end());
  return Irreps(all);
}

Irreps Irreps::simplify() const {
  std::vector<MulIrrep> out;
  for (const auto& s : segments_) {
    if (!out.empty() && out.back().ir == s.ir)
      out.back().mul += s.mul;
    else if (s.mul > 0)
      out.push_back(s);
  }
  return Irreps(out);
}

Irreps::Sorted Irreps::sort() const {
  // e3nn sorts the tuples (irrep, index, mul): stable by irrep.
  std::vector<int> order(segments_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return segments_[a].ir < segments_[b].ir; });
  Sorted out;
  out.permutation.resize(order.size());
  std::vector<MulIrrep> sorted;
  for (size_t k = 0; k < order.size(); ++k) {
    sorted.push_back(segments_[order[k]]);
    out.permutation[order[k]] = static_cast<int>(k);
  }
  out.irreps = Irreps(sorted);
  return out;
}

std::string Irreps::str() const {
  std::string s;
  for (const auto& seg : segments_) {
    if (!s.empty()) s += "+";
    s += std::to_string(seg.mul) + "x" + seg.ir.str();
  }
  return s;
}

std::vector<Irrep> product(const Irrep& a, const Irrep& b) {
  std::vector<Irrep> out;
  for (int l = std::abs(a.l - b.l); l <= a.l + b.l; ++l) out.push_back({l, a.p * b.p});
  return out;
}

Irreps full_tensor_product(const Irreps& a, const Irreps& b) {
  std::vector<MulIrrep> out;
  for (const auto& x : a)
    for (const auto& y : b)
      for (const auto& ir : product(x.ir, y.ir)) out.push_back({x.mul * y.mul, ir});
  return Irreps(out).sort().irreps.simplify();
}

Irreps infer_irreps_out(const Irreps& x, const Irreps& filter, int drop_l, bool even_only, int fix_mul) {
  std::vector<MulIrrep> out;
  for (auto s : full_tensor_product(x, filter)) {
    if (s.ir.l > drop_l || (even_only && s.ir.p == -1)) continue;
    if (fix_mul > 0) s.mul = fix_mul;
    out.push_back(s);
  }
  return Irreps(out);
}

GateGroups gate_groups(const Irreps& irreps_out) {
  std::vector<MulIrrep> scalars, gated;
  for (const auto& s : irreps_out) (s.ir.l == 0 ? scalars : gated).push_back(s);
  const int parity = Irreps(scalars).contains({0, 1}) ? 1 : -1;
  std::vector<MulIrrep> gates;
  for (const auto& g : gated) gates.push_back({g.mul, {0, parity}});
  return {Irreps(scalars).simplify(), Irreps(gates).simplify(), Irreps(gated).simplify(), parity};
}

Irreps GateGroups::gate_input() const { return (scalars + gates + gated).sort().irreps.simplify(); }

}  // namespace flashtp
