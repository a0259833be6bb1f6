// Physics the engine must obey whatever the model: forces and virial are
// derivatives of the energy, and the energy is invariant under rigid motions.
#include <gtest/gtest.h>

#include <cmath>

#include "engine.hpp"
#include "model_file.hpp"
#include "neighbor.hpp"
#include "reference.hpp"

namespace {

using flashtp::Structure;
using flashtp::Vec3;

struct System {
  flashtp::Model model;
  Structure atoms;
  std::vector<int> species;
};

System load(const std::string& model_name, const std::string& structure) {
  System s{flashtp::load_model(flashtp::test::reference_path("models/" + model_name + ".pth")), {}, {}};
  s.atoms = flashtp::test::reference_structure(flashtp::test::references()["structures"][structure], s.model, s.species);
  return s;
}

flashtp::Result evaluate(const System& s, const Structure& atoms) {
  const auto graph = flashtp::build_graph(atoms, s.species, s.model.cutoff());
  return flashtp::make_cpu_engine(s.model, flashtp::Precision::float64)->compute(graph);
}

// Applies x -> M x to positions and cell rows.
Structure transform(const Structure& in, const double M[3][3]) {
  Structure out = in;
  auto apply = [&](Vec3& v) {
    const Vec3 w = v;
    for (int a = 0; a < 3; ++a) v[a] = M[a][0] * w[0] + M[a][1] * w[1] + M[a][2] * w[2];
  };
  for (auto& p : out.positions) apply(p);
  for (auto& row : out.cell) apply(row);
  return out;
}

class Physics : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(Physics, ForcesAreMinusEnergyGradient) {
  const auto s = load(GetParam().first, GetParam().second);
  const auto r = evaluate(s, s.atoms);
  const double h = 1e-5;
  for (size_t i = 0; i < s.atoms.positions.size(); i += 3)
    for (int a = 0; a < 3; ++a) {
      Structure plus = s.atoms, minus = s.atoms;
      plus.positions[i][a] += h;
      minus.positions[i][a] -= h;
      const double fd = -(evaluate(s, plus).energy - evaluate(s, minus).energy) / (2 * h);
      EXPECT_NEAR(r.forces[i][a], fd, 1e-7) << "atom " << i << " axis " << a;
    }
}

TEST_P(Physics, VirialIsMinusStrainDerivative) {
  const auto s = load(GetParam().first, GetParam().second);
  if (!s.atoms.pbc[0]) GTEST_SKIP() << "open boundaries: no cell to strain";
  const auto r = evaluate(s, s.atoms);
  // W_ab = -dE/d(eps_ba) for the deformation x -> (1 + eps) x
  const int voigt[6][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 1}, {0, 2}, {1, 2}};
  const double h = 1e-6;
  for (int k = 0; k < 6; ++k) {
    double plus[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, minus[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    plus[voigt[k][1]][voigt[k][0]] += h;
    minus[voigt[k][1]][voigt[k][0]] -= h;
    const double fd = -(evaluate(s, transform(s.atoms, plus)).energy - evaluate(s, transform(s.atoms, minus)).energy) / (2 * h);
    EXPECT_NEAR(r.virial[k], fd, 1e-6) << "virial component " << k;
  }
}

TEST_P(Physics, RigidMotionLeavesEnergyAndRotatesForces) {
  const auto s = load(GetParam().first, GetParam().second);
  const auto r = evaluate(s, s.atoms);
  // rotation by 0.7 rad about (1, 2, 3)/|.|, then a translation
  const double angle = 0.7, n = std::sqrt(14.0), u[3] = {1 / n, 2 / n, 3 / n};
  const double c = std::cos(angle), sn = std::sin(angle);
  double R[3][3];
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) R[a][b] = (a == b ? c : 0) + (1 - c) * u[a] * u[b];
  R[0][1] -= sn * u[2]; R[0][2] += sn * u[1]; R[1][0] += sn * u[2];
  R[1][2] -= sn * u[0]; R[2][0] -= sn * u[1]; R[2][1] += sn * u[0];
  Structure moved = transform(s.atoms, R);
  for (auto& p : moved.positions) {
    p[0] += 0.37; p[1] -= 1.21; p[2] += 2.5;
  }
  const auto m = evaluate(s, moved);
  EXPECT_NEAR(m.energy, r.energy, 1e-10 * std::abs(r.energy));
  for (size_t i = 0; i < r.forces.size(); ++i)
    for (int a = 0; a < 3; ++a) {
      const double rotated = R[a][0] * r.forces[i][0] + R[a][1] * r.forces[i][1] + R[a][2] * r.forces[i][2];
      EXPECT_NEAR(m.forces[i][a], rotated, 1e-10) << "atom " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Models, Physics,
                         ::testing::Values(std::make_pair("tiny_parity", "bulk_rand_40"),
                                           std::make_pair("tiny_parity", "cluster_20"),
                                           std::make_pair("sevennet0_arch", "tiny_triclinic"),
                                           std::make_pair("l3i5_arch", "tiny_triclinic")),
                         [](const auto& info) { return info.param.first + "_" + info.param.second; });

}  // namespace
