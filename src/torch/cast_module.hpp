// Casting a frozen TorchScript module to another floating-point dtype.
#pragma once
#include <c10/core/ScalarType.h>

namespace torch::jit {
struct Module;
}

namespace flashtp {

// Module::to() casts parameters and buffers only. A frozen (deployed) module
// keeps its weights as tensor constants of its code, and a few of its ops
// name float32 as a constant argument (SevenNet's one_hot(...).float() is
// aten::to(x, dtype=6)): this casts those too. Call it before the module's
// first run, while its executor has cached no plan.
void cast_floating_point(torch::jit::Module& module, c10::ScalarType dtype);

}  // namespace flashtp
