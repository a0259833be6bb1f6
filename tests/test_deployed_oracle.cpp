// Where tests/data/deployed/upstream_example_hfo2_float64.json comes from:
// LibTorch running the legacy example's .pt cast to float64. With LibTorch
// built in, recompute it and compare, so the stored numbers stay reproducible.
#include <gtest/gtest.h>

#ifdef FLASHTP_HAVE_TORCH
#include <cmath>

#include "io/lammps_data.hpp"
#include "neighbor.hpp"
#include "reference.hpp"
#include "torch/torchscript_model.hpp"

namespace {

using flashtp::test::reference_path;
using flashtp::test::references;

TEST(DeployedOracle, LegacyFloat64ReferencesAreLibTorchs) {
  const flashtp::TorchScriptModel model(reference_path("models/upstream_example_hfo2.pt"));
  const auto stored = nlohmann::json::parse(
      std::ifstream(std::string(FLASHTP_SOURCE_DIR) + "/tests/data/deployed/upstream_example_hfo2_float64.json"));
  ASSERT_EQ(stored["cases"].size(), 3u);
  for (const auto& [structure, ref] : stored["cases"].items()) {
    const auto& s = references()["structures"][structure];
    std::array<bool, 3> pbc{};
    for (int a = 0; a < 3; ++a) pbc[a] = s["pbc"][a].get<bool>();
    const auto atoms = flashtp::io::read_lammps_data(reference_path(references()["structure_files"][structure]), pbc);
    std::vector<int> species;
    for (int type : atoms.types) species.push_back(model.species_index(references()["lammps_type_order"][type - 1]));
    const auto r = model.evaluate(flashtp::build_graph(atoms, species, model.cutoff()), c10::kDouble);
    EXPECT_NEAR(r.energy, ref["energy"].get<double>(), 1e-10 * std::abs(r.energy)) << structure;
    for (size_t i = 0; i < r.atomic_energy.size(); ++i)
      for (int a = 0; a < 3; ++a) EXPECT_NEAR(r.forces[i][a], ref["forces"][i][a].get<double>(), 1e-10) << structure;
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(r.virial[k], ref["virial"][k].get<double>(), 1e-9) << structure;
  }
}

}  // namespace
#endif
