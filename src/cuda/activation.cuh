// The scalar nonlinearities of activation.hpp, for the kernels' number types
// (without e3nn's normalisation constant, which the callers apply or fold).
#pragma once
#include <type_traits>

#include "cuda/scalar.hpp"
#include "model.hpp"

namespace flashtp::cuda {

// The logistic sigmoid 1 / (1 + e^-x) and SiLU x / (1 + e^-x); in float on
// the device by the hardware's exp2 and reciprocal (__expf, 2 + 1.2 |x| ulp;
// __fdividef, 2 ulp): 5 instructions where expf and an IEEE division took 23.
// Where e^-x overflows both give 0, as the exact forms do.
template <class T>
FLASHTP_DEVICE T logistic(T x) {
  using R = real_t<T>;
#if defined(__CUDA_ARCH__)
  if constexpr (std::is_same_v<T, float>) return __fdividef(1.0f, 1.0f + __expf(-x));
#endif
  return R(1) / (R(1) + math::exp(-x));
}
template <class T>
FLASHTP_DEVICE T silu(T x) {
  using R = real_t<T>;
#if defined(__CUDA_ARCH__)
  if constexpr (std::is_same_v<T, float>) return __fdividef(x, 1.0f + __expf(-x));
#endif
  return x / (R(1) + math::exp(-x));
}

// SiLU (the radial MLPs of SevenNet's models) is tested before the switch,
// whose jump table is an indirect branch per element.
template <class T>
FLASHTP_DEVICE T activate(ActivationKind kind, T x) {
  using R = real_t<T>;
  if (kind == ActivationKind::silu) return silu(x);
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
    const T s = logistic(x);
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
