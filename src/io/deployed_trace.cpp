#include "io/deployed_trace.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "error.hpp"

namespace flashtp::io::deployed {

using script::Expr;
using script::ExprPtr;

// One level of the path from a statement's root expression down to a node.
struct Dataflow::Frame {
  const Expr* node;
  int child;  // index in node->args of the next level down; -1 at the bottom
};

// What a piece is, as it travels up to its consumer.
struct Dataflow::State {
  int constant = -1;
  int64_t offset = 0, numel = 0;
  std::vector<int64_t> shape;
  bool shape_known = true;
  double factor = 1;
  int list_item = -1;  // position in the last list it was put in
};

namespace {

constexpr int kMaxDepth = 64;

bool is_any(const Expr& e, std::initializer_list<const char*> callees) {
  if (e.kind != Expr::Kind::call) return false;
  for (const char* c : callees)
    if (e.text == c) return true;
  return false;
}

// Calls that pass their first argument's values on unchanged (or gathered).
bool is_view(const Expr& e) {
  return is_any(e, {"torch.reshape", "torch.view", "torch.narrow", "torch.slice", "torch.select", "torch.unsqueeze",
                    "torch.squeeze", "torch.to", "torch.contiguous", "torch.detach", "torch.clone", "torch.index"});
}

bool is_contraction(const Expr& e) { return is_any(e, {"torch.tensordot", "torch.matmul", "torch.mm", "torch.einsum"}); }

// TorchScript writes "to the end" as 9223372036854775807, which a double
// rounds to 2^63: clamp instead of overflowing.
int64_t to_int(double x) {
  constexpr double limit = 9.2e18;
  return x >= limit ? INT64_MAX : x <= -limit ? INT64_MIN : static_cast<int64_t>(x);
}

int64_t product(const std::vector<int64_t>& v, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t k = from; k < to && k < v.size(); ++k) p *= v[k];
  return p;
}

// Visits every node of `e` with the path from the root down to it.
void walk(const Expr& e, std::vector<Dataflow::Frame>& stack,
          const std::function<void(const std::vector<Dataflow::Frame>&)>& visit) {
  stack.push_back({&e, -1});
  visit(stack);
  for (size_t k = 0; k < e.args.size(); ++k) {
    stack.back().child = static_cast<int>(k);
    walk(*e.args[k], stack, visit);
  }
  for (size_t k = 0; k < e.kwargs.size(); ++k) {
    stack.back().child = static_cast<int>(e.args.size() + k);
    walk(*e.kwargs[k].second, stack, visit);
  }
  stack.pop_back();
}
}  // namespace

std::string role_name(Piece::Role role) {
  switch (role) {
    case Piece::Role::contract: return "contraction";
    case Piece::Role::add: return "addition";
    case Piece::Role::mul: return "multiplication";
    case Piece::Role::div: return "division";
    case Piece::Role::other: break;
  }
  return "other use";
}

Dataflow::Dataflow(const script::Script& script) : s_(script) {
  for (const auto& st : s_.body) {
    std::vector<std::string> names;
    std::vector<Frame> stack;
    walk(*st.value, stack, [&](const std::vector<Frame>& path) {
      if (path.back().node->kind == Expr::Kind::name) names.push_back(path.back().node->text);
    });
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    names_used_.push_back(std::move(names));
  }
}

int Dataflow::definition(const std::string& name, int before) const {
  for (int i = std::min(before, static_cast<int>(s_.body.size())) - 1; i >= 0; --i)
    for (const auto& t : s_.body[i].targets)
      if (t == name) return i;
  return -1;
}

ExprPtr Dataflow::resolve(const ExprPtr& e, int at) const {
  ExprPtr cur = e;
  for (int depth = 0; cur->kind == Expr::Kind::name && depth < kMaxDepth; ++depth) {
    const int d = definition(cur->text, at);
    if (d < 0 || s_.body[d].targets.size() != 1) return cur;
    cur = s_.body[d].value;
    at = d;
  }
  return cur;
}

std::optional<double> Dataflow::scalar(const ExprPtr& e, int at) const {
  std::function<std::optional<double>(const ExprPtr&, int, int)> eval = [&](const ExprPtr& x, int pos,
                                                                          int depth) -> std::optional<double> {
    if (depth > kMaxDepth) return std::nullopt;
    if (x->kind == Expr::Kind::number) return x->number;
    if (x->kind == Expr::Kind::name) {
      const int d = definition(x->text, pos);
      if (d < 0 || s_.body[d].targets.size() != 1) return std::nullopt;
      return eval(s_.body[d].value, d, depth + 1);
    }
    if (x->kind != Expr::Kind::call || !x->kwargs.empty()) return std::nullopt;
    std::vector<double> v;
    for (const auto& a : x->args) {
      auto value = eval(a, pos, depth + 1);
      if (!value) return std::nullopt;
      v.push_back(*value);
    }
    const auto& f = x->text;
    if (v.size() == 2 && f == "torch.pow") return std::pow(v[0], v[1]);
    if (v.size() == 2 && f == "torch.div") return v[0] / v[1];
    if (v.size() == 2 && f == "torch.mul") return v[0] * v[1];
    if (v.size() == 2 && f == "torch.add") return v[0] + v[1];
    if (v.size() == 2 && f == "torch.sub") return v[0] - v[1];
    if (v.size() == 1 && f == "torch.neg") return -v[0];
    if (v.size() == 1 && f == "torch.sqrt") return std::sqrt(v[0]);
    if (v.size() == 1 && (f == "float" || f == "int")) return v[0];
    return std::nullopt;
  };
  return eval(e, at, 0);
}

std::vector<Piece> Dataflow::pieces(const std::vector<std::vector<int64_t>>& shapes, const std::set<int>& skip) const {
  std::vector<Piece> out;
  for (size_t i = 0; i < s_.body.size(); ++i) {
    std::vector<Frame> stack;
    walk(*s_.body[i].value, stack, [&](const std::vector<Frame>& path) {
      const Expr& e = *path.back().node;
      if (e.kind != Expr::Kind::constant || skip.count(e.constant)) return;
      if (e.constant < 0 || e.constant >= static_cast<int>(shapes.size()))
        throw Error("code line " + std::to_string(s_.body[i].line) + ": " + e.text + " is not in constants.pkl");
      State state;
      state.constant = e.constant;
      state.shape = shapes[e.constant];
      state.numel = product(state.shape, 0, state.shape.size());
      trace(static_cast<int>(i), path, state, out, 0);
    });
  }
  std::stable_sort(out.begin(), out.end(), [](const Piece& a, const Piece& b) { return a.statement < b.statement; });
  return out;
}

void Dataflow::trace(int statement, std::vector<Frame> stack, State state, std::vector<Piece>& out, int depth) const {
  const int line = s_.body[statement].line;
  auto fail = [&](const std::string& what) {
    throw Error("code line " + std::to_string(line) + ": CONSTANTS.c" + std::to_string(state.constant) + " " + what);
  };
  if (depth > kMaxDepth) fail("is used through too long a chain");
  auto int_list = [&](const ExprPtr& list) {
    std::vector<int64_t> v;
    const ExprPtr l = resolve(list, statement);
    if (l->kind != Expr::Kind::list) return std::optional<std::vector<int64_t>>();
    for (const auto& item : l->args) {
      auto x = scalar(item, statement);
      if (!x) return std::optional<std::vector<int64_t>>();
      v.push_back(to_int(*x));
    }
    return std::optional<std::vector<int64_t>>(v);
  };
  auto arg_int = [&](const Expr& call, size_t k) {
    auto x = k < call.args.size() ? scalar(call.args[k], statement) : std::nullopt;
    if (!x) fail("is cut by " + call.text + " at a position the code does not spell out");
    return to_int(*x);
  };

  for (size_t level = stack.size() - 1; level-- > 0;) {
    const Expr& parent = *stack[level].node;
    const size_t k = static_cast<size_t>(stack[level].child);
    if (parent.kind == Expr::Kind::list) {
      // Lists are einsum's operands: remember which one this is.
      state.list_item = static_cast<int>(k);
      continue;
    }
    if (is_view(parent) && k == 0) {
      const auto& f = parent.text;
      if (f == "torch.reshape" || f == "torch.view") {
        auto shape = parent.args.size() > 1 ? int_list(parent.args[1]) : std::nullopt;
        state.shape_known = shape.has_value();
        if (shape) {
          // One entry may be -1: whatever the others leave.
          int64_t known = 1;
          for (auto d : *shape) known *= d < 0 ? 1 : d;
          for (auto& d : *shape) d = d < 0 && known > 0 ? state.numel / known : d;
          if (product(*shape, 0, shape->size()) != state.numel) fail("is reshaped to a shape of another size");
          state.shape = *shape;
        }
      } else if (f == "torch.narrow" || f == "torch.slice" || f == "torch.select") {
        if (!state.shape_known) fail("is cut after a reshape the code does not spell out");
        int64_t dim = arg_int(parent, 1);
        const int64_t rank = static_cast<int64_t>(state.shape.size());
        if (dim < 0) dim += rank;
        if (dim < 0 || dim >= rank) fail("is cut along a dimension it does not have");
        int64_t start = arg_int(parent, 2), length = 1;
        if (start < 0) start += state.shape[dim];
        if (f == "torch.narrow") length = arg_int(parent, 3);
        if (f == "torch.slice") {
          if (parent.args.size() > 4 && arg_int(parent, 4) != 1) fail("is sliced with a step");
          length = std::min(arg_int(parent, 3), state.shape[dim]) - start;
        }
        // Only a cut that leaves one contiguous block of elements is a piece of a weight.
        if (product(state.shape, 0, dim) != 1 && length != state.shape[dim]) fail("is cut into non-contiguous parts");
        const int64_t stride = product(state.shape, dim + 1, state.shape.size());
        state.offset += start * stride;
        if (f == "torch.select")
          state.shape.erase(state.shape.begin() + dim);
        else
          state.shape[dim] = length;
        state.numel = product(state.shape, 0, state.shape.size());
      } else if (f == "torch.unsqueeze" || f == "torch.squeeze" || f == "torch.index") {
        state.shape_known = false;  // the range is unchanged; its shape is not needed later
      }
      continue;
    }
    if (parent.args.size() == 2 && (parent.is_call("torch.mul") || (parent.is_call("torch.div") && k == 0))) {
      if (auto s = scalar(parent.args[1 - k], statement)) {
        state.factor = parent.text == "torch.mul" ? state.factor * *s : state.factor / *s;
        continue;
      }
    }
    return finish(statement, stack, level, state, out);
  }

  // The value reached the root of the statement: follow its target.
  const auto& st = s_.body[statement];
  if (st.targets.size() != 1) return finish(statement, stack, 0, state, out);
  bool used = false;
  for (size_t j = statement + 1; j < s_.body.size(); ++j) {
    const auto& names = names_used_[j];
    if (std::binary_search(names.begin(), names.end(), st.targets[0])) {
      std::vector<Frame> use;
      walk(*s_.body[j].value, use, [&](const std::vector<Frame>& path) {
        if (path.back().node->kind != Expr::Kind::name || path.back().node->text != st.targets[0]) return;
        if (path.size() > 1 && is_any(*path[path.size() - 2].node, {"torch.size", "torch.dim", "torch.len"})) return;
        used = true;
        trace(static_cast<int>(j), path, state, out, depth + 1);
      });
    }
    const auto& t = s_.body[j].targets;
    if (std::find(t.begin(), t.end(), st.targets[0]) != t.end()) break;
  }
  if (!used) finish(statement, stack, 0, state, out);
}

void Dataflow::finish(int statement, const std::vector<Frame>& stack, size_t level, State state,
                      std::vector<Piece>& out) const {
  Piece p;
  p.constant = state.constant;
  p.offset = state.offset;
  p.numel = state.numel;
  if (state.shape_known) p.shape = state.shape;
  p.statement = statement;
  p.line = s_.body[statement].line;
  p.factor = state.factor;
  const Expr& consumer = *stack[level].node;
  p.consumer = consumer.kind == Expr::Kind::call ? consumer.text : "";
  const int k = stack[level].child;
  if (is_contraction(consumer)) {
    p.role = Piece::Role::contract;
    // The other operands: the other of the first two arguments, or the other einsum inputs.
    std::vector<ExprPtr> others;
    if (consumer.text == "torch.einsum") {
      const ExprPtr list = consumer.args.size() > 1 ? resolve(consumer.args[1], statement) : nullptr;
      if (list && list->kind == Expr::Kind::list)
        for (size_t a = 0; a < list->args.size(); ++a)
          if (static_cast<int>(a) != state.list_item) others.push_back(list->args[a]);
    } else if (consumer.args.size() >= 2 && (k == 0 || k == 1)) {
      others.push_back(consumer.args[1 - k]);
    }
    for (const auto& o : others) {
      p.factor *= back_factor(o, statement, 0);
      if (!p.operand) p.operand = operand_reshape(o, statement);
    }
    if (p.operand) {
      const ExprPtr list = resolve(p.operand->args[1], statement);
      for (const auto& item : list->args) {
        auto x = scalar(item, statement);
        p.operand_shape.push_back(x ? to_int(*x) : -1);
      }
    }
    p.factor *= forward_factor(statement, stack, level);
  } else if (consumer.is_call("torch.add")) {
    p.role = Piece::Role::add;
  } else if (consumer.is_call("torch.mul")) {
    p.role = Piece::Role::mul;
  } else if (consumer.is_call("torch.div") && k == 1) {
    p.role = Piece::Role::div;
  }
  out.push_back(std::move(p));
}

double Dataflow::back_factor(const ExprPtr& e, int at, int depth) const {
  if (depth > kMaxDepth) return 1;
  if (e->kind == Expr::Kind::name) {
    const int d = definition(e->text, at);
    if (d < 0 || s_.body[d].targets.size() != 1) return 1;
    return back_factor(s_.body[d].value, d, depth + 1);
  }
  if (e->kind != Expr::Kind::call) return 1;
  if (is_any(*e, {"torch.reshape", "torch.view", "torch.narrow", "torch.slice", "torch.select", "torch.permute",
                  "torch.unsqueeze", "torch.squeeze", "torch.expand", "torch.broadcast_to", "torch.to",
                  "torch.contiguous"}))
    return back_factor(e->args[0], at, depth + 1);
  if (e->args.size() == 2 && (e->text == "torch.mul" || e->text == "torch.div")) {
    for (int k = 0; k < 2; ++k) {
      if (e->text == "torch.div" && k == 0) continue;
      if (auto s = scalar(e->args[k], at)) {
        const double f = back_factor(e->args[1 - k], at, depth + 1);
        return e->text == "torch.mul" ? f * *s : f / *s;
      }
    }
    return 1;
  }
  if (e->text == "torch.einsum" && e->args.size() > 1) {
    const ExprPtr list = resolve(e->args[1], at);
    double f = 1;
    if (list->kind == Expr::Kind::list)
      for (const auto& item : list->args) f *= back_factor(item, at, depth + 1);
    return f;
  }
  return 1;
}

double Dataflow::forward_factor(int statement, std::vector<Frame> stack, size_t level) const {
  double factor = 1;
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    // Up through the enclosing calls of this statement.
    while (level-- > 0) {
      const Expr& parent = *stack[level].node;
      const size_t k = static_cast<size_t>(stack[level].child);
      if (is_any(parent, {"torch.permute", "torch.reshape", "torch.view"}) && k == 0) continue;
      if (parent.args.size() == 2 && (parent.is_call("torch.mul") || (parent.is_call("torch.div") && k == 0)))
        if (auto s = scalar(parent.args[1 - k], statement)) {
          factor = parent.text == "torch.mul" ? factor * *s : factor / *s;
          continue;
        }
      return factor;
    }
    // Then to the first statement that reads the result.
    const auto& st = s_.body[statement];
    if (st.targets.size() != 1) return factor;
    std::vector<Frame> next;
    int next_statement = -1;
    for (size_t j = statement + 1; j < s_.body.size() && next_statement < 0; ++j) {
      if (!std::binary_search(names_used_[j].begin(), names_used_[j].end(), st.targets[0])) continue;
      std::vector<Frame> path;
      walk(*s_.body[j].value, path, [&](const std::vector<Frame>& p) {
        if (!next.empty() || p.back().node->kind != Expr::Kind::name || p.back().node->text != st.targets[0]) return;
        if (p.size() > 1 && is_any(*p[p.size() - 2].node, {"torch.size", "torch.dim", "torch.len"})) return;
        next = p;
      });
      if (!next.empty()) next_statement = static_cast<int>(j);
    }
    if (next_statement < 0) return factor;
    statement = next_statement;
    stack = next;
    level = stack.size() - 1;
  }
  return factor;
}

// The reshape that gives a contraction's data operand its [rows, mul, 2l+1]
// shape, looking through literal factors.
const Expr* Dataflow::operand_reshape(const ExprPtr& e, int at) const {
  ExprPtr cur = e;
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    if (cur->kind == Expr::Kind::name) {
      const int d = definition(cur->text, at);
      if (d < 0 || s_.body[d].targets.size() != 1) return nullptr;
      cur = s_.body[d].value;
      at = d;
      continue;
    }
    if (cur->is_call("torch.reshape") && cur->args.size() == 2)
      return resolve(cur->args[1], at)->kind == Expr::Kind::list ? cur.get() : nullptr;
    if (cur->args.size() == 2 && (cur->is_call("torch.mul") || cur->is_call("torch.div"))) {
      cur = scalar(cur->args[1], at) ? cur->args[0] : cur->args[1];
      continue;
    }
    return nullptr;
  }
  return nullptr;
}

}  // namespace flashtp::io::deployed
