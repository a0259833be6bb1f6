// Per-edge geometry: the radial embedding (Bessel basis x envelope) and the
// spherical harmonics of the edge direction, with their backward pass.
#pragma once
#include <cmath>
#include <vector>

#include "model.hpp"
#include "so3.hpp"

namespace flashtp::cpu {

template <typename T>
class EdgeEmbedding {
 public:
  explicit EdgeEmbedding(const Model& m)
      : radial_(m.radial),
        frequency_(m.radial.frequency.begin(), m.radial.frequency.end()),
        sh_(m.lmax_sh),
        normalized_(m.sh_normalized) {}

  int num_basis() const { return static_cast<int>(frequency_.size()); }
  int sh_size() const { return sh_.size(); }

  // emb[num_basis] and Y[sh_size] of the edge vector v.
  void forward(const T v[3], T* emb, T* Y) const {
    const T r = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    const T u[3] = {v[0] / r, v[1] / r, v[2] / r};
    sh_.evaluate(u, Y);
    if (!normalized_) scale_by_radius(r, Y, T(1));
    const T env = envelope(r).first;
    const T prefactor = T(2) / T(radial_.cutoff);
    for (int n = 0; n < num_basis(); ++n) emb[n] = prefactor * std::sin(frequency_[n] * r) / r * env;
  }

  // Adds dL/dv to grad_v given dL/demb and dL/dY.
  void backward(const T v[3], const T* Y, const T* grad_emb, const T* grad_Y, T grad_v[3]) const {
    const T r = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    const T u[3] = {v[0] / r, v[1] / r, v[2] / r};
    // radial: d/dr [ (2/rc) sin(f r)/r env(r) ]
    const auto [env, denv] = envelope(r);
    const T prefactor = T(2) / T(radial_.cutoff);
    T grad_r = 0;
    for (int n = 0; n < num_basis(); ++n) {
      const T f = frequency_[n];
      const T s = std::sin(f * r) / r;
      const T ds = (f * std::cos(f * r) - s) / r;
      grad_r += grad_emb[n] * prefactor * (ds * env + s * denv);
    }
    // angular: Y depends on u = v/|v|; du/dv = (I - u u^T)/r
    T grad_u[3] = {0, 0, 0};
    if (normalized_) {
      sh_.backward(u, Y, grad_Y, grad_u);
    } else {
      // Y_l = r^l y_l(u): dY_l/dr = l Y_l / r, and dL/dy_l = r^l dL/dY_l.
      std::vector<T> y(Y, Y + sh_size()), grad_y(grad_Y, grad_Y + sh_size());
      for (int l = 1, k = 1; l <= sh_.lmax(); ++l)
        for (int m = 0; m < 2 * l + 1; ++m, ++k) grad_r += grad_Y[k] * T(l) * Y[k] / r;
      scale_by_radius(r, y.data(), T(-1));
      scale_by_radius(r, grad_y.data(), T(1));
      sh_.backward(u, y.data(), grad_y.data(), grad_u);
    }
    const T radial_part = u[0] * grad_u[0] + u[1] * grad_u[1] + u[2] * grad_u[2];
    for (int a = 0; a < 3; ++a) grad_v[a] += (grad_u[a] - u[a] * radial_part) / r + grad_r * u[a];
  }

 private:
  // Y_l *= r^(sign * l) for every degree l.
  void scale_by_radius(T r, T* Y, T sign) const {
    for (int l = 1, k = 1; l <= sh_.lmax(); ++l) {
      const T factor = std::pow(r, sign * T(l));
      for (int m = 0; m < 2 * l + 1; ++m, ++k) Y[k] *= factor;
    }
  }

  // (envelope, d envelope / dr)
  std::pair<T, T> envelope(T r) const {
    const T rc = T(radial_.cutoff);
    if (radial_.envelope == RadialBasis::Envelope::polynomial) {
      const T p = T(radial_.poly_p);
      const T a = (p + 1) * (p + 2) / 2, b = p * (p + 2), c = p * (p + 1) / 2;
      const T x = r / rc;
      const T xp = std::pow(x, p);
      const T value = T(1) - a * xp + b * std::pow(x, p + T(1)) - c * std::pow(x, p + T(2));
      const T deriv = (-a * p * std::pow(x, p - T(1)) + b * (p + 1) * xp - c * (p + 2) * std::pow(x, p + T(1))) / rc;
      return {value, deriv};
    }
    const T on = T(radial_.xplor_on);
    if (r < on) return {T(1), T(0)};
    const T rc2 = rc * rc, r2 = r * r, on2 = on * on;
    const T denom = (rc2 - on2) * (rc2 - on2) * (rc2 - on2);
    const T value = (rc2 - r2) * (rc2 - r2) * (rc2 + T(2) * r2 - T(3) * on2) / denom;
    const T deriv = (T(-4) * r * (rc2 - r2) * (rc2 + T(2) * r2 - T(3) * on2) + T(4) * r * (rc2 - r2) * (rc2 - r2)) / denom;
    return {value, deriv};
  }

  RadialBasis radial_;
  std::vector<T> frequency_;
  SphericalHarmonics sh_;
  bool normalized_;  // see Model::sh_normalized
};

}  // namespace flashtp::cpu
