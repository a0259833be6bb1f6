#include "graph.hpp"

#include <cmath>

#include "error.hpp"

namespace flashtp {

namespace {

// Whether v is finite and whether it is zero, folded into the flags.
void classify(const Vec3& v, bool& not_finite, bool& zero) {
  const double r2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
  not_finite = not_finite || !std::isfinite(r2);
  zero = zero || r2 == 0.0;
}

void throw_if_bad(bool not_finite, bool zero) {
  if (not_finite) throw Error("edge vector is not finite (NaN or infinite positions?)");
  if (zero) throw Error("two atoms sit on top of each other (zero-length edge)");
}

}  // namespace

void check_edge_vectors(const Graph& g) {
  const int64_t n = g.num_edges();
  bool not_finite = false, zero = false;
#pragma omp parallel for reduction(|| : not_finite, zero)
  for (int64_t e = 0; e < n; ++e) classify(g.vec[e], not_finite, zero);
  throw_if_bad(not_finite, zero);
}

template <class T>
void edge_vectors(const Graph& g, T* out) {
  const int64_t n = g.num_edges();
  bool not_finite = false, zero = false;
#pragma omp parallel for reduction(|| : not_finite, zero)
  for (int64_t e = 0; e < n; ++e) {
    classify(g.vec[e], not_finite, zero);
    for (int a = 0; a < 3; ++a) out[3 * e + a] = static_cast<T>(g.vec[e][a]);
  }
  throw_if_bad(not_finite, zero);
}
template void edge_vectors(const Graph&, float*);
template void edge_vectors(const Graph&, double*);

}  // namespace flashtp
