// Deployed SevenNet models (.pt), read without LibTorch: the same model as the
// checkpoint (the same native file, byte for byte), the references
// reproduced from the .pt alone, and the architectures beyond the shared
// references (tests/data/deployed: the variant checkpoints deployed by
// sevenn 0.13, whose freezing folded some normalisations into the weights).
#include <gtest/gtest.h>

#include <cmath>

#include "engine.hpp"
#include "io/checkpoint.hpp"
#include "io/deployed.hpp"
#include "io/deployed_canonical.hpp"
#include "io/lammps_data.hpp"
#include "io/native.hpp"
#include "model_build.hpp"
#include "model_file.hpp"
#include "neighbor.hpp"
#include "reference.hpp"
#include "test_deployed_files.hpp"

namespace {

using flashtp::test::deviation;
using flashtp::test::reference_path;
using flashtp::test::references;

const std::string kDeployed = std::string(FLASHTP_SOURCE_DIR) + "/tests/data/deployed/";
const std::string kVariants = std::string(FLASHTP_SOURCE_DIR) + "/tests/data/variants/";

// ---- the same model as the checkpoint ---------------------------------------

class SameAsCheckpoint : public ::testing::TestWithParam<std::string> {};

TEST_P(SameAsCheckpoint, CanonicalSourcesAndNativeFilesAreIdentical) {
  const std::string name = GetParam();
  const auto pt = flashtp::io::canonical_source(flashtp::io::read_deployed(reference_path("models/" + name + ".pt")));
  const auto pth =
      flashtp::io::canonical_source(flashtp::io::read_checkpoint(reference_path("models/" + name + ".pth")));
  EXPECT_EQ(pt.config, pth.config) << pt.config.dump() << "\n" << pth.config.dump();
  EXPECT_EQ(pt.version, pth.version);
  ASSERT_EQ(pt.weights.size(), pth.weights.size());
  for (const auto& [tensor, t] : pth.weights) {
    ASSERT_TRUE(pt.weights.count(tensor)) << tensor;
    const auto& d = pt.weights.at(tensor);
    EXPECT_EQ(d.shape, t.shape) << tensor;
    EXPECT_EQ(d.dtype, t.dtype) << tensor;
    EXPECT_EQ(d.values, t.values) << tensor;  // both hold the same float32 numbers
  }
  const std::string dir = flashtp::test::temp_dir("same_" + name);
  flashtp::io::write_native(dir + "/from_pt.native", pt);
  flashtp::io::write_native(dir + "/from_pth.native", pth);
  EXPECT_EQ(flashtp::test::read_file(dir + "/from_pt.native"), flashtp::test::read_file(dir + "/from_pth.native"));
}

INSTANTIATE_TEST_SUITE_P(Models, SameAsCheckpoint, ::testing::Values("tiny_parity", "sevennet0_arch", "l3i5_arch"));

TEST(Deployed, DispatchedByContent) {
  EXPECT_EQ(flashtp::read_model_source(reference_path("models/tiny_parity.pt")).origin, "deployed");
  EXPECT_EQ(flashtp::read_model_source(reference_path("models/tiny_parity.pth")).origin, "checkpoint");
  EXPECT_TRUE(flashtp::io::is_deployed_file(reference_path("models/tiny_parity.pt")));
  EXPECT_FALSE(flashtp::io::is_deployed_file(reference_path("models/tiny_parity.pth")));
}

// ---- the legacy example (SevenNet 0.8.6) --------------------------------------

TEST(Deployed, LegacyExampleArchitecture) {
  const auto s = flashtp::io::read_deployed(reference_path("models/upstream_example_hfo2.pt"));
  EXPECT_EQ(s.version, "0.8.6");  // before 0.11: convolution paths in their unsorted order
  EXPECT_EQ(s.config["_type_map"], nlohmann::json({{"72", 0}, {"8", 1}}));  // Hf O, as the file lists them
  EXPECT_EQ(s.config["_normalize_sph"], false);
  EXPECT_EQ(s.config["optimize_by_reduce"], false);
  EXPECT_EQ(s.config["is_parity"], true);
  EXPECT_EQ(s.config["channel"], 4);
  EXPECT_EQ(s.config["lmax"], 1);
  EXPECT_EQ(s.config["num_convolution_layer"], 4);
  EXPECT_EQ(s.config["self_connection_type"], "nequip");
  // Freezing folded 1/sqrt(fan_in) into the radial weights: divided back out, kept in float64.
  EXPECT_EQ(s.weights.at("0_convolution.weight_nn.layer0.weight").dtype, "float64");
  EXPECT_EQ(s.weights.at("0_self_interaction_1.linear.weight").dtype, "float32");
}

// ---- the shipped models ------------------------------------------------------------

// potentials/*.flashtp hold exactly what their sources convert to.
TEST(Potentials, HoldTheirSources) {
  for (const auto& [file, source] : std::map<std::string, std::string>{
           {"hfo2_sevennet_example.flashtp", "upstream_example_hfo2.pt"}, {"tiny_parity.flashtp", "tiny_parity.pt"}}) {
    const auto shipped = flashtp::io::read_native(std::string(FLASHTP_SOURCE_DIR) + "/potentials/" + file);
    const auto converted = flashtp::io::canonical_source(flashtp::io::read_deployed(reference_path("models/" + source)));
    EXPECT_EQ(shipped.config, converted.config) << file;
    EXPECT_EQ(shipped.version, converted.version) << file;
    ASSERT_EQ(shipped.weights.size(), converted.weights.size()) << file;
    for (const auto& [name, t] : converted.weights) {
      EXPECT_EQ(shipped.weights.at(name).values, t.values) << file << " " << name;
      EXPECT_EQ(shipped.weights.at(name).dtype, t.dtype) << file << " " << name;
    }
  }
}

// ---- references from the .pt alone --------------------------------------------

struct Case {
  std::string model, structure;
};

std::vector<Case> deployed_cases() {
  std::vector<Case> out;
  for (const auto& c : references()["cases"]) out.push_back({c["model"], c["structure"]});
  return out;
}

const flashtp::Model& deployed_model(const std::string& name) {
  static std::map<std::string, flashtp::Model> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, flashtp::load_model(reference_path("models/" + name + ".pt"))).first;
  return it->second;
}

flashtp::Graph graph_of(const flashtp::Model& model, const std::string& structure) {
  const auto& s = references()["structures"][structure];
  std::array<bool, 3> pbc{};
  for (int a = 0; a < 3; ++a) pbc[a] = s["pbc"][a].get<bool>();
  const auto atoms = flashtp::io::read_lammps_data(reference_path(references()["structure_files"][structure]), pbc);
  std::vector<int> species;
  for (int type : atoms.types) species.push_back(model.species_index(references()["lammps_type_order"][type - 1]));
  return flashtp::build_graph(atoms, species, model.cutoff());
}

const nlohmann::json& reference_of(const Case& c, const std::string& precision) {
  for (const auto& x : references()["cases"])
    if (x["model"] == c.model && x["structure"] == c.structure && x.contains(precision)) return x[precision];
  // references.json has the legacy example in float32 only; its float64
  // results come from LibTorch running the .pt cast to float64.
  static const nlohmann::json legacy =
      nlohmann::json::parse(std::ifstream(kDeployed + "upstream_example_hfo2_float64.json"));
  if (c.model == "upstream_example_hfo2" && precision == "float64") return legacy["cases"].at(c.structure);
  throw std::runtime_error("no " + precision + " reference for " + c.model + "/" + c.structure);
}

class DeployedReference : public ::testing::TestWithParam<Case> {};

TEST_P(DeployedReference, Float64) {
  const auto& model = deployed_model(GetParam().model);
  const auto r = flashtp::make_cpu_engine(model, flashtp::Precision::float64)->compute(graph_of(model, GetParam().structure));
  const auto d = deviation(r, reference_of(GetParam(), "float64"));
  EXPECT_LE(d.energy_per_atom, 1e-9);
  EXPECT_LE(d.force, 1e-8);
  EXPECT_LE(d.virial, 1e-8 * std::max(1.0, static_cast<double>(r.atomic_energy.size()) / 96));  // extensive
}

TEST_P(DeployedReference, Float32) {
  const auto& model = deployed_model(GetParam().model);
  const auto r = flashtp::make_cpu_engine(model, flashtp::Precision::float32)->compute(graph_of(model, GetParam().structure));
  const auto d = deviation(r, reference_of(GetParam(), "float32"));
  EXPECT_LE(d.energy_per_atom, 1e-5);
  EXPECT_LE(d.force, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(AllCases, DeployedReference, ::testing::ValuesIn(deployed_cases()),
                         [](const auto& info) { return info.param.model + "_" + info.param.structure; });

// ---- architectures beyond the references ----------------------------------------

// Each variant's .pt gives the model its .pth gives: the weights freezing left
// alone are identical, the folded ones equal to float32 rounding, so the two
// agree to ~1e-7 relative, and both match the upstream float64 results.
TEST(DeployedVariants, SameModelAsCheckpoint) {
  const auto refs = nlohmann::json::parse(std::ifstream(kVariants + "references.json"));
  int checked = 0;
  for (const auto& [name, cases] : refs["cases"].items()) {
    const auto from_pt = flashtp::load_model(kDeployed + name + ".pt");
    const auto from_pth = flashtp::load_model(kVariants + name + ".pth");
    ASSERT_EQ(from_pt.species, from_pth.species) << name;
    auto pt = flashtp::make_cpu_engine(from_pt, flashtp::Precision::float64);
    auto pth = flashtp::make_cpu_engine(from_pth, flashtp::Precision::float64);
    for (const auto& [structure, ref] : cases.items()) {
      std::vector<int> species;
      const auto atoms = flashtp::test::reference_structure(references()["structures"][structure], from_pt, species);
      const auto graph = flashtp::build_graph(atoms, species, from_pt.cutoff());
      const auto a = pt->compute(graph), b = pth->compute(graph);
      const double n = static_cast<double>(a.atomic_energy.size());
      EXPECT_LE(std::abs(a.energy - b.energy) / n, 1e-6 * std::max(1.0, std::abs(b.energy) / n)) << name << "/" << structure;
      EXPECT_LE(std::abs(a.energy - ref["energy"].get<double>()) / n, 1e-6) << name << "/" << structure;
      for (size_t i = 0; i < a.forces.size(); ++i)
        for (int k = 0; k < 3; ++k) EXPECT_NEAR(a.forces[i][k], b.forces[i][k], 1e-5) << name << "/" << structure;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 16);
}

}  // namespace
