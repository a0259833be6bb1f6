// e3nn Gate on one node: out = [act(scalars) ; gated_u * act_gate(gate_u)].
#pragma once
#include "activation.hpp"
#include "model.hpp"

namespace flashtp::cpu {

template <typename T>
void gate_forward(const Gate& gate, const T* y, T* out) {
  for (const auto& s : gate.scalars)
    for (int c = 0; c < s.count; ++c) *out++ = T(s.act.scale) * activate(s.act.kind, y[s.in_offset + c]);
  for (const auto& g : gate.gated)
    for (int u = 0; u < g.mul; ++u) {
      const T factor = T(g.act.scale) * activate(g.act.kind, y[g.gate_offset + u]);
      for (int m = 0; m < g.dim; ++m) *out++ = y[g.in_offset + u * g.dim + m] * factor;
    }
}

// grad_y = dL/dy (overwritten) given y and dL/dout.
template <typename T>
void gate_backward(const Gate& gate, const T* y, const T* grad_out, T* grad_y) {
  std::fill(grad_y, grad_y + gate.in.dim(), T(0));
  for (const auto& s : gate.scalars)
    for (int c = 0; c < s.count; ++c)
      grad_y[s.in_offset + c] = *grad_out++ * T(s.act.scale) * activate_derivative(s.act.kind, y[s.in_offset + c]);
  for (const auto& g : gate.gated)
    for (int u = 0; u < g.mul; ++u) {
      const T z = y[g.gate_offset + u];
      const T factor = T(g.act.scale) * activate(g.act.kind, z);
      T dot = 0;
      for (int m = 0; m < g.dim; ++m) {
        const int k = g.in_offset + u * g.dim + m;
        grad_y[k] = grad_out[m] * factor;
        dot += grad_out[m] * y[k];
      }
      grad_y[g.gate_offset + u] += dot * T(g.act.scale) * activate_derivative(g.act.kind, z);
      grad_out += g.dim;
    }
}

}  // namespace flashtp::cpu
