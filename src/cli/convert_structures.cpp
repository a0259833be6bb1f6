#include "cli/convert_structures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "error.hpp"

namespace flashtp::cli {
namespace {

constexpr double kMinDistance = 1.6;  // Angstrom: closer than any bond a model was trained on
constexpr double kPi = 3.14159265358979323846;

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  double uniform() {  // [0, 1) from the top 53 bits
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
  }

 private:
  uint64_t next() {  // splitmix64
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

Vec3 cartesian(const std::array<Vec3, 3>& cell, const Vec3& frac) {
  Vec3 r{};
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) r[b] += frac[a] * cell[a][b];
  return r;
}

// Distance from p to every periodic image of q (and of p itself) within reach.
double min_distance(const Structure& s, const Vec3& p, const Vec3& q, bool same) {
  const int reach = std::any_of(s.pbc.begin(), s.pbc.end(), [](bool b) { return b; }) ? 2 : 0;
  double best = 1e300;
  for (int i = -reach; i <= reach; ++i)
    for (int j = -reach; j <= reach; ++j)
      for (int k = -reach; k <= reach; ++k) {
        const int n[3] = {i, j, k};
        if ((same && i == 0 && j == 0 && k == 0) || (!s.pbc[0] && i) || (!s.pbc[1] && j) || (!s.pbc[2] && k)) continue;
        double d2 = 0;
        for (int b = 0; b < 3; ++b) {
          const double shift = n[0] * s.cell[0][b] + n[1] * s.cell[1][b] + n[2] * s.cell[2][b];
          d2 += (q[b] + shift - p[b]) * (q[b] + shift - p[b]);
        }
        best = std::min(best, std::sqrt(d2));
      }
  return best;
}

// Places `count` atoms at random fractional positions of the cell (or, for an
// open cluster, in a ball of that radius), none closer than kMinDistance.
TestStructure fill(const std::string& name, Structure s, int count, int num_species, Random& rng, double ball = 0) {
  TestStructure t{name, s, {}};
  const int offset = static_cast<int>(rng.uniform() * num_species);
  for (int k = 0; k < count; ++k) {
    bool placed = false;
    for (int attempt = 0; attempt < 100000 && !placed; ++attempt) {
      Vec3 p;
      if (ball > 0) {
        Vec3 x{2 * rng.uniform() - 1, 2 * rng.uniform() - 1, 2 * rng.uniform() - 1};
        if (x[0] * x[0] + x[1] * x[1] + x[2] * x[2] > 1) continue;
        p = {ball * x[0], ball * x[1], ball * x[2]};
      } else {
        p = cartesian(s.cell, {rng.uniform(), rng.uniform(), rng.uniform()});
      }
      placed = min_distance(t.atoms, p, p, true) >= kMinDistance;
      for (const auto& q : t.atoms.positions) placed = placed && min_distance(t.atoms, p, q, false) >= kMinDistance;
      if (placed) {
        t.atoms.positions.push_back(p);
        t.atoms.types.push_back(1);
        t.atoms.tags.push_back(k + 1);
        t.species.push_back((k + offset) % num_species);
      }
    }
    if (!placed) throw Error("cannot place " + std::to_string(count) + " atoms in the " + name + " test structure");
  }
  return t;
}

Structure cubic(double length) {
  Structure s;
  s.cell = {Vec3{length, 0, 0}, Vec3{0, length, 0}, Vec3{0, 0, length}};
  return s;
}

}  // namespace

std::vector<TestStructure> proof_structures(int num_species, double cutoff) {
  Random rng(20240611);
  std::vector<TestStructure> out;
  // Densities in atoms per cubic Angstrom: a dense solid and a sparse gas-like box.
  const int dense = std::max(32, std::min(num_species, 64));
  out.push_back(fill("periodic dense", cubic(std::cbrt(dense / 0.07)), dense, num_species, rng));
  out.push_back(fill("periodic sparse", cubic(std::cbrt(16 / 0.015)), 16, num_species, rng));
  Structure open;
  open.pbc = {false, false, false};
  out.push_back(fill("open cluster", open, 12, num_species, rng, std::cbrt(3 * 12 / (4 * kPi * 0.05))));
  // Every lattice vector shorter than the cutoff: atoms see many images of themselves.
  Structure tri;
  tri.cell = {Vec3{0.80 * cutoff, 0, 0}, Vec3{0.30 * cutoff, 0.75 * cutoff, 0},
              Vec3{0.20 * cutoff, -0.25 * cutoff, 0.70 * cutoff}};
  out.push_back(fill("small triclinic", tri, 2, num_species, rng));
  return out;
}

}  // namespace flashtp::cli
