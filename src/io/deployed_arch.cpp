#include "io/deployed_arch.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "error.hpp"

namespace flashtp::io::deployed {
namespace {

using script::Expr;

bool is_matmul(const Piece& p) {
  return p.role == Piece::Role::contract && (p.consumer == "torch.matmul" || p.consumer == "torch.mm");
}

// The widths of a chain of matmul weights [a, b], [b, c], ... starting at `k`.
std::vector<int> mlp_widths(const std::vector<Piece>& pieces, size_t k) {
  std::vector<int> widths;
  for (; k < pieces.size() && is_matmul(pieces[k]) && pieces[k].shape.size() == 2; ++k) {
    if (widths.empty()) widths.push_back(static_cast<int>(pieces[k].shape[0]));
    if (widths.back() != pieces[k].shape[0]) break;
    widths.push_back(static_cast<int>(pieces[k].shape[1]));
  }
  return widths;
}

// Pieces grouped by SevenNet module: each module ends by writing its output
// to the data dict (torch._set_item(input, key, ...)).
struct Group {
  std::vector<size_t> pieces;
  std::string key;  // the key written at its end
};

std::vector<Group> module_groups(const Dataflow& flow, const std::vector<Piece>& pieces) {
  const auto& s = flow.script();
  std::vector<int> writes;  // statements writing to the dict
  std::vector<std::string> keys;
  for (int i = 0; i < static_cast<int>(s.body.size()); ++i) {
    const Expr& v = *s.body[i].value;
    if (v.is_call("torch._set_item") && v.args.size() == 3 && v.args[0]->kind == Expr::Kind::name &&
        v.args[0]->text == s.input && v.args[1]->kind == Expr::Kind::string) {
      writes.push_back(i);
      keys.push_back(v.args[1]->text);
    }
  }
  std::vector<Group> groups;
  size_t w = 0;
  for (size_t k = 0; k < pieces.size(); ++k) {
    size_t end = w;
    while (end < writes.size() && writes[end] < pieces[k].statement) ++end;
    if (groups.empty() || end != w) groups.push_back({{}, end < keys.size() ? keys[end] : ""});
    groups.back().pieces.push_back(k);
    w = end;
  }
  return groups;
}

// Segments (mul, l) of a Linear's input, from the [rows, mul, 2l+1] shapes of
// its paths' data operands; nothing if the code does not show them.
std::optional<std::vector<MulIrrep>> input_segments(const std::vector<Piece>& pieces, const Group& g) {
  std::vector<MulIrrep> out;
  std::vector<const Expr*> seen;
  for (size_t k : g.pieces) {
    const Piece& p = pieces[k];
    if (p.role != Piece::Role::contract) continue;
    if (!p.operand || p.operand_shape.size() != 3 || p.operand_shape[2] % 2 == 0) return std::nullopt;
    if (std::find(seen.begin(), seen.end(), p.operand) != seen.end()) continue;
    seen.push_back(p.operand);
    out.push_back({static_cast<int>(p.operand_shape[1]), {static_cast<int>(p.operand_shape[2] / 2), 1}});
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// Everything the search does not vary, read from the pieces and the code.
struct Facts {
  int num_species = 0;
  int num_basis = 0;
  std::vector<int> radial_hidden;
  std::vector<MulIrrep> embedding;  // x_0
  std::vector<int> readout_widths;  // a trailing matmul chain, if any
  // Skeletons (mul, l) of x_1 .. x_{T-1} as the next layer's first Linear reads
  // them, and of x_T as the readout reads it (reduced models); empty if unknown.
  std::vector<std::vector<MulIrrep>> skeleton;
};

Facts read_facts(const Dataflow& flow, const std::vector<Piece>& pieces, const CodeFeatures& f, int num_species) {
  Facts facts;
  facts.num_species = num_species;
  if (pieces.empty() || pieces[0].role != Piece::Role::mul)
    throw Error("the first weight is not the Bessel basis' frequencies");
  facts.num_basis = static_cast<int>(pieces[0].numel);
  for (size_t k = 1; k < pieces.size() && pieces[k].role == Piece::Role::contract && pieces[k].shape.size() == 2 &&
                     pieces[k].shape[0] == num_species;
       ++k)
    facts.embedding.push_back({static_cast<int>(pieces[k].shape[1]), {0, 1}});
  size_t first_mlp = 0;
  while (first_mlp < pieces.size() && !is_matmul(pieces[first_mlp])) ++first_mlp;
  const auto radial = mlp_widths(pieces, first_mlp);
  if (radial.size() < 2 || radial[0] != facts.num_basis) throw Error("cannot find the radial MLP of the first layer");
  facts.radial_hidden.assign(radial.begin() + 1, radial.end() - 1);
  // A readout MLP ends just before the scale and shift.
  if (pieces.size() >= 3 && is_matmul(pieces[pieces.size() - 3])) {
    size_t start = pieces.size() - 3;
    while (start > 0 && is_matmul(pieces[start - 1])) --start;
    facts.readout_widths = mlp_widths(pieces, start);
  }

  const auto groups = module_groups(flow, pieces);
  std::vector<size_t> intros;  // groups that end by writing the self-connection
  for (size_t g = 0; g < groups.size(); ++g)
    if (groups[g].key == "self_cont_tmp") intros.push_back(g);
  facts.skeleton.assign(f.num_layers + 1, {});
  for (int t = 1; t < f.num_layers && t < static_cast<int>(intros.size()); ++t)
    if (intros[t] + 1 < groups.size())
      if (auto seg = input_segments(pieces, groups[intros[t] + 1])) facts.skeleton[t] = *seg;
  // x_T: the readout MLP's width, or the segments its first Linear reads
  // (the third group from the end: reduce_input_to_hidden, reduce_hidden_to_energy, rescale).
  if (!facts.readout_widths.empty()) {
    facts.skeleton[f.num_layers] = {{facts.readout_widths[0], {0, 1}}};
  } else if (groups.size() >= 3) {
    if (auto seg = input_segments(pieces, groups[groups.size() - 3])) facts.skeleton[f.num_layers] = *seg;
  }
  return facts;
}

// One family of candidates: how x_{t+1} follows from x_t.
struct Family {
  bool manual;
  int lmax_node;  // plain family: -1 for lmax
  bool parity, bias, reduce_last, readout_fcn;
};

class Search {
 public:
  Search(const std::vector<Piece>& pieces, const CodeFeatures& f, const Facts& facts)
      : pieces_(pieces), f_(f), facts_(facts) {}

  std::optional<Solution> run(const Family& fam) {
    fam_ = fam;
    Architecture& a = arch_;
    a = Architecture{};
    a.num_species = facts_.num_species;
    a.num_basis = facts_.num_basis;
    a.lmax_sh = f_.lmax_sh;
    a.parity = fam.parity;
    a.radial_hidden = facts_.radial_hidden;
    a.bias = fam.bias;
    a.reduce_last = fam.reduce_last;
    a.readout_fcn = fam.readout_fcn;
    if (fam.readout_fcn) {
      if (facts_.readout_widths.size() < 2 || facts_.readout_widths.back() != 1) return std::nullopt;
      a.readout_hidden.assign(facts_.readout_widths.begin() + 1, facts_.readout_widths.end() - 1);
    }
    if (facts_.embedding.empty()) return std::nullopt;
    a.node.assign(f_.num_layers + 1, Irreps());
    a.node[0] = Irreps(facts_.embedding);
    a.channel = a.node[0].dim();
    if (!fam.manual && facts_.embedding.size() != 1) return std::nullopt;
    a.self_connection.assign(f_.num_layers, "");
    weights_.clear();
    const Match head = match(pieces_, 0, head_tensors(a), a.num_species);
    note(head, "");
    if (!head.ok) return std::nullopt;
    weights_ = head.assigned;
    return layer(0, head.end);
  }

  // The mismatch of the candidate that matched the most weights.
  const std::string& closest() const { return closest_; }

 private:
  std::optional<Solution> layer(int t, size_t pos) {
    Architecture& a = arch_;
    if (t == a.num_layers()) {
      const Match tail = match(pieces_, pos, tail_tensors(a), a.num_species);
      note(tail, "after the last layer: ");
      if (!tail.ok) return std::nullopt;
      if (tail.end != pieces_.size()) {
        note_reason(tail.end, "the code has more weights than the architecture");
        return std::nullopt;
      }
      auto acts = activations();
      if (!acts) return std::nullopt;
      Solution s{a, fam_.manual, fam_.lmax_node, *acts, weights_};
      s.weights.insert(s.weights.end(), tail.assigned.begin(), tail.assigned.end());
      return s;
    }
    const size_t kept = weights_.size();
    for (const Irreps& out : candidates(t)) {
      for (const char* sc : {"nequip", "linear"}) {
        a.node[t + 1] = out;
        a.self_connection[t] = sc;
        const Match m = match(pieces_, pos, layer_tensors(a, t), a.num_species);
        note(m, "layer " + std::to_string(t) + ": ");
        if (!m.ok) continue;
        weights_.insert(weights_.end(), m.assigned.begin(), m.assigned.end());
        if (auto s = layer(t + 1, m.end)) return s;
        weights_.resize(kept);
      }
    }
    return std::nullopt;
  }

  // Possible x_{t+1} given x_t.
  std::vector<Irreps> candidates(int t) const {
    const Architecture& a = arch_;
    const bool reduced = a.reduce_last && t == a.num_layers() - 1;
    if (!fam_.manual) {
      const int lmax_node = fam_.lmax_node < 0 ? a.lmax_sh : fam_.lmax_node;
      return {infer_irreps_out(a.node[t], a.sh(), reduced ? 0 : lmax_node, reduced, a.channel)};
    }
    const auto& skeleton = facts_.skeleton[t + 1];
    if (skeleton.empty()) return {};
    if (reduced || !a.parity) return {Irreps(skeleton)};  // all even
    // Each segment even or odd: the layout decides.
    std::vector<Irreps> out;
    const size_t n = skeleton.size();
    if (n > 12) return {};
    for (size_t bits = 0; bits < (size_t{1} << n); ++bits) {
      std::vector<MulIrrep> segs = skeleton;
      for (size_t k = 0; k < n; ++k) segs[k].ir.p = (bits >> k) & 1 ? -1 : 1;
      out.emplace_back(segs);
    }
    return out;
  }

  // Names the activation of every call the architecture makes, in code order:
  // per layer the radial MLP's hidden layers, the gate's scalars, the gates;
  // then the readout MLP's hidden layers.
  std::optional<Activations> activations() const {
    const Architecture& a = arch_;
    std::vector<std::string*> slots;
    Activations acts;
    for (int t = 0; t < a.num_layers(); ++t) {
      for (size_t k = 0; k < a.radial_hidden.size(); ++k) slots.push_back(&acts.radial);
      const Irreps& out = a.node[t + 1];
      const bool even_gates = std::any_of(out.begin(), out.end(), [](const MulIrrep& s) { return s.ir == Irrep{0, 1}; });
      for (const auto& s : out)
        if (s.ir.l == 0 && s.mul > 0) slots.push_back(s.ir.p == 1 ? &acts.scalar_e : &acts.scalar_o);
      for (const auto& s : out)
        if (s.ir.l > 0 && s.mul > 0) slots.push_back(even_gates ? &acts.gate_e : &acts.gate_o);
    }
    if (a.readout_fcn)
      for (size_t k = 0; k < a.readout_hidden.size(); ++k) slots.push_back(&acts.readout);
    if (slots.size() != f_.activations.size()) return std::nullopt;
    std::map<std::string*, bool> named;
    for (size_t k = 0; k < slots.size(); ++k) {
      if (named[slots[k]] && *slots[k] != f_.activations[k].name) return std::nullopt;
      *slots[k] = f_.activations[k].name;
      named[slots[k]] = true;
    }
    return acts;
  }

  void note(const Match& m, const std::string& where) {
    if (!m.ok) note_reason(m.end, where + m.reason);
  }
  void note_reason(size_t end, const std::string& reason) {
    if (closest_.empty() || end > closest_end_) {
      closest_end_ = end;
      closest_ = reason;
    }
  }

  const std::vector<Piece>& pieces_;
  const CodeFeatures& f_;
  const Facts& facts_;
  Family fam_{};
  Architecture arch_;
  std::vector<Assignment> weights_;
  std::string closest_;
  size_t closest_end_ = 0;
};

}  // namespace

Solution recover(const Dataflow& flow, const std::vector<Piece>& pieces, const CodeFeatures& features, int num_species) {
  const Facts facts = read_facts(flow, pieces, features, num_species);
  Search search(pieces, features, facts);
  // In order of preference: the lmax/channel family before explicit irreps;
  // SevenNet's defaults (parity on for lmax/channel models, no biases, last
  // layer reduced to scalars, linear readout) first.
  std::vector<Family> families;
  for (int lmax_node = -1; lmax_node < features.lmax_sh; lmax_node = lmax_node < 0 ? 1 : lmax_node + 1)
    for (bool parity : {true, false}) families.push_back({false, lmax_node, parity, false, true, false});
  for (bool parity : {false, true}) families.push_back({true, -1, parity, false, true, false});
  for (auto fam : families)
    for (bool bias : {false, true})
      for (bool reduce_last : {true, false})
        for (bool readout_fcn : {false, true}) {
          if (fam.manual && !reduce_last) continue;  // explicit irreps came with SevenNet 0.9
          fam.bias = bias;
          fam.reduce_last = reduce_last;
          fam.readout_fcn = readout_fcn;
          if (auto s = search.run(fam)) return *s;
        }
  throw Error("no SevenNet architecture matches the code's weights; closest: " + search.closest());
}

}  // namespace flashtp::io::deployed
