// The kernels' number types: float, double, and Dual<double> (a value with its
// directional derivative), so that one set of kernels computes forces in
// float32/float64 and, run on dual numbers, their derivative along a
// displacement: the Hessian-vector product (forward mode over the backward pass).
//
// Weights are always real_t<T>: a dual number only ever meets real weights.
#pragma once
#include <cmath>

#include "cuda/platform.hpp"

namespace flashtp::cuda {

// x + eps * d, eps^2 = 0.
template <class R>
struct Dual {
  R v, d;
  FLASHTP_DEVICE Dual() : v(0), d(0) {}
  FLASHTP_DEVICE Dual(R value) : v(value), d(0) {}  // NOLINT: a real is a dual with no derivative
  FLASHTP_DEVICE Dual(R value, R derivative) : v(value), d(derivative) {}
  FLASHTP_DEVICE Dual& operator+=(const Dual& o) { v += o.v; d += o.d; return *this; }
  FLASHTP_DEVICE Dual& operator-=(const Dual& o) { v -= o.v; d -= o.d; return *this; }
  FLASHTP_DEVICE Dual& operator*=(const Dual& o) { d = d * o.v + v * o.d; v *= o.v; return *this; }
  FLASHTP_DEVICE Dual& operator*=(R s) { v *= s; d *= s; return *this; }
};

template <class R> FLASHTP_DEVICE Dual<R> operator-(const Dual<R>& a) { return {-a.v, -a.d}; }
template <class R> FLASHTP_DEVICE Dual<R> operator+(Dual<R> a, const Dual<R>& b) { return a += b; }
template <class R> FLASHTP_DEVICE Dual<R> operator-(Dual<R> a, const Dual<R>& b) { return a -= b; }
template <class R> FLASHTP_DEVICE Dual<R> operator*(Dual<R> a, const Dual<R>& b) { return a *= b; }
template <class R> FLASHTP_DEVICE Dual<R> operator*(Dual<R> a, R s) { return a *= s; }
template <class R> FLASHTP_DEVICE Dual<R> operator*(R s, Dual<R> a) { return a *= s; }
template <class R> FLASHTP_DEVICE Dual<R> operator+(Dual<R> a, R s) { a.v += s; return a; }
template <class R> FLASHTP_DEVICE Dual<R> operator+(R s, Dual<R> a) { a.v += s; return a; }
template <class R> FLASHTP_DEVICE Dual<R> operator-(Dual<R> a, R s) { a.v -= s; return a; }
template <class R> FLASHTP_DEVICE Dual<R> operator-(R s, const Dual<R>& a) { return {s - a.v, -a.d}; }
template <class R> FLASHTP_DEVICE Dual<R> operator/(const Dual<R>& a, const Dual<R>& b) {
  const R q = a.v / b.v;
  return {q, (a.d - q * b.d) / b.v};
}
template <class R> FLASHTP_DEVICE Dual<R> operator/(const Dual<R>& a, R s) { return {a.v / s, a.d / s}; }
template <class R> FLASHTP_DEVICE Dual<R> operator/(R s, const Dual<R>& b) { return Dual<R>(s) / b; }

// A warp shuffle moves both parts.
template <class R> FLASHTP_DEVICE_ONLY Dual<R> shuffle_xor(const Dual<R>& x, int mask) {
  return {shuffle_xor(x.v, mask), shuffle_xor(x.d, mask)};
}

template <class T> struct RealOf { using type = T; };
template <class R> struct RealOf<Dual<R>> { using type = R; };
template <class T> using real_t = typename RealOf<T>::type;

FLASHTP_DEVICE float value(float x) { return x; }
FLASHTP_DEVICE double value(double x) { return x; }
template <class R> FLASHTP_DEVICE R value(const Dual<R>& x) { return x.v; }

// Elementary functions: the C library's (device versions under nvcc), and
// their chain rule on duals.
namespace math {
FLASHTP_DEVICE float sqrt(float x) { return ::sqrtf(x); }
FLASHTP_DEVICE double sqrt(double x) { return ::sqrt(x); }
FLASHTP_DEVICE float sin(float x) { return ::sinf(x); }
FLASHTP_DEVICE double sin(double x) { return ::sin(x); }
FLASHTP_DEVICE float cos(float x) { return ::cosf(x); }
FLASHTP_DEVICE double cos(double x) { return ::cos(x); }
FLASHTP_DEVICE float exp(float x) { return ::expf(x); }
FLASHTP_DEVICE double exp(double x) { return ::exp(x); }
FLASHTP_DEVICE float expm1(float x) { return ::expm1f(x); }
FLASHTP_DEVICE double expm1(double x) { return ::expm1(x); }
FLASHTP_DEVICE float log1p(float x) { return ::log1pf(x); }
FLASHTP_DEVICE double log1p(double x) { return ::log1p(x); }
FLASHTP_DEVICE float tanh(float x) { return ::tanhf(x); }
FLASHTP_DEVICE double tanh(double x) { return ::tanh(x); }
FLASHTP_DEVICE float pow(float x, float p) { return ::powf(x, p); }
FLASHTP_DEVICE double pow(double x, double p) { return ::pow(x, p); }

template <class R> FLASHTP_DEVICE Dual<R> sqrt(const Dual<R>& x) {
  const R s = sqrt(x.v);
  return {s, x.d / (R(2) * s)};
}
template <class R> FLASHTP_DEVICE Dual<R> sin(const Dual<R>& x) { return {sin(x.v), x.d * cos(x.v)}; }
template <class R> FLASHTP_DEVICE Dual<R> cos(const Dual<R>& x) { return {cos(x.v), -x.d * sin(x.v)}; }
template <class R> FLASHTP_DEVICE Dual<R> exp(const Dual<R>& x) {
  const R e = exp(x.v);
  return {e, x.d * e};
}
template <class R> FLASHTP_DEVICE Dual<R> expm1(const Dual<R>& x) { return {expm1(x.v), x.d * exp(x.v)}; }
template <class R> FLASHTP_DEVICE Dual<R> log1p(const Dual<R>& x) { return {log1p(x.v), x.d / (R(1) + x.v)}; }
template <class R> FLASHTP_DEVICE Dual<R> tanh(const Dual<R>& x) {
  const R t = tanh(x.v);
  return {t, x.d * (R(1) - t * t)};
}
// x^p for a real exponent p (x > 0 where the derivative is needed).
template <class R> FLASHTP_DEVICE Dual<R> pow(const Dual<R>& x, R p) {
  const R y = pow(x.v, p);
  return {y, x.d * p * pow(x.v, p - R(1))};
}
}  // namespace math

}  // namespace flashtp::cuda
