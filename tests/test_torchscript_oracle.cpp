// The deployed TorchScript models, run through LibTorch as pair_e3gnn runs
// them, reproduce upstream SevenNet's reference numbers: the oracle is sound.
#ifdef FLASHTP_HAVE_TORCH
#include <gtest/gtest.h>
#include <torch/script.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "elements.hpp"
#include "error.hpp"
#include "neighbor.hpp"
#include "reference.hpp"
#include "torch/torchscript_model.hpp"

namespace {

using flashtp::TorchScriptModel;
using flashtp::test::Deviation;
using flashtp::test::deviation;
using flashtp::test::reference_path;
using flashtp::test::references;

struct Case {
  std::string model, structure;
  std::string label() const { return model + "/" + structure; }
};
void PrintTo(const Case& k, std::ostream* os) { *os << k.label(); }

std::vector<Case> deployed_cases(const char* precision) {
  std::vector<Case> out;
  for (const auto& c : references()["cases"])
    if (references()["models"][c["model"].get<std::string>()].contains("file") && c.contains(precision))
      out.push_back({c["model"], c["structure"]});
  return out;
}

const nlohmann::json& find_case(const Case& k) {
  for (const auto& c : references()["cases"])
    if (c["model"] == k.model && c["structure"] == k.structure) return c;
  throw std::runtime_error("no case " + k.label());
}

const TorchScriptModel& model_named(const std::string& name) {
  static std::map<std::string, TorchScriptModel> cache;
  auto it = cache.find(name);
  if (it == cache.end())
    it = cache.emplace(name, TorchScriptModel(reference_path(references()["models"][name]["file"]))).first;
  return it->second;
}

// A structure of references.json; its species are element symbols or atomic numbers.
flashtp::Graph graph_for(const TorchScriptModel& model, const std::string& structure) {
  const auto& s = references()["structures"][structure];
  flashtp::Structure atoms;
  std::vector<int> species;
  for (int a = 0; a < 3; ++a) {
    atoms.pbc[a] = s["pbc"][a].get<bool>();
    for (int b = 0; b < 3; ++b) atoms.cell[a][b] = s["cell"][a][b].get<double>();
  }
  for (size_t k = 0; k < s["positions"].size(); ++k) {
    const auto& p = s["positions"][k];
    atoms.positions.push_back({p[0].get<double>(), p[1].get<double>(), p[2].get<double>()});
    atoms.types.push_back(1);
    atoms.tags.push_back(static_cast<int64_t>(k) + 1);
    const auto& e = s["species"][k];
    species.push_back(model.species_index(e.is_number() ? flashtp::element_symbol(e.get<int>()) : e.get<std::string>()));
    if (species.back() < 0) throw std::runtime_error(structure + ": an element the model lacks");
  }
  return flashtp::build_graph(atoms, species, model.cutoff());
}

void report(const std::string& what, const Deviation& d) {
  std::cout << "[ deviation] " << what << ": energy/atom " << d.energy_per_atom << ", atomic energy "
            << d.atomic_energy << ", force " << d.force << ", virial/atom " << d.virial_per_atom() << "\n";
}

// The SevenNet-0 and l3i5 architectures on 768 atoms take minutes each in
// LibTorch with Debian's reference BLAS: they run with FLASHTP_SLOW_TESTS=1.
bool slow(const Case& k) {
  const std::string file = references()["models"][k.model]["file"];
  return find_case(k)["float32"]["num_edges"].get<int64_t>() > 10000 &&
         std::filesystem::file_size(reference_path(file)) > 1000000 && std::getenv("FLASHTP_SLOW_TESTS") == nullptr;
}

class TorchScriptFloat32 : public ::testing::TestWithParam<Case> {};
class TorchScriptFloat64 : public ::testing::TestWithParam<Case> {};

TEST_P(TorchScriptFloat32, FileMatchesUpstreamFloat32) {
  if (slow(GetParam())) GTEST_SKIP() << "slow in LibTorch on the CPU: set FLASHTP_SLOW_TESTS=1";
  const auto& model = model_named(GetParam().model);
  const auto graph = graph_for(model, GetParam().structure);
  const auto& ref = find_case(GetParam())["float32"];
  ASSERT_EQ(graph.num_edges(), ref["num_edges"].get<int64_t>());
  const auto d = deviation(model.evaluate(graph), ref);
  report(GetParam().label() + " float32", d);
  // A few float32 ulps of energies up to ~30 eV per atom.
  EXPECT_LE(d.energy_per_atom, 5e-6);
  EXPECT_LE(d.atomic_energy, 1e-5);
  // The legacy reference ran from float32 positions and cell shifts, whose
  // rounding (~1e-6 A) shows in its forces; current models get the vectors.
  EXPECT_LE(d.force, model.is_legacy() ? 1e-4 : 1e-6);
  EXPECT_LE(d.virial_per_atom(), model.is_legacy() ? 1e-5 : 1e-6);
}

TEST_P(TorchScriptFloat64, CastModelMatchesUpstreamFloat64) {
  if (slow(GetParam())) GTEST_SKIP() << "slow in LibTorch on the CPU: set FLASHTP_SLOW_TESTS=1";
  const auto& model = model_named(GetParam().model);
  const auto graph = graph_for(model, GetParam().structure);
  const auto& ref = find_case(GetParam())["float64"];
  const auto d = deviation(model.evaluate(graph, torch::kFloat64), ref);
  report(GetParam().label() + " float64", d);
  EXPECT_LE(d.energy_per_atom, 1e-12);
  EXPECT_LE(d.atomic_energy, 1e-12);
  EXPECT_LE(d.force, 1e-12);
  EXPECT_LE(d.virial_per_atom(), 1e-12);
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return info.param.model + "_" + info.param.structure;
}
INSTANTIATE_TEST_SUITE_P(Deployed, TorchScriptFloat32, ::testing::ValuesIn(deployed_cases("float32")), case_name);
INSTANTIATE_TEST_SUITE_P(Deployed, TorchScriptFloat64, ::testing::ValuesIn(deployed_cases("float64")), case_name);

const std::string kTiny = "tiny_parity", kLegacy = "upstream_example_hfo2";

TEST(TorchScriptModel, ReadsMetadata) {
  const auto& tiny = model_named(kTiny);
  EXPECT_EQ(tiny.species(), (std::vector<std::string>{"O", "Zr", "Hf"}));
  EXPECT_EQ(tiny.species_index("Hf"), 2);
  EXPECT_EQ(tiny.species_index("Si"), -1);
  EXPECT_DOUBLE_EQ(tiny.cutoff(), 4.0);
  EXPECT_EQ(tiny.dtype(), torch::kFloat32);
  EXPECT_FALSE(tiny.is_legacy());
  EXPECT_EQ(tiny.metadata().at("version"), "0.12.2");
  EXPECT_EQ(tiny.metadata().at("oeq"), "no");

  const auto& legacy = model_named(kLegacy);
  EXPECT_EQ(legacy.species(), (std::vector<std::string>{"Hf", "O"}));
  EXPECT_TRUE(legacy.is_legacy());
  EXPECT_EQ(legacy.metadata().at("version"), "0.8.6");
  EXPECT_EQ(legacy.metadata().count("flashTP"), 0u);
}

// No float64 reference exists for the legacy model: its cast must still agree
// with the float32 reference to float32 noise, and it reports no per-atom virial.
TEST(TorchScriptModel, LegacyCastToFloat64AgreesWithFloat32) {
  const Case k{kLegacy, "hfo2_96"};
  const auto& model = model_named(k.model);
  const auto result = model.evaluate(graph_for(model, k.structure), torch::kFloat64);
  const auto d = deviation(result, find_case(k)["float32"]);
  report(k.label() + " float64 cast vs float32", d);
  EXPECT_LE(d.energy_per_atom, 1e-5);
  EXPECT_LE(d.force, 1e-4);
  EXPECT_LE(d.virial_per_atom(), 1e-5);
  EXPECT_TRUE(result.atomic_virial.empty());
}

// A graph without a single edge: the lone atom's energy is that of the atom
// without neighbours in the "isolated" reference; the legacy model runs too.
TEST(TorchScriptModel, GraphWithoutEdges) {
  const auto& model = model_named(kTiny);
  const auto isolated = graph_for(model, "isolated");
  int lone = 0;
  while (lone < isolated.num_local && isolated.centre_start[lone + 1] > isolated.centre_start[lone]) ++lone;
  ASSERT_LT(lone, isolated.num_local);
  flashtp::Graph single;
  single.num_local = single.num_nodes = 1;
  single.species = {isolated.species[lone]};
  single.centre_start = {0, 0};
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    const auto r = model.evaluate(single, dtype);
    const auto& ref = find_case({kTiny, "isolated"})[dtype == torch::kFloat32 ? "float32" : "float64"];
    EXPECT_NEAR(r.energy, ref["atomic_energy"][lone].get<double>(), 1e-6);
    EXPECT_EQ(r.forces, std::vector<flashtp::Vec3>(1));
    EXPECT_EQ(r.virial, flashtp::Virial{});
  }
  const auto r = model_named(kLegacy).evaluate(single);
  EXPECT_TRUE(std::isfinite(r.energy));
  EXPECT_EQ(r.forces, std::vector<flashtp::Vec3>(1));
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const flashtp::Error& e) {
    return e.what();
  }
  return "no flashtp::Error";
}

TEST(TorchScriptModel, ClearErrors) {
  EXPECT_NE(error_of([] { TorchScriptModel("/nonexistent/model.pt"); }).find("not found: /nonexistent/model.pt"),
            std::string::npos);
  EXPECT_NE(error_of([] { TorchScriptModel(reference_path("models/tiny_parity.pth")); })
                .find("is not a deployed TorchScript model"),
            std::string::npos);

  // The same model saved without its 'cutoff'.
  const auto path = (std::filesystem::temp_directory_path() / "flashtp_no_cutoff.pt").string();
  torch::jit::ExtraFilesMap extra_files(model_named(kTiny).metadata().begin(), model_named(kTiny).metadata().end());
  extra_files.erase("cutoff");
  torch::jit::load(reference_path("models/tiny_parity.pt")).save(path, extra_files);
  EXPECT_NE(error_of([&] { TorchScriptModel{path}; }).find("metadata 'cutoff' is missing"), std::string::npos);
  std::filesystem::remove(path);

  auto graph = graph_for(model_named(kTiny), "cluster_20");
  graph.species[3] = 7;
  EXPECT_NE(error_of([&] { model_named(kTiny).evaluate(graph); }).find("atom 3 has species index 7"),
            std::string::npos);
  graph.species[3] = 0;
  graph.num_nodes += 1;
  EXPECT_NE(error_of([&] { model_named(kTiny).evaluate(graph); }).find("without ghost nodes"), std::string::npos);
}

}  // namespace
#endif  // FLASHTP_HAVE_TORCH
