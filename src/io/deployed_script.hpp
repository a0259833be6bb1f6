// The code/ text of a frozen TorchScript module, parsed into statements.
//
// A deployed SevenNet file holds one function, AtomGraphSequential.forward,
// printed by TorchScript in a small Python subset: assignments of nested
// calls (`x = torch.reshape(CONSTANTS.c3, [8, 8])`), expression statements
// (`torch._set_item(input, "x", y)`), if/else and for blocks, and no
// operators. Blocks are flattened here: what the reader needs is dataflow,
// and in a frozen model a name is assigned once per path through the code
// (the few loop variables are re-assigned to themselves).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace flashtp::io::script {

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  enum class Kind { name, number, string, constant, call, list, subscript };
  Kind kind = Kind::name;
  std::string text;      // name, string value, or callee ("torch.reshape")
  double number = 0;     // number
  bool integer = false;  // number written without '.' or exponent
  int constant = -1;     // CONSTANTS.c<constant>
  std::vector<ExprPtr> args;  // call arguments, list items, (value, index) of a subscript
  std::vector<std::pair<std::string, ExprPtr>> kwargs;

  bool is_call(const char* callee) const { return kind == Kind::call && text == callee; }
};

struct Statement {
  std::vector<std::string> targets;  // empty for an expression statement
  ExprPtr value;
  int line = 0;  // 1-based line in the code file, for messages
};

struct Script {
  std::string input;  // the name of forward's dict argument ("input" or "data")
  std::vector<Statement> body;
};

// Throws flashtp::Error naming the line it cannot read.
Script parse(const std::string& code);

// Calls f(node, parent) for every node of e, parents first (parent of the root: nullptr).
void visit(const Expr& e, const std::function<void(const Expr& node, const Expr* parent)>& f,
           const Expr* parent = nullptr);

}  // namespace flashtp::io::script
