#include "activation.hpp"

#include "error.hpp"

namespace flashtp {

// e3nn normalize2mom: c = E[f(z)^2]^(-1/2) estimated from 1,000,000 samples of
// torch.randn (Generator seed 0, float64, CPU), not the exact integral, and
// c = 1 when |c - 1| < 1e-4. Computed once with that procedure; silu's value
// equals the constant in SevenNet's deployed files.
Activation make_activation(const std::string& name) {
  struct Entry {
    const char* name;
    ActivationKind kind;
    double scale;
  };
  static const Entry table[] = {
      {"silu", ActivationKind::silu, 1.6791767923989418},
      {"tanh", ActivationKind::tanh, 1.5937334472592695},
      {"abs", ActivationKind::abs, 1.001110600838467},
      {"ssp", ActivationKind::ssp, 1.878204668541552},
      {"sigmoid", ActivationKind::sigmoid, 1.8467055342154763},
      {"relu", ActivationKind::relu, 1.4163393446331365},
      {"elu", ActivationKind::elu, 1.2467863885570512},
  };
  for (const auto& e : table)
    if (name == e.name) return {e.kind, e.scale};
  throw Error("unsupported activation '" + name + "' (supported: silu, tanh, abs, ssp, sigmoid, relu, elu)");
}

int activation_parity(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::tanh: return -1;
    case ActivationKind::abs: return 1;
    default: return 0;
  }
}

std::string Activation::name() const {
  switch (kind) {
    case ActivationKind::silu: return "silu";
    case ActivationKind::tanh: return "tanh";
    case ActivationKind::abs: return "abs";
    case ActivationKind::ssp: return "ssp";
    case ActivationKind::sigmoid: return "sigmoid";
    case ActivationKind::relu: return "relu";
    case ActivationKind::elu: return "elu";
  }
  return "?";
}

}  // namespace flashtp
