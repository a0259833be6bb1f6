#include "torch/cast_module.hpp"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/script.h>

namespace flashtp {
namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;

bool is_floating_constant(const Node* node) {
  return node->kind() == c10::prim::Constant && node->hasAttribute(c10::attr::value) &&
         node->kindOf(c10::attr::value) == torch::jit::AttributeKind::t &&
         node->t(c10::attr::value).is_floating_point();
}

// The index of a constant `dtype` argument naming a floating-point type, or -1.
int floating_dtype_argument(const Node* node) {
  const c10::FunctionSchema* schema = node->maybeSchema();
  if (schema == nullptr) return -1;
  for (size_t k = 0; k < schema->arguments().size() && k < node->inputs().size(); ++k) {
    if (schema->arguments()[k].name() != "dtype") continue;
    const auto value = torch::jit::toIValue(node->input(k));
    if (value && value->isInt() && c10::isFloatingType(static_cast<c10::ScalarType>(value->toInt())))
      return static_cast<int>(k);
  }
  return -1;
}

void cast_block(Graph& graph, Block* block, c10::ScalarType dtype) {
  for (Node* node : block->nodes()) {
    for (Block* inner : node->blocks()) cast_block(graph, inner, dtype);
    if (is_floating_constant(node)) {
      const at::Tensor cast = node->t(c10::attr::value).to(dtype);
      node->t_(c10::attr::value, cast);
      node->output()->inferTypeFrom(cast);
    } else if (const int k = floating_dtype_argument(node); k >= 0) {
      torch::jit::WithInsertPoint here(node);
      node->replaceInput(k, graph.insertConstant(static_cast<int64_t>(dtype)));
    }
  }
}

}  // namespace

void cast_floating_point(torch::jit::Module& module, c10::ScalarType dtype) {
  module.to(dtype);
  for (const auto& method : module.get_methods()) {
    const auto graph = method.graph();
    cast_block(*graph, graph->block(), dtype);
  }
}

}  // namespace flashtp
