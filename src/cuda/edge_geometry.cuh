// Per-edge geometry on the device: the radial embedding (Bessel basis times a
// cutoff envelope) and the spherical harmonics of the edge direction, with
// their reverse-mode derivative. One thread per edge; the same arithmetic as
// cpu/edge_embedding.hpp.
#pragma once
#include "cuda/coupling_generated.hpp"
#include "cuda/views.hpp"

namespace flashtp::cuda {

// Y_0 .. Y_lmax of the unit vector u (e3nn "component" normalisation).
template <class T, int L = 0>
FLASHTP_DEVICE void spherical_harmonics(int lmax, const T* u, T* Y) {
  if constexpr (L == 0) Y[0] = T(1);
  if constexpr (L < kMaxL) {
    if (L < lmax) {
      ShStep<L>::forward(u, Y);
      spherical_harmonics<T, L + 1>(lmax, u, Y);
    }
  }
}

// g holds dL/dY (it is consumed); adds dL/du to grad_u.
template <class T, int L = kMaxL - 1>
FLASHTP_DEVICE void spherical_harmonics_backward(int lmax, const T* u, const T* Y, T* g, T* grad_u) {
  if (L < lmax) ShStep<L>::backward(u, Y, g, grad_u);
  if constexpr (L > 0) spherical_harmonics_backward<T, L - 1>(lmax, u, Y, g, grad_u);
}

// Y_l *= r^l for l >= 1: the unnormalised harmonics r^l Y_l(u) of SevenNet
// <= 0.9 from the normalised ones (or their gradients the other way).
template <class T>
FLASHTP_DEVICE void scale_by_radius(int lmax, T r, T* Y) {
  T factor = T(1);
  for (int l = 1, k = 1; l <= lmax; ++l) {
    factor = factor * r;
    for (int m = 0; m < 2 * l + 1; ++m, ++k) Y[k] = Y[k] * factor;
  }
}

// (envelope, d envelope / dr): polynomial (p) or XPLOR switching.
template <class T, class R>
FLASHTP_DEVICE void envelope(const EmbeddingView<R>& m, T r, T& value_out, T& derivative_out) {
  const R rc = m.cutoff;
  if (m.polynomial) {
    const R p = m.poly_p;
    const R a = (p + 1) * (p + 2) / 2, b = p * (p + 2), c = p * (p + 1) / 2;
    const T x = r / rc;
    const T xp = math::pow(x, p);
    value_out = R(1) - a * xp + b * math::pow(x, p + R(1)) - c * math::pow(x, p + R(2));
    derivative_out = (-a * p * math::pow(x, p - R(1)) + b * (p + 1) * xp - c * (p + 2) * math::pow(x, p + R(1))) / rc;
    return;
  }
  const R on = m.xplor_on;
  if (value(r) < on) {
    value_out = T(1);
    derivative_out = T(0);
    return;
  }
  const R rc2 = rc * rc, on2 = on * on;
  const T r2 = r * r;
  const R denom = (rc2 - on2) * (rc2 - on2) * (rc2 - on2);
  value_out = (rc2 - r2) * (rc2 - r2) * (rc2 + R(2) * r2 - R(3) * on2) / denom;
  derivative_out = (R(-4) * r * (rc2 - r2) * (rc2 + R(2) * r2 - R(3) * on2) + R(4) * r * (rc2 - r2) * (rc2 - r2)) / denom;
}

// From the edge vector v: geo = (u_x, u_y, u_z, r) and Y[sh_size].
template <class T, class R>
FLASHTP_DEVICE void edge_harmonics(const EmbeddingView<R>& m, const T* v, T* geo, T* Y) {
  const T r = math::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  for (int a = 0; a < 3; ++a) geo[a] = v[a] / r;
  geo[3] = r;
  spherical_harmonics(m.lmax, geo, Y);
  if (!m.sh_normalized) scale_by_radius(m.lmax, r, Y);
}

// The radial embedding emb[num_basis] of an edge of length r.
template <class T, class R>
FLASHTP_DEVICE void radial_embedding(const EmbeddingView<R>& m, T r, T* emb) {
  T env, denv;
  envelope(m, r, env, denv);
  const R prefactor = R(2) / m.cutoff;
  for (int n = 0; n < m.num_basis; ++n) emb[n] = prefactor * math::sin(m.frequency[n] * r) / r * env;
}

// From the edge vector v: geo, Y (edge_harmonics) and emb.
template <class T, class R>
FLASHTP_DEVICE void edge_forward(const EmbeddingView<R>& m, const T* v, T* geo, T* emb, T* Y) {
  edge_harmonics(m, v, geo, Y);
  radial_embedding(m, geo[3], emb);
}

// dL/dv of one edge from dL/demb and dL/dY (grad_Y is consumed).
template <class T, class R>
FLASHTP_DEVICE void edge_backward(const EmbeddingView<R>& m, const T* geo, const T* Y, const T* grad_emb, T* grad_Y,
                                  T* grad_v) {
  const T r = geo[3];
  T env, denv;
  envelope(m, r, env, denv);
  const R prefactor = R(2) / m.cutoff;
  T grad_r = T(0);
  for (int n = 0; n < m.num_basis; ++n) {
    const R f = m.frequency[n];
    const T s = math::sin(f * r) / r;
    const T ds = (f * math::cos(f * r) - s) / r;
    grad_r += grad_emb[n] * prefactor * (ds * env + s * denv);
  }
  // Y depends on u = v / |v|; du/dv = (I - u u^T) / r
  T grad_u[3] = {T(0), T(0), T(0)};
  if (m.sh_normalized) {
    spherical_harmonics_backward(m.lmax, geo, Y, grad_Y, grad_u);
  } else {
    // Y_l = r^l y_l(u): dY_l/dr = l Y_l / r, and dL/dy_l = r^l dL/dY_l.
    T y[(kMaxL + 1) * (kMaxL + 1)];
    for (int l = 1, k = 1; l <= m.lmax; ++l)
      for (int q = 0; q < 2 * l + 1; ++q, ++k) grad_r += grad_Y[k] * T(l) * Y[k] / r;
    spherical_harmonics(m.lmax, geo, y);
    scale_by_radius(m.lmax, r, grad_Y);
    spherical_harmonics_backward(m.lmax, geo, y, grad_Y, grad_u);
  }
  const T radial_part = geo[0] * grad_u[0] + geo[1] * grad_u[1] + geo[2] * grad_u[2];
  for (int a = 0; a < 3; ++a) grad_v[a] = (grad_u[a] - geo[a] * radial_part) / r + grad_r * geo[a];
}

}  // namespace flashtp::cuda
