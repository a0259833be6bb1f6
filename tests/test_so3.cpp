// Our Clebsch-Gordan coefficients and spherical harmonics equal e3nn's.
#include <gtest/gtest.h>

#include <cmath>

#include "reference.hpp"
#include "so3.hpp"

using flashtp::test::load_json;

TEST(SO3, Wigner3jEqualsE3nn) {
  const auto& table = load_json("e3nn_conventions.json")["wigner_3j"];
  int checked = 0;
  for (const auto& [key, value] : table.items()) {
    int l1, l2, l3;
    ASSERT_EQ(std::sscanf(key.c_str(), "%d,%d,%d", &l1, &l2, &l3), 3);
    auto ours = flashtp::wigner_3j(l1, l2, l3);
    std::vector<double> theirs;
    for (const auto& a : value)
      for (const auto& b : a)
        for (const auto& c : b) theirs.push_back(c.get<double>());
    ASSERT_EQ(ours.size(), theirs.size()) << key;
    for (size_t t = 0; t < ours.size(); ++t) EXPECT_NEAR(ours[t], theirs[t], 1e-14) << key << " entry " << t;
    ++checked;
  }
  EXPECT_GT(checked, 50);
}

TEST(SO3, SphericalHarmonicsEqualE3nnComponent) {
  const auto& conv = load_json("e3nn_conventions.json");
  const auto& vectors = conv["sh_vectors"];
  const auto& expected = conv["spherical_harmonics_l0_to_6"]["component"];
  flashtp::SphericalHarmonics sh(6);
  ASSERT_EQ(expected.size(), vectors.size());
  for (size_t v = 0; v < vectors.size(); ++v) {
    double r[3] = {vectors[v][0], vectors[v][1], vectors[v][2]};
    double n = std::sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
    double u[3] = {r[0] / n, r[1] / n, r[2] / n};
    std::vector<double> Y(sh.size());
    sh.evaluate(u, Y.data());
    ASSERT_EQ(expected[v].size(), Y.size());
    for (int k = 0; k < sh.size(); ++k) EXPECT_NEAR(Y[k], expected[v][k].get<double>(), 1e-12) << "vector " << v << " k " << k;
  }
}

TEST(SO3, SphericalHarmonicsBackwardMatchesFiniteDifferences) {
  flashtp::SphericalHarmonics sh(4);
  double u[3] = {0.3, -0.5, 0.81};
  std::vector<double> w(sh.size());
  for (int k = 0; k < sh.size(); ++k) w[k] = std::sin(1.0 + k);
  auto loss = [&](const double* x) {
    std::vector<double> Y(sh.size());
    sh.evaluate(x, Y.data());
    double s = 0;
    for (int k = 0; k < sh.size(); ++k) s += w[k] * Y[k];
    return s;
  };
  std::vector<double> Y(sh.size());
  sh.evaluate(u, Y.data());
  double g[3] = {0, 0, 0};
  sh.backward(u, Y.data(), w.data(), g);
  for (int a = 0; a < 3; ++a) {
    double up[3] = {u[0], u[1], u[2]}, dn[3] = {u[0], u[1], u[2]};
    up[a] += 1e-6;
    dn[a] -= 1e-6;
    EXPECT_NEAR(g[a], (loss(up) - loss(dn)) / 2e-6, 1e-7);
  }
}
