#include "graph.hpp"

#include <cmath>

#include "error.hpp"

namespace flashtp {

void check_edge_vectors(const Graph& g) {
  for (const auto& v : g.vec) {
    const double r2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    if (!std::isfinite(r2)) throw Error("edge vector is not finite (NaN or infinite positions?)");
    if (r2 == 0.0) throw Error("two atoms sit on top of each other (zero-length edge)");
  }
}

}  // namespace flashtp
