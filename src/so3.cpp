#include "so3.hpp"

#include <cmath>
#include <algorithm>
#include <complex>

#include "error.hpp"

namespace flashtp {
namespace {

using cplx = std::complex<long double>;

long double factorial(int n) {
  long double f = 1;
  for (int k = 2; k <= n; ++k) f *= k;
  return f;
}

// Condon-Shortley SU(2) Clebsch-Gordan coefficient <l1 m1; l2 m2 | l3 m3>
// (Racah's formula, as e3nn's _su2_clebsch_gordan_coeff).
long double su2_cg(int j1, int m1, int j2, int m2, int j3, int m3) {
  if (m3 != m1 + m2) return 0;
  int vmin = std::max({-j1 + j2 + m3, -j1 + m1, 0});
  int vmax = std::min({j2 + j3 + m1, j3 - j1 + j2, j3 + m3});
  long double c = std::sqrt((2.0L * j3 + 1.0L) * factorial(j3 + j1 - j2) * factorial(j3 - j1 + j2) *
                            factorial(j1 + j2 - j3) * factorial(j3 + m3) * factorial(j3 - m3) /
                            (factorial(j1 + j2 + j3 + 1) * factorial(j1 - m1) * factorial(j1 + m1) *
                             factorial(j2 - m2) * factorial(j2 + m2)));
  long double s = 0;
  for (int v = vmin; v <= vmax; ++v) {
    long double term = factorial(j2 + j3 + m1 - v) * factorial(j1 - m1 + v) /
                       (factorial(v) * factorial(j3 - j1 + j2 - v) * factorial(j3 + m3 - v) *
                        factorial(v + j1 - j2 - m3));
    s += ((v + j2 + m2) % 2 == 0 ? 1 : -1) * term;
  }
  return c * s;
}

// e3nn's change_basis_real_to_complex(l): q[row = complex m][col = real index],
// times (-i)^l so that the real coupling tensors come out real.
std::vector<cplx> real_to_complex(int l) {
  const int d = 2 * l + 1;
  std::vector<cplx> q(d * d, 0);
  const long double h = 1 / std::sqrt(2.0L);
  for (int m = -l; m < 0; ++m) {
    q[(l + m) * d + (l - m)] = h;
    q[(l + m) * d + (l + m)] = cplx(0, -h);
  }
  q[l * d + l] = 1;
  for (int m = 1; m <= l; ++m) {
    long double sign = (m % 2 == 0) ? 1 : -1;
    q[(l + m) * d + (l + m)] = sign * h;
    q[(l + m) * d + (l - m)] = cplx(0, sign * h);
  }
  cplx phase = std::pow(cplx(0, -1), l);
  for (auto& v : q) v *= phase;
  return q;
}

}  // namespace

std::vector<double> wigner_3j(int l1, int l2, int l3) {
  if (l3 < std::abs(l1 - l2) || l3 > l1 + l2) throw Error("wigner_3j: l3 outside |l1-l2|..l1+l2");
  const int d1 = 2 * l1 + 1, d2 = 2 * l2 + 1, d3 = 2 * l3 + 1;
  auto q1 = real_to_complex(l1), q2 = real_to_complex(l2), q3 = real_to_complex(l3);
  // C_real[j,l,m] = sum_{i,k,n} Q1[i,j] Q2[k,l] conj(Q3[n,m]) C_su2[i,k,n]
  std::vector<cplx> out(d1 * d2 * d3, 0);
  for (int i = 0; i < d1; ++i)
    for (int k = 0; k < d2; ++k) {
      int n = i - l1 + k - l2 + l3;  // m3 = m1 + m2
      if (n < 0 || n >= d3) continue;
      long double c = su2_cg(l1, i - l1, l2, k - l2, l3, n - l3);
      if (c == 0) continue;
      for (int j = 0; j < d1; ++j) {
        if (q1[i * d1 + j] == cplx(0)) continue;
        for (int l = 0; l < d2; ++l) {
          if (q2[k * d2 + l] == cplx(0)) continue;
          cplx a = q1[i * d1 + j] * q2[k * d2 + l] * c;
          for (int m = 0; m < d3; ++m) out[(j * d2 + l) * d3 + m] += a * std::conj(q3[n * d3 + m]);
        }
      }
    }
  long double norm = 0;
  for (auto& v : out) norm += v.real() * v.real();
  norm = std::sqrt(norm);
  std::vector<double> real(out.size());
  for (size_t t = 0; t < out.size(); ++t) real[t] = static_cast<double>(out[t].real() / norm);
  return real;
}

std::vector<CGEntry> wigner_3j_sparse(int l1, int l2, int l3) {
  auto dense = wigner_3j(l1, l2, l3);
  const int d2 = 2 * l2 + 1, d3 = 2 * l3 + 1;
  std::vector<CGEntry> entries;
  for (size_t t = 0; t < dense.size(); ++t)
    if (std::abs(dense[t]) > 1e-14) {
      int i = static_cast<int>(t) / (d2 * d3), j = (static_cast<int>(t) / d3) % d2, k = static_cast<int>(t) % d3;
      entries.push_back({i, j, k, dense[t]});
    }
  return entries;
}

SphericalHarmonics::SphericalHarmonics(int lmax) : lmax_(lmax) {
  if (lmax < 0) throw Error("spherical harmonics need lmax >= 0");
  // Y_{l+1}[k] = c_l sum_ij C(l,1,l+1)[i,j,k] Y_l[i] u[j]: the projection is
  // harmonic, and its norm on the unit sphere is constant, so one probe
  // vector fixes c_l > 0 such that |Y_{l+1}|^2 = 2l+3.
  const double probe[3] = {0.36, -0.48, 0.8};
  std::vector<double> Y = {1.0};
  for (int l = 0; l < lmax; ++l) {
    std::vector<Term> terms;
    for (const auto& e : wigner_3j_sparse(l, 1, l + 1)) terms.push_back({e.i, e.j, e.k, e.c});
    std::vector<double> next(2 * l + 3, 0.0);
    for (const auto& t : terms) next[t.k] += t.c * Y[t.i] * probe[t.j];
    double norm = 0;
    for (double v : next) norm += v * v;
    double c = std::sqrt((2.0 * l + 3.0) / norm);
    for (auto& t : terms) t.c *= c;
    for (auto& v : next) v *= c;
    recursion_.push_back(terms);
    Y = next;
  }
}

template <typename T>
void SphericalHarmonics::evaluate(const T u[3], T* Y) const {
  Y[0] = 1;
  for (int l = 0; l < lmax_; ++l) {
    const T* in = Y + l * l;
    T* out = Y + (l + 1) * (l + 1);
    for (int k = 0; k < 2 * l + 3; ++k) out[k] = 0;
    for (const auto& t : recursion_[l]) out[t.k] += T(t.c) * in[t.i] * u[t.j];
  }
}

template <typename T>
void SphericalHarmonics::backward(const T u[3], const T* Y, const T* grad_Y, T grad_u[3]) const {
  // Reverse mode through the recursion, from the top degree down.
  std::vector<T> g(grad_Y, grad_Y + size());
  for (int l = lmax_ - 1; l >= 0; --l) {
    const T* in = Y + l * l;
    T* g_in = g.data() + l * l;
    const T* g_out = g.data() + (l + 1) * (l + 1);
    for (const auto& t : recursion_[l]) {
      T c = T(t.c) * g_out[t.k];
      g_in[t.i] += c * u[t.j];
      grad_u[t.j] += c * in[t.i];
    }
  }
}

template void SphericalHarmonics::evaluate<float>(const float*, float*) const;
template void SphericalHarmonics::evaluate<double>(const double*, double*) const;
template void SphericalHarmonics::backward<float>(const float*, const float*, const float*, float*) const;
template void SphericalHarmonics::backward<double>(const double*, const double*, const double*, double*) const;

}  // namespace flashtp
