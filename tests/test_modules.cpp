// Stage by stage against upstream: the output of every top-level SevenNet
// module for tiny_parity on bulk_rand_40 (intermediates_tiny_parity.json),
// so a mismatch names the module it starts in.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "cpu/edge_embedding.hpp"
#include "cpu/module_trace.hpp"
#include "model_file.hpp"
#include "neighbor.hpp"
#include "reference.hpp"

namespace {

using flashtp::test::load_json;
using flashtp::test::nan_max;
using flashtp::test::reference_path;
using flashtp::test::references;

const nlohmann::json& intermediates() { return load_json("intermediates_tiny_parity.json"); }

const flashtp::Model& model() {
  static const flashtp::Model m = flashtp::load_model(reference_path("models/tiny_parity.pth"));
  return m;
}

flashtp::Graph graph() {
  std::vector<int> species;
  const auto s = flashtp::test::reference_structure(references()["structures"]["bulk_rand_40"], model(), species);
  return flashtp::build_graph(s, species, model().cutoff());
}

std::vector<double> flat(const nlohmann::json& rows) {
  std::vector<double> out;
  for (const auto& row : rows) {
    if (row.is_array())
      for (const auto& v : row) out.push_back(v.get<double>());
    else
      out.push_back(row.get<double>());
  }
  return out;
}

// max |ours - theirs| over max(1, max |theirs|).
double relative_deviation(const std::vector<double>& ours, const std::vector<double>& theirs) {
  double diff = 0, scale = 1;
  for (size_t k = 0; k < theirs.size(); ++k) {
    diff = nan_max(diff, std::abs(ours[k] - theirs[k]));
    scale = std::max(scale, std::abs(theirs[k]));
  }
  return diff / scale;
}

TEST(Modules, NodeFeaturesAfterEveryModuleMatchUpstream) {
  ASSERT_EQ(intermediates()["structure"], "bulk_rand_40");
  const auto ours = flashtp::trace_modules(model(), graph());
  int checked = 0;
  for (const auto& stage : intermediates()["layers"]) {
    const std::string module = stage["module"];
    // The one-hot and the self-connection intro leave x as it was; the
    // readout's stages are named by what they add.
    for (const char* key : {"x", "scaled_atomic_energy", "atomic_energy"}) {
      // each energy key is checked where it first appears
      if (!stage.contains(key) || (std::string(key) == "scaled_atomic_energy" && module != "reduce_hidden_to_energy") ||
          (std::string(key) == "atomic_energy" && module != "rescale_atomic_energy"))
        continue;
      std::string name = std::string(key) == "x" ? module : key;
      if (module == "onehot_idx_to_onehot" || module.find("self_connection_intro") != std::string::npos ||
          (std::string(key) == "x" && (module == "reduce_hidden_to_energy" || module == "rescale_atomic_energy" ||
                                       module == "reduce_total_enegy")))
        continue;
      SCOPED_TRACE(module + " " + key);
      auto it = ours.find(name);
      ASSERT_NE(it, ours.end()) << "the engine does not record " << name;
      const auto theirs = flat(stage[key]);
      ASSERT_EQ(it->second.size(), theirs.size());
      const double d = relative_deviation(it->second, theirs);
      std::cout << "[module] " << name << ": max relative deviation " << d << "\n";
      EXPECT_LE(d, 1e-12);  // the file holds 12 decimals
      ++checked;
    }
  }
  EXPECT_EQ(checked, 14);  // the embedding, 5 per layer, the hidden readout, scaled and atomic energies
}

// The edge embedding and spherical harmonics depend on the edge vector alone.
// Upstream's edges come in another order: each is matched to one of the
// engine's graph by its vector, recovered from |r| and the l = 1 harmonics
// (sqrt(3) (x, y, z) / |r| in e3nn's spherical_harmonics).
TEST(Modules, EdgeEmbeddingAndHarmonicsMatchUpstream) {
  const auto& stage = intermediates()["layers"][0];
  ASSERT_EQ(stage["module"], "edge_embedding");
  const auto g = graph();
  ASSERT_EQ(stage["edge_length"].size(), size_t(g.num_edges()));
  flashtp::cpu::EdgeEmbedding<double> embedding(model());
  std::vector<std::array<double, 3>> vecs(g.vec.begin(), g.vec.end());
  std::sort(vecs.begin(), vecs.end());

  double worst_vec = 0, worst_emb = 0, worst_sh = 0;
  for (size_t e = 0; e < stage["edge_length"].size(); ++e) {
    const double r = stage["edge_length"][e].get<double>();
    const auto& sh = stage["edge_attr"][e];
    const double s3 = std::sqrt(3.0);
    const std::array<double, 3> v{r * sh[1].get<double>() / s3, r * sh[2].get<double>() / s3,
                                  r * sh[3].get<double>() / s3};
    auto nearest = std::lower_bound(vecs.begin(), vecs.end(), std::array<double, 3>{v[0] - 1e-6, -1e300, -1e300});
    double best = 1e300;
    for (auto it = nearest; it != vecs.end() && (*it)[0] < v[0] + 1e-6; ++it)
      best = std::min(best, std::hypot((*it)[0] - v[0], (*it)[1] - v[1], (*it)[2] - v[2]));
    worst_vec = std::max(worst_vec, best);

    std::vector<double> emb(embedding.num_basis()), Y(embedding.sh_size());
    embedding.forward(v.data(), emb.data(), Y.data());
    worst_emb = std::max(worst_emb, relative_deviation(emb, flat(stage["edge_embedding"][e])));
    worst_sh = std::max(worst_sh, relative_deviation(Y, flat(sh)));
  }
  std::cout << "[module] edges: vector match " << worst_vec << " A, embedding " << worst_emb << ", harmonics "
            << worst_sh << "\n";
  // The file holds 12 decimals: the recovered vectors, and what is
  // computed from them, carry that rounding.
  EXPECT_LE(worst_vec, 1e-10);  // every upstream edge is one of ours
  EXPECT_LE(worst_emb, 1e-10);
  EXPECT_LE(worst_sh, 1e-10);
}

}  // namespace
