// Clebsch-Gordan coefficients and spherical harmonics in e3nn's real basis.
//
// Both are computed here from first principles and must equal e3nn's to
// rounding: the coefficient tables in shared/reference/e3nn_conventions.json
// are the test.
#pragma once
#include <vector>

namespace flashtp {

// One nonzero entry C[i][j][k] of a coupling tensor.
struct CGEntry {
  int i, j, k;
  double c;
};

// e3nn's wigner_3j(l1, l2, l3): the real-basis coupling tensor of shape
// (2l1+1, 2l2+1, 2l3+1), Frobenius norm 1. Dense, row-major.
std::vector<double> wigner_3j(int l1, int l2, int l3);

// The same tensor as its nonzero entries (|c| > 1e-14).
std::vector<CGEntry> wigner_3j_sparse(int l1, int l2, int l3);

// Real spherical harmonics Y_0..Y_lmax of a unit vector, e3nn's
// normalization "component" (|Y_l|^2 = 2l+1), concatenated: (lmax+1)^2 values.
// Built by e3nn's own recursion, Y_{l+1} ∝ C(l,1,l+1) : (Y_l ⊗ u), so every
// degree is exactly consistent with the coupling tensors above.
class SphericalHarmonics {
 public:
  explicit SphericalHarmonics(int lmax);
  int lmax() const { return lmax_; }
  int size() const { return (lmax_ + 1) * (lmax_ + 1); }

  // u must be a unit vector. Y has size() entries.
  template <typename T>
  void evaluate(const T u[3], T* Y) const;

  // Given Y = evaluate(u) and dL/dY, adds dL/du (unconstrained derivative of
  // the polynomials) to grad_u.
  template <typename T>
  void backward(const T u[3], const T* Y, const T* grad_Y, T grad_u[3]) const;

 private:
  struct Term {
    int i, j, k;  // Y_{l+1}[k] += c * Y_l[i] * u[j]
    double c;
  };
  int lmax_;
  std::vector<std::vector<Term>> recursion_;  // recursion_[l]: l -> l+1
};

}  // namespace flashtp
