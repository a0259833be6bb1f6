// Where each weight of a frozen TorchScript model is used, read from its code.
//
// Freezing turns every parameter into a graph constant (CONSTANTS.cN) and may
// fold the first operations on it into new constants: a narrow into a view,
// a path normalisation into the values (SevenNet <= 0.9 files). This follows
// every use of every constant through the value-preserving operations
// (reshape, narrow, slice, index, multiplication by a literal) to the
// operation that consumes it, and records for each such "piece": the element
// range of the constant it reads, what consumes it (a contraction, an
// addition, a multiplication or a division), and for contractions the
// product of all literal factors applied to its operands and its result.
// That product is e3nn's path normalisation 1/sqrt(fan_in) when the constant
// holds the raw weight, and 1 when the normalisation was folded into it.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "io/deployed_script.hpp"

namespace flashtp::io::deployed {

struct Piece {
  enum class Role { contract, add, mul, div, other };
  int constant = -1;
  int64_t offset = 0, numel = 0;  // elements [offset, offset + numel) of the constant, row-major
  std::vector<int64_t> shape;     // its shape where it is consumed (empty if unknown)
  Role role = Role::other;
  std::string consumer;  // the consuming call, for messages
  int statement = 0;     // index of the consuming statement in the script body
  int line = 0;          // its line in the code file
  double factor = 1;     // contract: literal factors on operands and result
  std::vector<int64_t> operand_shape;   // contract: shape of the data operand, if a reshape shows it
  const script::Expr* operand = nullptr;  // ... and that reshape: one segment of the input features
};

std::string role_name(Piece::Role role);

class Dataflow {
 public:
  struct Frame;  // one step of the path from a statement's root to a node

  explicit Dataflow(const script::Script& script);

  const script::Script& script() const { return s_; }

  // The statement before `before` that last assigned `name`, or -1.
  int definition(const std::string& name, int before) const;

  // The value of an expression made of literals, torch.pow/div/mul/... and
  // names bound to such expressions; nothing if it depends on a tensor.
  std::optional<double> scalar(const script::ExprPtr& e, int at) const;

  // Follows a name through single assignments to the expression it holds.
  script::ExprPtr resolve(const script::ExprPtr& e, int at) const;

  // Every piece of every constant whose shape is given (an empty shape is a
  // 0-d tensor; constants listed in `skip` are not followed), in the order
  // the code consumes them.
  std::vector<Piece> pieces(const std::vector<std::vector<int64_t>>& shapes, const std::set<int>& skip) const;

 private:
  struct State;
  void trace(int statement, std::vector<Frame> stack, State state, std::vector<Piece>& out, int depth) const;
  void finish(int statement, const std::vector<Frame>& stack, size_t level, State state, std::vector<Piece>& out) const;
  double back_factor(const script::ExprPtr& e, int at, int depth) const;
  double forward_factor(int statement, std::vector<Frame> stack, size_t level) const;
  const script::Expr* operand_reshape(const script::ExprPtr& e, int at) const;

  const script::Script& s_;
  std::vector<std::vector<std::string>> names_used_;  // per statement
};

}  // namespace flashtp::io::deployed
