#include "io/deployed_features.hpp"

#include <cmath>
#include <map>

#include "activation.hpp"
#include "error.hpp"

namespace flashtp::io::deployed {
namespace {

using script::Expr;
using script::ExprPtr;

// `torch._set_item(input, "key", value)`: the key, or "".
std::string set_item_key(const script::Script& s, const Expr& e) {
  if (!e.is_call("torch._set_item") || e.args.size() != 3) return "";
  if (e.args[0]->kind != Expr::Kind::name || e.args[0]->text != s.input) return "";
  return e.args[1]->kind == Expr::Kind::string ? e.args[1]->text : "";
}

const std::map<std::string, std::string>& activation_calls() {
  static const std::map<std::string, std::string> calls = {
      {"torch.silu", "silu"},       {"torch.tanh", "tanh"}, {"torch.abs", "abs"},
      {"torch.sigmoid", "sigmoid"}, {"torch.relu", "relu"}, {"torch.elu", "elu"},
      {"torch.softplus", "ssp"},  // ShiftedSoftPlus: softplus(x) - log 2
  };
  return calls;
}

// Cutoff envelope, between the Bessel basis and the "edge_embedding" write.
void read_envelope(const Dataflow& flow, int end, CodeFeatures& f) {
  const auto& body = flow.script().body;
  for (int i = 0; i < end; ++i) {
    script::visit(*body[i].value, [&](const Expr& e, const Expr*) {
      // XPLOR: torch.where(torch.lt(r, r_on), 1., switch(r))
      if (e.is_call("torch.where") && e.args.size() == 3) {
        const ExprPtr cond = flow.resolve(e.args[0], i);
        if (cond->is_call("torch.lt") && cond->args.size() == 2)
          if (auto on = flow.scalar(cond->args[1], i)) {
            f.envelope = "XPLOR";
            f.xplor_on = *on;
          }
      }
      // poly_cut: torch.pow(r / r_c, p) and the powers p + 1, p + 2
      if (e.is_call("torch.pow") && e.args.size() == 2 && e.args[0]->kind == Expr::Kind::name) {
        const ExprPtr base = flow.resolve(e.args[0], i);
        auto p = flow.scalar(e.args[1], i);
        if (p && base->is_call("torch.div") && base->args.size() == 2)
          if (auto rc = flow.scalar(base->args[1], i)) {
            if (f.envelope.empty() || *p < f.poly_p) f.poly_p = *p;
            f.envelope = "poly_cut";
            f.envelope_cutoff = *rc;
          }
      }
    });
    if (f.envelope == "XPLOR") return;
  }
}

// Spherical harmonics: torch.stack([sh_0_0, ...], -1) written to "edge_attr".
void read_harmonics(const Dataflow& flow, int at, const ExprPtr& value, CodeFeatures& f) {
  const ExprPtr stack = flow.resolve(value, at);
  const ExprPtr list = stack->is_call("torch.stack") ? flow.resolve(stack->args[0], at) : nullptr;
  if (!list || list->kind != Expr::Kind::list) throw Error("the spherical harmonics are not a stack of components");
  const int n = static_cast<int>(list->args.size());
  f.lmax_sh = static_cast<int>(std::lround(std::sqrt(n))) - 1;
  if ((f.lmax_sh + 1) * (f.lmax_sh + 1) != n) throw Error("spherical harmonics of " + std::to_string(n) + " components");
  // Y_0 = ones_like(select(v, -1, 0)): v is r/|r| (a division) or the raw edge vector.
  const ExprPtr y0 = flow.resolve(list->args[0], at);
  const ExprPtr x = y0->is_call("torch.ones_like") ? flow.resolve(y0->args[0], at) : nullptr;
  if (!x || !x->is_call("torch.select")) throw Error("cannot tell how the spherical harmonics normalise the edge vector");
  f.normalize_sh = flow.resolve(x->args[0], at)->is_call("torch.div");
}

// The expression that has `node` as an argument, in `root`; nullptr if none.
const Expr* parent_in(const Expr& root, const Expr* node) {
  const Expr* out = nullptr;
  script::visit(root, [&](const Expr& e, const Expr* p) {
    if (&e == node) out = p;
  });
  return out;
}

// The normalize2mom constant an activation's result is multiplied by: in the
// same statement, or where the first later statement reads its result. For
// ssp the result is softplus(x) - log 2, which the constant multiplies (the
// subtraction is in the activation's statement or in its reader's).
double activation_scale(const Dataflow& flow, int i, const Expr* parent, bool shifted,
                        const std::function<double(int)>& scalar_constant) {
  auto constant_factor = [&](const Expr* mul) {
    if (!mul || !mul->is_call("torch.mul") || mul->args.size() != 2 || mul->args[1]->kind != Expr::Kind::constant)
      return 1.0;
    return scalar_constant(mul->args[1]->constant);
  };
  auto past_shift = [&](const Expr* node, const Expr& root) {
    return shifted && node && node->is_call("torch.sub") ? parent_in(root, node) : node;
  };
  parent = past_shift(parent, *flow.script().body[i].value);
  if (parent && parent->is_call("torch.mul")) return constant_factor(parent);
  const auto& body = flow.script().body;
  for (size_t at = i; body[at].targets.size() == 1;) {
    // The first later statement that reads the result, and what reads it there.
    const std::string& result = body[at].targets[0];
    const Expr* reader = nullptr;
    bool found = false;
    size_t j = at + 1;
    for (; j < body.size() && !found; ++j)
      script::visit(*body[j].value, [&](const Expr& e, const Expr* p) {
        if (!found && e.kind == Expr::Kind::name && e.text == result) {
          found = true;
          reader = p;
        }
      });
    if (!found) return 1;
    const Expr& statement = *body[--j].value;
    const Expr* scaled = past_shift(reader, statement);
    if (scaled || reader != &statement) return constant_factor(scaled);
    at = j;  // ssp's subtraction is a statement of its own: follow its result
  }
  return 1;
}

}  // namespace

CodeFeatures read_features(const Dataflow& flow, const std::function<double(int)>& scalar_constant) {
  const auto& s = flow.script();
  CodeFeatures f;
  int embedding_write = -1;
  for (int i = 0; i < static_cast<int>(s.body.size()); ++i) {
    const Expr& v = *s.body[i].value;
    const std::string key = set_item_key(s, v);
    if (key == "edge_embedding" && embedding_write < 0) embedding_write = i;
    if (key == "edge_attr" && f.lmax_sh < 0) read_harmonics(flow, i, v.args[2], f);
    if (key == "self_cont_tmp") ++f.num_layers;
    script::visit(v, [&](const Expr& e, const Expr* parent) {
      if (e.kind == Expr::Kind::subscript && e.args[0]->kind == Expr::Kind::name && e.args[0]->text == s.input &&
          e.args[1]->kind == Expr::Kind::string && (e.args[1]->text == "pos" || e.args[1]->text == "cell_lattice_vectors"))
        f.legacy_interface = true;
      if (e.kind != Expr::Kind::call) return;
      auto it = activation_calls().find(e.text);
      if (it == activation_calls().end()) return;
      const double scale = activation_scale(flow, i, parent, it->second == "ssp", scalar_constant);
      const double expected = make_activation(it->second).scale;
      if (std::isnan(scale) || std::abs(scale - expected) > 1e-12 * expected)
        throw Error("code line " + std::to_string(s.body[i].line) + ": " + it->second + " is scaled by " +
                    std::to_string(scale) + ", e3nn's normalize2mom constant is " + std::to_string(expected));
      f.activations.push_back({it->second, i, scale});
    });
  }
  if (embedding_write < 0) throw Error("the code writes no edge_embedding");
  if (f.lmax_sh < 0) throw Error("the code writes no edge_attr (spherical harmonics)");
  if (f.num_layers == 0) throw Error("the code has no interaction layer (no self_cont_tmp)");
  read_envelope(flow, embedding_write, f);
  if (f.envelope.empty()) throw Error("unknown cutoff envelope (neither poly_cut nor XPLOR)");
  return f;
}

}  // namespace flashtp::io::deployed
