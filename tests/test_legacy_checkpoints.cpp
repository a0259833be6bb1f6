// Checkpoints of SevenNet 0.9.x (tests/data/legacy): written, and evaluated in
// float64, by the old SevenNet code itself (scripts/make_legacy_models.py:
// 0.9.0 and 0.9.1 with e3nn 0.4.4, 0.9.3.post1 with e3nn 0.5.1). The engine
// reproduces those results to float64 rounding, the legacy settings are read
// as such, and files that cannot be read exactly are refused by name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "coupling_signs.hpp"
#include "engine.hpp"
#include "error.hpp"
#include "io/checkpoint.hpp"
#include "io/deployed_canonical.hpp"
#include "io/legacy_checkpoint.hpp"
#include "io/native.hpp"
#include "model_build.hpp"
#include "model_file.hpp"
#include "neighbor.hpp"
#include "reference.hpp"
#include "test_deployed_files.hpp"

namespace {

using flashtp::test::relative_deviation;

using nlohmann::json;

const std::string kLegacy = std::string(FLASHTP_SOURCE_DIR) + "/tests/data/legacy/";

const json& legacy_references() {
  static const json refs = json::parse(std::ifstream(kLegacy + "references.json"));
  return refs;
}

std::vector<std::string> legacy_models() {
  std::vector<std::string> out;
  for (const auto& [name, model] : legacy_references()["models"].items()) out.push_back(name);
  return out;
}

flashtp::Graph graph_of(const flashtp::Model& model, const std::string& structure) {
  std::vector<int> species;
  const auto atoms = flashtp::test::reference_structure(legacy_references()["structures"][structure], model, species);
  return flashtp::build_graph(atoms, species, model.cutoff());
}

// ---- the old SevenNet's own results ---------------------------------------------

class LegacyCheckpoint : public ::testing::TestWithParam<std::string> {};

TEST_P(LegacyCheckpoint, ReproducesOldSevenNetFloat64) {
  const auto model = flashtp::load_model(kLegacy + GetParam() + ".pth");
  auto engine = flashtp::make_cpu_engine(model, flashtp::Precision::float64);
  for (const auto& [structure, ref] : legacy_references()["models"][GetParam()]["cases"].items()) {
    const auto graph = graph_of(model, structure);
    ASSERT_EQ(graph.num_edges(), ref["num_edges"].get<int64_t>()) << structure;
    const auto r = engine->compute(graph);
    const auto d = relative_deviation(r, ref);
    std::cout << "  " << GetParam() << "/" << structure << ": energy " << d[0] << ", forces " << d[1] << ", virial "
              << d[2] << " (relative)\n";
    EXPECT_LE(d[0], 1e-12) << structure;
    EXPECT_LE(d[1], 1e-12) << structure;
    EXPECT_LE(d[2], 1e-12) << structure;
    for (size_t i = 0; i < r.atomic_energy.size(); ++i)
      EXPECT_NEAR(r.atomic_energy[i], ref["atomic_energy"][i].get<double>(), 1e-12 * std::abs(ref["energy"].get<double>()))
          << structure << " atom " << i;
  }
}

// The native file of a legacy checkpoint holds it in today's terms: the same
// model without any legacy reading.
TEST_P(LegacyCheckpoint, NativeFileComputesTheSame) {
  const std::string path = kLegacy + GetParam() + ".pth";
  const std::string native = flashtp::test::temp_dir("legacy_" + GetParam()) + "/model.flashtp";
  flashtp::io::write_native(native, flashtp::io::canonical_source(flashtp::read_model_source(path)));
  const auto original = flashtp::load_model(path), converted = flashtp::load_model(native);
  EXPECT_TRUE(converted.legacy.empty());
  auto a = flashtp::make_cpu_engine(original, flashtp::Precision::float64);
  auto b = flashtp::make_cpu_engine(converted, flashtp::Precision::float64);
  for (const auto& [structure, ref] : legacy_references()["models"][GetParam()]["cases"].items()) {
    const auto graph = graph_of(original, structure);
    const auto x = a->compute(graph), y = b->compute(graph);
    EXPECT_EQ(x.energy, y.energy) << structure;
    EXPECT_EQ(x.forces, y.forces) << structure;
  }
}

// The model as that SevenNet deployed it (sevenn_get_model, .pt) is the same
// model: the architecture and every weight freezing left alone identical, the
// folded ones (normalisations multiplied in) equal to float32 rounding.
TEST_P(LegacyCheckpoint, DeployedByThatSevenNetIsTheSameModel) {
  const auto pt = flashtp::io::canonical_source(flashtp::read_model_source(kLegacy + GetParam() + ".pt"));
  const auto pth = flashtp::io::canonical_source(flashtp::read_model_source(kLegacy + GetParam() + ".pth"));
  EXPECT_EQ(pt.version, pth.version);
  ASSERT_EQ(pt.weights.size(), pth.weights.size());
  for (const auto& [name, t] : pth.weights) {
    ASSERT_TRUE(pt.weights.count(name)) << name;
    const auto& d = pt.weights.at(name);
    ASSERT_EQ(d.shape, t.shape) << name;
    for (size_t k = 0; k < t.values.size(); ++k)
      EXPECT_NEAR(d.values[k], t.values[k], 1e-6 * std::abs(t.values[k])) << name << "[" << k << "]";
  }
  // A deployed file holds only the activations the model uses (no odd
  // scalars, no act_scalar['o']): those are compared on the models.
  auto pt_config = pt.config, pth_config = pth.config;
  for (auto* c : {&pt_config, &pth_config}) c->erase("act_scalar"), c->erase("act_gate");
  EXPECT_EQ(pt_config, pth_config) << pt.config.dump() << "\n" << pth.config.dump();

  const auto a = flashtp::build_model(pt), b = flashtp::build_model(pth);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t t = 0; t < a.layers.size(); ++t) {
    const auto &ga = a.layers[t].gate, &gb = b.layers[t].gate;
    ASSERT_EQ(ga.scalars.size(), gb.scalars.size());
    for (size_t k = 0; k < ga.scalars.size(); ++k) EXPECT_EQ(ga.scalars[k].act.kind, gb.scalars[k].act.kind);
    ASSERT_EQ(ga.gated.size(), gb.gated.size());
    for (size_t k = 0; k < ga.gated.size(); ++k) EXPECT_EQ(ga.gated[k].act.kind, gb.gated[k].act.kind);
  }
  auto ea = flashtp::make_cpu_engine(a, flashtp::Precision::float64);
  auto eb = flashtp::make_cpu_engine(b, flashtp::Precision::float64);
  for (const auto& [structure, ref] : legacy_references()["models"][GetParam()]["cases"].items()) {
    const auto graph = graph_of(b, structure);
    const auto x = ea->compute(graph), y = eb->compute(graph);
    EXPECT_LE(std::abs(x.energy - y.energy), 1e-6 * std::abs(y.energy)) << structure;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, LegacyCheckpoint, ::testing::ValuesIn(legacy_models()));

// ---- the legacy settings, as read ---------------------------------------------

bool has_note(const flashtp::Model& m, const std::string& part) {
  for (const auto& line : m.legacy)
    if (line.find(part) != std::string::npos) return true;
  return false;
}

TEST(LegacySettings, SevenNet090) {
  const auto m = flashtp::load_model(kLegacy + "v090_swapped_acts.pth");
  EXPECT_EQ(m.sevenn_version, "0.9.0");  // from config['version']
  EXPECT_FALSE(m.sh_normalized);
  EXPECT_TRUE(has_note(m, "module names"));
  EXPECT_TRUE(has_note(m, "no conv_denominator"));
  // act_scalar {e: silu, o: tanh}, act_gate {e: ssp, o: abs} in the config;
  // SevenNet 0.9.0 gated with silu and ran the scalars and radial MLP on ssp.
  EXPECT_TRUE(has_note(m, "act_scalar and act_gate swapped"));
  EXPECT_EQ(m.layers[0].conv.radial.act.kind, flashtp::ActivationKind::ssp);
  EXPECT_EQ(m.layers[0].gate.scalars[0].act.kind, flashtp::ActivationKind::ssp);
  EXPECT_EQ(m.layers[0].gate.gated[0].act.kind, flashtp::ActivationKind::silu);
  EXPECT_TRUE(has_note(m, "e3nn < 0.5 coupling signs"));
  EXPECT_EQ(m.layers.back().gate.out.lmax(), 2);  // optimize_by_reduce false: the last layer kept its l > 0
}

TEST(LegacySettings, SevenNet091) {
  const auto xplor = flashtp::load_model(kLegacy + "v091_mace_xplor.pth");
  EXPECT_EQ(xplor.sevenn_version, "0.9.1");
  EXPECT_FALSE(xplor.sh_normalized);
  EXPECT_EQ(xplor.radial.envelope, flashtp::RadialBasis::Envelope::xplor);
  EXPECT_EQ(xplor.radial.xplor_on, xplor.cutoff());  // the swapped arguments: 1 on every edge
  EXPECT_TRUE(has_note(xplor, "XPLOR as SevenNet before 2024-04-11"));
  EXPECT_EQ(xplor.layers[0].self_connection.size(), 1u);  // 'MACE' = 'linear'
  EXPECT_TRUE(has_note(xplor, "'MACE' is today's 'linear'"));
  EXPECT_FALSE(has_note(xplor, "act_scalar and act_gate swapped"));
  EXPECT_EQ(xplor.layers[0].conv.radial.act.kind, flashtp::ActivationKind::ssp);  // act_radial
  EXPECT_EQ(xplor.shift.size(), 3u);  // one shift for all species, repeated
  EXPECT_EQ(xplor.shift[0], xplor.shift[2]);

  const auto l3 = flashtp::load_model(kLegacy + "v091_noparity_l3.pth");
  EXPECT_TRUE(has_note(l3, "sqrt(avg_num_neigh) for training): 3, 3"));  // avg_num_neigh: 9.0 in input.yaml
  EXPECT_EQ(l3.layers[0].conv.denominator, 3.0);
}

TEST(LegacySettings, SevenNet093) {
  const auto m = flashtp::load_model(kLegacy + "v093_parity_l2.pth");
  EXPECT_EQ(m.sevenn_version, "0.9.3.post1");
  EXPECT_TRUE(m.sh_normalized);  // _normalize_sph in the config, true
  EXPECT_EQ(m.legacy, std::vector<std::string>{
                          "convolution paths in their order before SevenNet 0.11 (unsorted): the radial MLP's columns"});
}

// The coupling buffers say which paths e3nn 0.4 computed with -wigner_3j.
TEST(LegacySettings, FlippedCouplingsFromTheBuffers) {
  auto source = flashtp::io::upgrade_legacy_checkpoint(flashtp::io::read_checkpoint(kLegacy + "v091_mace_xplor.pth"));
  const std::string buffer = "1_convolution.convolution._compiled_main_left_right._w3j_1_2_2";
  const std::string radial = "1_convolution.weight_nn.layer2.weight";
  const auto before = source.weights.at(radial).values;
  // wigner_3j(1, 2, 2)[0, 0, 1]: +0.18 in e3nn 0.4, -0.18 since e3nn 0.5
  ASSERT_GT(source.weights.at(buffer).values[1], 0.18);
  flashtp::undo_flipped_couplings(source);
  EXPECT_LT(source.weights.at(buffer).values[1], -0.18);
  const auto& after = source.weights.at(radial).values;
  int negated = 0;
  for (size_t k = 0; k < after.size(); ++k) negated += after[k] == -before[k] && after[k] != 0;
  EXPECT_GT(negated, 0);
  EXPECT_LT(negated, static_cast<int>(after.size()));
  // Once undone, nothing is left to undo.
  auto again = source;
  flashtp::undo_flipped_couplings(again);
  EXPECT_EQ(again.weights.at(radial).values, after);
}

// ---- what cannot be read exactly -------------------------------------------------

template <class F>
void expect_error(F f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no flashtp::Error thrown; expected one mentioning '" << *parts.begin() << "'";
  } catch (const flashtp::Error& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(LegacyErrors, SevenNet08IsRefused) {
  const std::string path = flashtp::test::temp_dir("legacy_08") + "/v086.pth";
  flashtp::test::rewrite_zip(kLegacy + "v091_noparity_l3.pth", path, [](const std::string& name, std::string& bytes) {
    if (name.size() > 9 && name.compare(name.size() - 9, 9, "/data.pkl") == 0) {
      const auto at = bytes.find("0.9.1");
      if (at != std::string::npos) bytes.replace(at, 5, "0.8.6");  // config['version'], same length
    }
    return true;
  });
  expect_error([&] { flashtp::load_model(path); }, {path, "SevenNet 0.8.6", "not supported", "deployed"});
}

TEST(LegacyErrors, CouplingBufferThatIsNoCoupling) {
  auto source = flashtp::io::upgrade_legacy_checkpoint(flashtp::io::read_checkpoint(kLegacy + "v091_mace_xplor.pth"));
  const std::string buffer = "1_convolution.convolution._compiled_main_left_right._w3j_2_2_2";
  source.weights.at(buffer).values[0] += 0.01;
  expect_error([&] { flashtp::undo_flipped_couplings(source); }, {buffer, "neither e3nn's wigner_3j nor its negative"});
}

TEST(LegacyErrors, NoDenominatorAnywhere) {
  auto source = flashtp::io::read_checkpoint(kLegacy + "v090_swapped_acts.pth");
  source.weights.erase("0 convolution.denumerator");
  expect_error([&] { flashtp::io::upgrade_legacy_checkpoint(source); },
               {"no conv_denominator", "no 0_convolution.denominator"});
  source.weights.erase("1 convolution.denumerator");
  source.config["conv_denominator"] = 4.0;  // the tensor is what the model divides by
  expect_error([&] { flashtp::build_model(flashtp::io::upgrade_legacy_checkpoint(source)); },
               {"no tensor '0_convolution.denominator'"});
}

}  // namespace
