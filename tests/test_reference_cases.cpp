// The engine reproduces upstream SevenNet on every reference case.
#include <gtest/gtest.h>

#include <cmath>

#include "engine.hpp"
#include "io/lammps_data.hpp"
#include "model_file.hpp"
#include "neighbor.hpp"
#include "reference.hpp"

namespace {

using flashtp::test::deviation;
using flashtp::test::reference_path;
using flashtp::test::references;

struct Case {
  std::string model, structure;
  std::string label() const { return model + "/" + structure; }
};

std::vector<Case> checkpoint_cases() {
  std::vector<Case> out;
  for (const auto& c : references()["cases"]) {
    const std::string m = c["model"];
    if (references()["models"][m].contains("checkpoint")) out.push_back({m, c["structure"]});
  }
  return out;
}

const nlohmann::json& find_case(const Case& k) {
  for (const auto& c : references()["cases"])
    if (c["model"] == k.model && c["structure"] == k.structure) return c;
  throw std::runtime_error("no case " + k.label());
}

const flashtp::Model& model_named(const std::string& name) {
  static std::map<std::string, flashtp::Model> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    const std::string file = references()["models"][name]["checkpoint"];
    it = cache.emplace(name, flashtp::load_model(reference_path(file))).first;
  }
  return it->second;
}

flashtp::Graph graph_for(const flashtp::Model& model, const std::string& structure) {
  const auto& s = references()["structures"][structure];
  std::array<bool, 3> pbc{};
  for (int a = 0; a < 3; ++a) pbc[a] = s["pbc"][a].get<bool>();
  auto atoms = flashtp::io::read_lammps_data(reference_path(references()["structure_files"][structure]), pbc);
  std::vector<int> species;
  for (int type : atoms.types) {
    const std::string element = references()["lammps_type_order"][type - 1];
    species.push_back(model.species_index(element));
  }
  return flashtp::build_graph(atoms, species, model.cutoff());
}

class ReferenceCase : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceCase, Float64MatchesUpstreamFloat64) {
  const auto& model = model_named(GetParam().model);
  const auto graph = graph_for(model, GetParam().structure);
  const auto& ref = find_case(GetParam())["float64"];
  ASSERT_EQ(graph.num_edges(), ref["num_edges"].get<int64_t>());
  const auto result = flashtp::make_cpu_engine(model, flashtp::Precision::float64)->compute(graph);
  const auto d = deviation(result, ref);
  EXPECT_LE(d.energy_per_atom, 1e-9);
  EXPECT_LE(d.atomic_energy, 1e-9);
  EXPECT_LE(d.force, 1e-8);
  EXPECT_LE(d.virial, 1e-8);
}

TEST_P(ReferenceCase, Float32MatchesUpstreamFloat32) {
  const auto& model = model_named(GetParam().model);
  const auto graph = graph_for(model, GetParam().structure);
  const auto& ref = find_case(GetParam())["float32"];
  const auto result = flashtp::make_cpu_engine(model, flashtp::Precision::float32)->compute(graph);
  const auto d = deviation(result, ref);
  EXPECT_LE(d.energy_per_atom, 1e-5);
  EXPECT_LE(d.force, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(AllCheckpoints, ReferenceCase, ::testing::ValuesIn(checkpoint_cases()),
                         [](const auto& info) { return info.param.model + "_" + info.param.structure; });

}  // namespace
