// Scalar activations and e3nn's second-moment normalisation.
#pragma once
#include <cmath>
#include <string>

#include "model.hpp"

namespace flashtp {

// SevenNet's activation names ("silu", "tanh", "abs", "ssp", "sigmoid",
// "relu", "elu") with e3nn's normalize2mom constant.
Activation make_activation(const std::string& name);

// Parity of f: +1 even, -1 odd, 0 neither (decides the parity of an
// activated odd scalar, as e3nn's Activation does).
int activation_parity(ActivationKind kind);

// f(x) and f'(x), without the scale.
template <typename T>
inline T activate(ActivationKind kind, T x) {
  switch (kind) {
    case ActivationKind::silu: return x / (T(1) + std::exp(-x));
    case ActivationKind::tanh: return std::tanh(x);
    case ActivationKind::abs: return std::abs(x);
    case ActivationKind::ssp: return (x > T(20) ? x : std::log1p(std::exp(x))) - T(0.69314718055994530942);
    case ActivationKind::sigmoid: return T(1) / (T(1) + std::exp(-x));
    case ActivationKind::relu: return x > T(0) ? x : T(0);
    case ActivationKind::elu: return x > T(0) ? x : std::expm1(x);
  }
  return x;
}

template <typename T>
inline T activate_derivative(ActivationKind kind, T x) {
  switch (kind) {
    case ActivationKind::silu: {
      T s = T(1) / (T(1) + std::exp(-x));
      return s * (T(1) + x * (T(1) - s));
    }
    case ActivationKind::tanh: {
      T t = std::tanh(x);
      return T(1) - t * t;
    }
    case ActivationKind::abs: return x > T(0) ? T(1) : x < T(0) ? T(-1) : T(0);
    case ActivationKind::ssp: return T(1) / (T(1) + std::exp(-x));
    case ActivationKind::sigmoid: {
      T s = T(1) / (T(1) + std::exp(-x));
      return s * (T(1) - s);
    }
    case ActivationKind::relu: return x > T(0) ? T(1) : T(0);
    case ActivationKind::elu: return x > T(0) ? T(1) : std::exp(x);
  }
  return T(1);
}

}  // namespace flashtp
