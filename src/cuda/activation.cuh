// The scalar nonlinearities of activation.hpp, for the kernels' number types
// (without e3nn's normalisation constant, which the callers apply or fold).
#pragma once
#include "cuda/scalar.hpp"
#include "model.hpp"

namespace flashtp::cuda {

// SiLU (the radial MLPs of SevenNet's models) is tested before the switch,
// whose jump table is an indirect branch per element.
template <class T>
FLASHTP_DEVICE T activate(ActivationKind kind, T x) {
  using R = real_t<T>;
  if (kind == ActivationKind::silu) return x / (R(1) + math::exp(-x));
  switch (kind) {
    case ActivationKind::tanh: return math::tanh(x);
    case ActivationKind::abs: return value(x) < R(0) ? -x : x;
    case ActivationKind::ssp:
      return (value(x) > R(20) ? x : math::log1p(math::exp(x))) - R(0.69314718055994530942);
    case ActivationKind::sigmoid: return R(1) / (R(1) + math::exp(-x));
    case ActivationKind::relu: return value(x) > R(0) ? x : T(0);
    case ActivationKind::elu: return value(x) > R(0) ? x : math::expm1(x);
  }
  return x;
}

template <class T>
FLASHTP_DEVICE T activate_derivative(ActivationKind kind, T x) {
  using R = real_t<T>;
  if (kind == ActivationKind::silu) {
    const T s = R(1) / (R(1) + math::exp(-x));
    return s * (R(1) + x * (R(1) - s));
  }
  switch (kind) {
    case ActivationKind::tanh: {
      const T t = math::tanh(x);
      return R(1) - t * t;
    }
    case ActivationKind::abs: return T(value(x) > R(0) ? R(1) : value(x) < R(0) ? R(-1) : R(0));
    case ActivationKind::ssp: return R(1) / (R(1) + math::exp(-x));
    case ActivationKind::sigmoid: {
      const T s = R(1) / (R(1) + math::exp(-x));
      return s * (R(1) - s);
    }
    case ActivationKind::relu: return T(value(x) > R(0) ? R(1) : R(0));
    case ActivationKind::elu: return value(x) > R(0) ? T(1) : math::exp(x);
  }
  return T(1);
}

}  // namespace flashtp::cuda
