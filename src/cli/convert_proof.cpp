#include "cli/convert_proof.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "neighbor.hpp"

namespace flashtp::cli {
namespace {

Check compare(const Result& ref, const Result& got, const Tolerance& tol) {
  Check c;
  // Energies are sums of per-atom terms: their noise scales with the terms' size.
  const double n = static_cast<double>(std::max<size_t>(1, ref.atomic_energy.size()));
  double terms = 0;
  for (double e : ref.atomic_energy) terms += std::abs(e);
  c.energy = std::abs(got.energy - ref.energy) / n;
  c.energy_bound = tol.energy * std::max({1.0, terms / n, std::abs(ref.energy) / n});
  double fmax = 0, wmax = 0;
  for (size_t i = 0; i < ref.forces.size(); ++i)
    for (int a = 0; a < 3; ++a) {
      const double d = i < got.forces.size() ? std::abs(got.forces[i][a] - ref.forces[i][a]) : INFINITY;
      c.force = std::max(c.force, d);
      fmax = std::max(fmax, std::abs(ref.forces[i][a]));
    }
  for (int k = 0; k < 6; ++k) {
    c.virial = std::max(c.virial, std::abs(got.virial[k] - ref.virial[k]));
    wmax = std::max(wmax, std::abs(ref.virial[k]));
  }
  c.force_bound = tol.force * std::max(1.0, fmax);
  c.virial_bound = tol.virial * std::max(1.0, wmax);
  // NaN never passes.
  if (!std::isfinite(got.energy)) c.energy = INFINITY;
  return c;
}

}  // namespace

std::vector<Check> prove(const std::vector<TestStructure>& structures, double cutoff,
                         const std::vector<Comparison>& comparisons, std::ostream& log) {
  std::vector<Check> checks;
  char line[256];
  std::snprintf(line, sizeof line, "  %-16s %5s %6s  %-34s %19s %19s %19s\n", "structure", "atoms", "edges", "comparison",
                "|dE|/atom (bound)", "max|dF| (bound)", "max|dW| (bound)");
  log << line;
  for (const auto& s : structures) {
    const Graph graph = build_graph(s.atoms, s.species, cutoff);
    for (const auto& cmp : comparisons) {
      Check c = compare(cmp.reference(graph), cmp.candidate(graph), cmp.tolerance);
      c.structure = s.name;
      c.label = cmp.label;
      c.atoms = graph.num_local;
      c.edges = graph.num_edges();
      std::snprintf(line, sizeof line, "  %-16s %5d %6lld  %-34s %8.1e (%7.1e) %8.1e (%7.1e) %8.1e (%7.1e)  %s\n",
                    c.structure.c_str(), c.atoms, static_cast<long long>(c.edges), c.label.c_str(), c.energy,
                    c.energy_bound, c.force, c.force_bound, c.virial, c.virial_bound, c.pass() ? "ok" : "FAIL");
      log << line << std::flush;
      checks.push_back(c);
    }
  }
  return checks;
}

}  // namespace flashtp::cli
