#include "graph.hpp"

#include <cmath>

#include "error.hpp"

namespace flashtp {

void check_edge_vectors(const Graph& g) {
  const int64_t n = g.num_edges();
  bool not_finite = false, zero = false;
#pragma omp parallel for reduction(|| : not_finite, zero)
  for (int64_t e = 0; e < n; ++e) {
    const Vec3& v = g.vec[e];
    const double r2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    not_finite = not_finite || !std::isfinite(r2);
    zero = zero || r2 == 0.0;
  }
  if (not_finite) throw Error("edge vector is not finite (NaN or infinite positions?)");
  if (zero) throw Error("two atoms sit on top of each other (zero-length edge)");
}

template <class T>
void edge_vectors(const Graph& g, T* out) {
  const int64_t n = g.num_edges();
#pragma omp parallel for
  for (int64_t e = 0; e < n; ++e)
    for (int a = 0; a < 3; ++a) out[3 * e + a] = static_cast<T>(g.vec[e][a]);
}
template void edge_vectors(const Graph&, float*);
template void edge_vectors(const Graph&, double*);

}  // namespace flashtp
