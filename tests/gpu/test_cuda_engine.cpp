// The CUDA engine against upstream SevenNet's references and against the CPU
// engine, run to run, with ghost nodes, and its Hessian-vector product against
// finite differences of its forces.
//
// Built twice: against the CUDA library (label gpu; every test skips without a
// device) and against the same kernels on the host emulator (label cpu; small
// cases only, FLASHTP_CUDA_EMULATED), so CI checks the kernels' logic too.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <random>

#include "cuda/cuda_engine.hpp"
#include "cuda_test_support.hpp"
#include "error.hpp"

namespace {

using flashtp::Graph;
using flashtp::Precision;
using flashtp::Result;
using flashtp::Vec3;
using namespace flashtp::test;

#define REQUIRE_DEVICE() \
  if (!flashtp::cuda_device_available()) GTEST_SKIP() << "no CUDA device"

std::vector<CaseId> cases() {
  std::vector<CaseId> out;
  for (const auto& c : checkpoint_cases()) {
#ifdef FLASHTP_CUDA_EMULATED  // one OS thread per CUDA thread: small graphs only
    if (c.structure != "isolated" && (c.model != "tiny_parity" || c.structure == "bulk_rand_40" ||
                                      c.structure.rfind("hfo2", 0) == 0))
      continue;
#endif
    out.push_back(c);
  }
  return out;
}

struct Evaluated {
  Graph graph;
  Result result;
};

// One CUDA evaluation per (case, precision), shared by the tests.
const Evaluated& evaluate(const CaseId& id, Precision precision) {
  static std::map<std::string, Evaluated> cache;
  const std::string key = id.model + "/" + id.structure + (precision == Precision::float64 ? "/64" : "/32");
  auto it = cache.find(key);
  if (it == cache.end()) {
    const auto& model = model_named(id.model);
    Evaluated e{graph_of(model, id.structure), {}};
    e.result = flashtp::make_cuda_engine(model, precision)->compute(e.graph);
    it = cache.emplace(key, std::move(e)).first;
  }
  return it->second;
}

void report(const std::string& what, const CaseId& id, const Deviation& d) {
  std::cout << "[deviation] " << what << " " << id.model << "/" << id.structure << ": |dE|/N " << d.energy_per_atom
            << " eV, max |dE_i| " << d.atomic_energy << " eV, max |dF| " << d.force << " eV/A, max |dW| " << d.virial
            << " eV\n";
}

// The engine refuses `value` of the environment variable `name`, naming it.
void expect_environment_refused(const char* name, const char* value, const flashtp::Model& model) {
  setenv(name, value, 1);
  try {
    flashtp::make_cuda_engine(model, Precision::float32);
    ADD_FAILURE() << "no error for " << name << "=" << value;
  } catch (const flashtp::Error& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
  unsetenv(name);
}

class CudaReferenceCase : public ::testing::TestWithParam<CaseId> {};

TEST_P(CudaReferenceCase, Float64MatchesUpstreamFloat64) {
  REQUIRE_DEVICE();
  const auto& ref = reference_of(GetParam())["float64"];
  const auto& e = evaluate(GetParam(), Precision::float64);
  ASSERT_EQ(e.graph.num_edges(), ref["num_edges"].get<int64_t>());
  const auto d = deviation(e.result, ref);
  report("cuda float64 vs upstream float64", GetParam(), d);
  EXPECT_LE(d.energy_per_atom, 1e-9);
  EXPECT_LE(d.atomic_energy, 1e-9);
  EXPECT_LE(d.force, 1e-8);
  EXPECT_LE(d.virial, 1e-8);
}

TEST_P(CudaReferenceCase, Float32MatchesUpstreamFloat64) {
  REQUIRE_DEVICE();
  const auto& ref = reference_of(GetParam())["float64"];
  const auto d = deviation(evaluate(GetParam(), Precision::float32).result, ref);
  report("cuda float32 vs upstream float64", GetParam(), d);
  EXPECT_LE(d.energy_per_atom, 2e-6);
  EXPECT_LE(d.force, 5e-5);
}

// The first layer through the fused kernels, as for a graph of more species
// than its density takes (FLASHTP_CUDA_DENSITY_SPECIES=0: none), against the
// same references and bounds; a value that is no number of species is refused.
TEST_P(CudaReferenceCase, FusedFirstLayerMatchesUpstream) {
  REQUIRE_DEVICE();
  const auto& model = model_named(GetParam().model);
  const auto& ref = reference_of(GetParam())["float64"];
  for (Precision p : {Precision::float64, Precision::float32}) {
    setenv("FLASHTP_CUDA_DENSITY_SPECIES", "0", 1);
    const auto engine = flashtp::make_cuda_engine(model, p);
    unsetenv("FLASHTP_CUDA_DENSITY_SPECIES");
    const auto d = deviation(engine->compute(evaluate(GetParam(), p).graph), ref);
    const bool f64 = p == Precision::float64;
    report(std::string(f64 ? "cuda float64" : "cuda float32") + ", fused first layer, vs upstream float64",
           GetParam(), d);
    EXPECT_LE(d.energy_per_atom, f64 ? 1e-9 : 2e-6);
    EXPECT_LE(d.force, f64 ? 1e-8 : 5e-5);
    if (f64) EXPECT_LE(d.virial, 1e-8);
  }
  expect_environment_refused("FLASHTP_CUDA_DENSITY_SPECIES", "-1", model);
}

// Same graph through both backends: float64 agrees to summation order,
// float32 to float32 rounding.
TEST_P(CudaReferenceCase, MatchesCpuEngine) {
  REQUIRE_DEVICE();
  const auto& model = model_named(GetParam().model);
  for (Precision p : {Precision::float64, Precision::float32}) {
    const auto& e = evaluate(GetParam(), p);
    const auto cpu = flashtp::make_cpu_engine(model, p)->compute(e.graph);
    const auto d = deviation(e.result, cpu);
    const bool f64 = p == Precision::float64;
    report(f64 ? "cuda vs cpu, float64" : "cuda vs cpu, float32", GetParam(), d);
    const double energy_scale = std::max(1.0, std::abs(cpu.energy) / cpu.atomic_energy.size());
    EXPECT_LE(d.energy_per_atom, (f64 ? 1e-12 : 2e-6) * energy_scale);
    EXPECT_LE(d.force, (f64 ? 1e-11 : 5e-5) * std::max(1.0, force_scale(cpu)));
  }
}

TEST_P(CudaReferenceCase, IdenticalRunToRun) {
  REQUIRE_DEVICE();
  const auto& model = model_named(GetParam().model);
  const auto& first = evaluate(GetParam(), Precision::float32);
  const auto again = flashtp::make_cuda_engine(model, Precision::float32)->compute(first.graph);
  EXPECT_EQ(std::memcmp(&again.energy, &first.result.energy, sizeof(double)), 0);
  ASSERT_EQ(again.forces.size(), first.result.forces.size());
  EXPECT_EQ(std::memcmp(again.forces.data(), first.result.forces.data(), again.forces.size() * sizeof(Vec3)), 0);
  EXPECT_EQ(std::memcmp(again.virial.data(), first.result.virial.data(), sizeof(flashtp::Virial)), 0);
}

// compute(graph, result) into a Result that held a larger graph's (its arrays
// kept, as the pair style keeps them from step to step) gives what a fresh
// Result gets, byte for byte.
TEST(CudaResultInPlace, EqualsAFreshResult) {
  REQUIRE_DEVICE();
  const auto& model = model_named("tiny_parity");
  const Graph larger = graph_of(model, std::string("cluster_20"));
  const Graph smaller = graph_of(model, std::string("tiny_triclinic"));
  ASSERT_GT(larger.num_nodes, smaller.num_nodes);
  auto engine = flashtp::make_cuda_engine(model, Precision::float32);
  flashtp::Result kept;
  engine->compute(larger, kept);
  engine->compute(smaller, kept);
  const auto fresh = flashtp::make_cuda_engine(model, Precision::float32)->compute(smaller);
  EXPECT_EQ(std::memcmp(&kept.energy, &fresh.energy, sizeof(double)), 0);
  ASSERT_EQ(kept.atomic_energy, fresh.atomic_energy);
  ASSERT_EQ(kept.forces.size(), fresh.forces.size());
  EXPECT_EQ(std::memcmp(kept.forces.data(), fresh.forces.data(), kept.forces.size() * sizeof(Vec3)), 0);
  EXPECT_EQ(std::memcmp(kept.virial.data(), fresh.virial.data(), sizeof(flashtp::Virial)), 0);
  ASSERT_EQ(kept.atomic_virial.size(), fresh.atomic_virial.size());
  EXPECT_EQ(std::memcmp(kept.atomic_virial.data(), fresh.atomic_virial.data(),
                        kept.atomic_virial.size() * sizeof(flashtp::Virial)),
            0);
}

INSTANTIATE_TEST_SUITE_P(AllCheckpoints, CudaReferenceCase, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.model + "_" + info.param.structure; });

// SevenNet <= 0.9 models, whose spherical harmonics carry r^l: the HfO2
// example (deployed by SevenNet 0.8.6) against upstream's float32, and the
// 0.9.x checkpoints of tests/data/legacy against the old SevenNet's float64.
TEST(CudaUnnormalisedHarmonics, UpstreamExampleMatchesUpstreamFloat32) {
  REQUIRE_DEVICE();
#ifdef FLASHTP_CUDA_EMULATED
  const std::vector<std::string> structures = {"tiny_triclinic"};
#else
  const std::vector<std::string> structures = {"tiny_triclinic", "hfo2_96", "hfo2_768"};
#endif
  const auto& model = model_named("upstream_example_hfo2");
  ASSERT_FALSE(model.sh_normalized);
  for (const auto& structure : structures) {
    const CaseId id{"upstream_example_hfo2", structure};
    const auto graph = graph_of(model, structure);
    const auto d = deviation(flashtp::make_cuda_engine(model, Precision::float32)->compute(graph),
                             reference_of(id)["float32"]);
    report("cuda float32 vs upstream float32", id, d);
    EXPECT_LE(d.energy_per_atom, 1e-5);
    EXPECT_LE(d.force, 1e-4);
  }
}

TEST(CudaUnnormalisedHarmonics, LegacyCheckpointsMatchOldSevenNetFloat64) {
  REQUIRE_DEVICE();
  const std::string dir = test_data_dir() + "/legacy/";
  const auto refs = nlohmann::json::parse(std::ifstream(dir + "references.json"));
  int unnormalised = 0;
  for (const auto& [name, entry] : refs["models"].items()) {
    const auto model = flashtp::load_model(dir + name + ".pth");
    unnormalised += model.sh_normalized ? 0 : 1;
    auto engine = flashtp::make_cuda_engine(model, Precision::float64);
    for (const auto& [structure, ref] : entry["cases"].items()) {
#ifdef FLASHTP_CUDA_EMULATED
      if (structure == "bulk_rand_40") continue;
#endif
      const auto d = deviation(engine->compute(graph_of(model, refs["structures"][structure])), ref);
      report("cuda float64 vs old SevenNet float64", {name, structure}, d);
      EXPECT_LE(d.energy_per_atom, 1e-9);
      EXPECT_LE(d.force, 1e-8);
      EXPECT_LE(d.virial, 1e-8);
    }
  }
  EXPECT_GE(unnormalised, 2);  // the 0.9.0 and 0.9.1 files
}

// The architectures of tests/data/variants (lmax 3 and 4, radial MLPs whose
// last hidden width is or is not a whole number of tensor-core tiles, readout
// MLP, XPLOR, biases, per-species self-connection) against upstream float64.
TEST(CudaVariantModels, MatchUpstreamFloat64) {
  REQUIRE_DEVICE();
  const std::string dir = test_data_dir() + "/variants/";
  const auto refs = nlohmann::json::parse(std::ifstream(dir + "references.json"));
  int checked = 0;
  for (const auto& [name, cases] : refs["cases"].items()) {
    const auto model = flashtp::load_model(dir + name + ".pth");
    for (const Precision precision : {Precision::float64, Precision::float32}) {
      auto engine = flashtp::make_cuda_engine(model, precision);
      for (const auto& [structure, ref] : cases.items()) {
#ifdef FLASHTP_CUDA_EMULATED  // small graphs only
        if (structure == "bulk_rand_40" || structure == "cluster_20") continue;
#endif
        const auto d = deviation(engine->compute(graph_of(model, reference_cases()["structures"][structure])), ref);
        const bool f64 = precision == Precision::float64;
        report(f64 ? "cuda float64 vs upstream float64" : "cuda float32 vs upstream float64", {name, structure}, d);
        EXPECT_LE(d.energy_per_atom, f64 ? 1e-9 : 2e-6) << name << "/" << structure;
        EXPECT_LE(d.force, f64 ? 1e-8 : 5e-5) << name << "/" << structure;
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 16);
}

// Every edge's sender replaced by a ghost copy of it: ghost features arrive
// only through the exchange, gradients go back through it.
class CopyGhosts : public flashtp::GhostExchange {
 public:
  explicit CopyGhosts(std::vector<int> owner, int local) : owner_(std::move(owner)), local_(local) {}
  void forward(double* f, int dim) override { forward_rows(f, dim); }
  void forward(float* f, int dim) override { forward_rows(f, dim); }
  void reverse(double* g, int dim) override { reverse_rows(g, dim); }
  void reverse(float* g, int dim) override { reverse_rows(g, dim); }

 private:
  template <class T>
  void forward_rows(T* f, int dim) {
    for (size_t g = 0; g < owner_.size(); ++g)
      std::copy(f + size_t(owner_[g]) * dim, f + size_t(owner_[g] + 1) * dim, f + (local_ + g) * dim);
  }
  template <class T>
  void reverse_rows(T* f, int dim) {
    for (size_t g = 0; g < owner_.size(); ++g)
      for (int k = 0; k < dim; ++k) {
        f[size_t(owner_[g]) * dim + k] += f[(local_ + g) * dim + k];
        f[(local_ + g) * dim + k] = 0;
      }
  }
  std::vector<int> owner_;
  size_t local_;
};

// The fused kernels address node rows with 32-bit offsets: a graph whose
// node arrays would reach 2^32 numbers is refused, with the numbers, before
// any work (sevennet0_arch's feature rows hold 480 numbers and more: 9 M
// atoms are enough).
TEST(CudaLimits, RefusesNodeArraysOf2To32Numbers) {
  REQUIRE_DEVICE();
  Graph g;
  g.num_local = g.num_nodes = 9000000;
  g.species.assign(g.num_nodes, 0);
  g.centre_start.assign(g.num_nodes + 1, 0);
  auto engine = flashtp::make_cuda_engine(model_named("sevennet0_arch"), Precision::float32);
  try {
    engine->compute(g);
    FAIL() << "no error";
  } catch (const flashtp::Error& e) {
    EXPECT_NE(std::string(e.what()).find("9000000 atoms"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2^32"), std::string::npos) << e.what();
  }
}

// A NaN or zero-length edge vector is refused with a message, on a graph the
// engine has not seen (its layout is built) and on one whose topology it
// keeps from the last step; the engine then gives the same numbers as before.
TEST(CudaBadInput, NonFiniteOrZeroEdgeVectorsRefused) {
  REQUIRE_DEVICE();
  const auto& model = model_named("tiny_parity");
  const Graph g = graph_of(model, std::string("cluster_20"));
  Graph not_finite = g, zero = g;
  not_finite.vec[3][1] = std::numeric_limits<double>::quiet_NaN();
  zero.vec[5] = {0.0, 0.0, 0.0};
  auto refused = [](flashtp::Engine& engine, const Graph& bad, const std::string& why) {
    try {
      engine.compute(bad);
      ADD_FAILURE() << "no error: " << why;
    } catch (const flashtp::Error& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  auto fresh = flashtp::make_cuda_engine(model, Precision::float32);
  refused(*fresh, not_finite, "not finite");
  auto engine = flashtp::make_cuda_engine(model, Precision::float32);
  const auto before = engine->compute(g);
  refused(*engine, not_finite, "not finite");
  refused(*engine, zero, "on top of each other");
  const auto after = engine->compute(g);
  EXPECT_EQ(std::memcmp(&after.energy, &before.energy, sizeof(double)), 0);
  EXPECT_EQ(std::memcmp(after.forces.data(), before.forces.data(), before.forces.size() * sizeof(Vec3)), 0);
}

TEST(CudaGhosts, SenderGhostsGiveTheSameResult) {
  REQUIRE_DEVICE();
  const CaseId id{"tiny_parity", "cluster_20"};
  const auto& model = model_named(id.model);
  const auto& plain = evaluate(id, Precision::float64);
  Graph g = plain.graph;
  std::vector<int> owner;
  for (int64_t e = 0; e < g.num_edges(); ++e) {
    owner.push_back(g.neighbor[e]);
    g.species.push_back(g.species[g.neighbor[e]]);
    g.neighbor[e] = g.num_local + static_cast<int>(e);
  }
  g.num_nodes = g.num_local + static_cast<int>(g.num_edges());
  CopyGhosts exchange(owner, g.num_local);
  auto r = flashtp::make_cuda_engine(model, Precision::float64)->compute(g, &exchange);
  // forces on ghosts belong to their owners
  for (size_t k = 0; k < owner.size(); ++k)
    for (int a = 0; a < 3; ++a) r.forces[owner[k]][a] += r.forces[g.num_local + k][a];
  r.forces.resize(g.num_local);
  const auto d = deviation(r, plain.result);
  EXPECT_LE(d.energy_per_atom, 1e-13);
  EXPECT_LE(d.force, 1e-12 * std::max(1.0, force_scale(plain.result)));
  EXPECT_LE(d.virial, 1e-11);
}

// The backward's per-edge scratch a batch of whole waves of tiles at a time
// (FLASHTP_CUDA_EDGE_BATCH=1 and FLASHTP_CUDA_SENDER_TILE_EDGES=1: a sender a
// tile, a wave of tiles a batch) gives the numbers of one batch of all edges:
// disjoint copies of a cluster, senders enough for several waves of the
// device's blocks (264 on an H100, 8 on the emulator), in both precisions.
// The energies bit for bit; forces and virials to rounding, as with one batch
// dL/demb and dL/dY are summed over the layers before they go back through the
// geometry, and with many each layer's goes. Values that are no number of
// edges are refused.
TEST(CudaEdgeBatches, SameNumbersAsOneBatch) {
  REQUIRE_DEVICE();
  const auto& model = model_named("tiny_parity");
#ifdef FLASHTP_CUDA_EMULATED
  constexpr int kCopies = 6;
#else
  constexpr int kCopies = 40;
#endif
  const Graph g = disjoint_copies(graph_of(model, std::string("cluster_20")), kCopies);
  for (const auto precision : {Precision::float32, Precision::float64}) {
    const auto whole = flashtp::make_cuda_engine(model, precision)->compute(g);
    Result batched;
    int edge_forces = 0;
    {
      const ManyEdgeBatches many;
      auto engine = flashtp::make_cuda_engine(model, precision);
      edge_forces = kernels_launched([&] { batched = engine->compute(g); }).at("edge_forces").launches;
    }
    EXPECT_GT(edge_forces, static_cast<int>(model.layers.size())) << "one batch only";
    EXPECT_EQ(std::memcmp(&batched.energy, &whole.energy, sizeof(double)), 0);
    ASSERT_EQ(batched.forces.size(), whole.forces.size());
    const double rounding = precision == Precision::float64 ? 1e-14 : 1e-6;
    const auto d = deviation(batched, whole);
    EXPECT_LE(d.force, rounding * std::max(1.0, force_scale(whole)));
    double virial_scale = 1.0;
    for (double w : whole.virial) virial_scale = std::max(virial_scale, std::abs(w));
    EXPECT_LE(d.virial, rounding * virial_scale);
    std::cout << "[deviation] " << (precision == Precision::float64 ? "float64" : "float32") << " "
              << edge_forces / static_cast<int>(model.layers.size())
              << " batches vs one batch: max |dF| " << d.force << " eV/A, max |dW| " << d.virial << " eV\n";
  }
  expect_environment_refused("FLASHTP_CUDA_EDGE_BATCH", "lots", model);
  expect_environment_refused("FLASHTP_CUDA_SENDER_TILE_EDGES", "0", model);
}

// The forward hands a chunk's tasks to the warps as they come free
// (TaskQueue): with more tasks than warps (l3_parity_bias_linear) the results
// are the same byte for byte however the warps' timing falls (on the
// emulator, host threads; on a GPU, the scheduler).
TEST(CudaForwardQueue, SameBytesRunToRun) {
  REQUIRE_DEVICE();
  const auto model = flashtp::load_model(test_data_dir() + "/variants/l3_parity_bias_linear.pth");
  const Graph g = graph_of(model, reference_cases()["structures"]["tiny_triclinic"]);
  const auto first = flashtp::make_cuda_engine(model, Precision::float32)->compute(g);
  for (int run = 0; run < 3; ++run) {
    const auto again = flashtp::make_cuda_engine(model, Precision::float32)->compute(g);
    EXPECT_EQ(std::memcmp(&again.energy, &first.energy, sizeof(double)), 0);
    ASSERT_EQ(again.atomic_energy, first.atomic_energy);
    ASSERT_EQ(again.forces.size(), first.forces.size());
    EXPECT_EQ(std::memcmp(again.forces.data(), first.forces.data(), again.forces.size() * sizeof(Vec3)), 0);
  }
}

// dF/d(eps) of F(r + eps d) from the dual-number pipeline against central
// differences of the float64 forces, edge vectors moved as r_j - r_i moves.
class CudaHessian : public ::testing::TestWithParam<CaseId> {};

TEST_P(CudaHessian, MatchesFiniteDifferencesOfForces) {
  REQUIRE_DEVICE();
  const auto& model = model_named(GetParam().model);
  const Graph& graph = evaluate(GetParam(), Precision::float64).graph;
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  std::vector<Vec3> d(graph.num_nodes);
  for (auto& v : d)
    for (double& c : v) c = normal(rng);

  const auto hvp = flashtp::make_cuda_hessian_engine(model)->compute(graph, d);
  auto engine = flashtp::make_cuda_engine(model, Precision::float64);
  const auto reference = evaluate(GetParam(), Precision::float64).result;
  const auto dev = deviation(hvp.result, reference);
  EXPECT_LE(dev.force, 1e-12 * std::max(1.0, force_scale(reference)));

  auto displaced = [&](double eps) {
    Graph g = graph;
    for (int64_t e = 0; e < g.num_edges(); ++e)
      for (int a = 0; a < 3; ++a) g.vec[e][a] += eps * (d[g.neighbor[e]][a] - d[g.center[e]][a]);
    return engine->compute(g);
  };
  const double h = 1e-5;
  const auto plus = displaced(h), minus = displaced(-h);
  double worst = 0, scale = 1e-300;
  for (int n = 0; n < graph.num_nodes; ++n)
    for (int a = 0; a < 3; ++a) {
      const double fd = (plus.forces[n][a] - minus.forces[n][a]) / (2 * h);
      worst = nan_max(worst, std::abs(fd - hvp.force_derivative[n][a]));
      scale = std::max(scale, std::abs(hvp.force_derivative[n][a]));
    }
  std::cout << "[hessian] " << GetParam().model << "/" << GetParam().structure << ": max |Hd - FD| " << worst
            << " eV/A^2, max |Hd| " << scale << " eV/A^2\n";
  EXPECT_LE(worst, 1e-6 * std::max(1.0, scale));
  for (int k = 0; k < 6; ++k) {
    const double fd = (plus.virial[k] - minus.virial[k]) / (2 * h);
    EXPECT_NEAR(hvp.virial_derivative[k], fd, 1e-6 * std::max(1.0, std::abs(fd)));
  }
}

std::vector<CaseId> hessian_cases() {
#ifdef FLASHTP_CUDA_EMULATED
  return {{"tiny_parity", "cluster_20"}, {"l3i5_arch", "isolated"}};
#else
  return {{"tiny_parity", "bulk_rand_40"}, {"sevennet0_arch", "cluster_20"}, {"l3i5_arch", "bulk_rand_40"},
          {"sevennet0_arch", "tiny_triclinic"}};
#endif
}

INSTANTIATE_TEST_SUITE_P(Cases, CudaHessian, ::testing::ValuesIn(hessian_cases()),
                         [](const auto& info) { return info.param.model + "_" + info.param.structure; });

}  // namespace
