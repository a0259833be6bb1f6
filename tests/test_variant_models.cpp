// Architectures beyond the shared references (lmax 3 and 4, parity on and off,
// biases, 'linear' and per-layer self-connections, XPLOR, readout MLP, manual
// irreps with odd scalars, global shift/scale, lmax_node < lmax, ssp/tanh/abs
// activations): SevenNet checkpoints and upstream float64 results written by
// scripts/make_variant_models.py. The engine reproduces them to float64 rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iostream>

#include "engine.hpp"
#include "model_file.hpp"
#include "neighbor.hpp"
#include "reference.hpp"

namespace {

using flashtp::test::relative_deviation;

const std::string kVariants = std::string(FLASHTP_SOURCE_DIR) + "/tests/data/variants/";

const nlohmann::json& variant_references() {
  static const nlohmann::json refs = nlohmann::json::parse(std::ifstream(kVariants + "references.json"));
  return refs;
}

TEST(VariantModels, MatchUpstreamFloat64) {
  int checked = 0;
  for (const auto& [name, cases] : variant_references()["cases"].items()) {
    const auto model = flashtp::load_model(kVariants + name + ".pth");
    auto engine = flashtp::make_cpu_engine(model, flashtp::Precision::float64);
    for (const auto& [structure, ref] : cases.items()) {
      std::vector<int> species;
      const auto atoms = flashtp::test::reference_structure(flashtp::test::references()["structures"][structure], model, species);
      const auto graph = flashtp::build_graph(atoms, species, model.cutoff());
      ASSERT_EQ(graph.num_edges(), ref["num_edges"].get<int64_t>()) << name << "/" << structure;
      const auto r = engine->compute(graph);
      const auto d = relative_deviation(r, ref);
      std::cout << "  " << name << "/" << structure << ": energy " << d[0] << ", forces " << d[1] << ", virial " << d[2]
                << " (relative)\n";
      EXPECT_LE(d[0], 1e-12) << name << "/" << structure;
      EXPECT_LE(d[1], 1e-12) << name << "/" << structure;
      EXPECT_LE(d[2], 1e-12) << name << "/" << structure;
      for (size_t i = 0; i < r.atomic_energy.size(); ++i)
        EXPECT_NEAR(r.atomic_energy[i], ref["atomic_energy"][i].get<double>(), 1e-12 * std::abs(ref["energy"].get<double>()))
            << name << "/" << structure << " atom " << i;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 16);
}

}  // namespace
