// The roofline's work model (src/cuda/roofline.hpp): it names every kernel an
// evaluation launches and no other, whichever way the kernels go; its tensor
// product FLOPs are those of the Clebsch-Gordan tensors' nonzero entries; its
// report divides as it says. On the host emulator (the profile records the
// emulated launches).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cuda/cuda_engine.hpp"
#include "cuda/roofline.hpp"
#include "cuda_test_support.hpp"
#include "so3.hpp"

namespace flashtp::cuda {
namespace {

using test::graph_of;
using test::model_named;
using test::reference_cases;
using test::test_data_dir;

// The kernels one evaluation of `model` on `graph` launches, against the
// roofline's, in both precisions; the float64 evaluation's profile.
std::map<std::string, KernelTime> expect_same_kernels(const Model& model, const Graph& graph, const std::string& what) {
  std::map<std::string, KernelTime> measured;
  for (const Precision precision : {Precision::float32, Precision::float64}) {
    auto engine = make_cuda_engine(model, precision);
    measured = test::kernels_launched([&] { engine->compute(graph); });
    const int bytes = precision == Precision::float64 ? 8 : 4;
    std::set<std::string> launched, modelled;
    for (const auto& [name, t] : measured) launched.insert(name);
    for (const auto& [name, w] : evaluation_work(model, evaluation_shape(graph, measured, bytes))) {
      modelled.insert(name);
      EXPECT_GT(w.bytes, 0) << name << ", " << what;
    }
    EXPECT_EQ(launched, modelled) << what << (bytes == 8 ? ", float64" : ", float32");
  }
  return measured;
}

// Every way through the pipeline: the first layer as a density and fused, the
// backward's edges in one batch and in several; readout Linears and an MLP,
// one self-connection and one per species (tests/data/variants).
TEST(Roofline, NamesEveryKernelAnEvaluationLaunches) {
  const auto& tiny = model_named("tiny_parity");
  const Graph graph = graph_of(tiny, std::string("tiny_triclinic"));
  const auto density = expect_same_kernels(tiny, graph, "tiny_parity");
  EXPECT_EQ(density.at("density_forward").launches, 1);
  setenv("FLASHTP_CUDA_DENSITY_SPECIES", "0", 1);
  const auto fused = expect_same_kernels(tiny, graph, "tiny_parity, fused first layer");
  EXPECT_EQ(fused.count("density_forward"), 0u);
  EXPECT_EQ(fused.at("convolution_forward").launches, static_cast<int>(tiny.layers.size()));
  unsetenv("FLASHTP_CUDA_DENSITY_SPECIES");
  {
    const test::ManyEdgeBatches many;
    const auto batches = expect_same_kernels(tiny, test::disjoint_copies(graph, 8), "tiny_parity, edges in batches");
    EXPECT_GT(batches.at("edge_forces").launches, static_cast<int>(tiny.layers.size()));
  }

  const std::string dir = test_data_dir() + "/variants/";
  const auto refs = nlohmann::json::parse(std::ifstream(dir + "references.json"));
  int variants = 0;
  for (const auto& [name, cases] : refs["cases"].items()) {
    const auto model = load_model(dir + name + ".pth");
    expect_same_kernels(model, graph_of(model, reference_cases()["structures"]["tiny_triclinic"]), name);
    ++variants;
  }
  EXPECT_GE(variants, 4);
}

// The tensor product's FLOPs per edge from the dense Clebsch-Gordan tensors:
// per coupling, M[i][k] = sum_j C[i][j][k] Y[j] over the nonzero entries (a
// multiply each, an add each beyond the first of a pair (i, k)) and dL/dY (a
// multiply-add each); per channel, forward 2 per nonzero pair (i, k) and one
// multiply w x[i] per i, backward twice the pairs' and five per i (three
// without dL/dh). The generated kernels compute exactly these products.
TEST(Roofline, TensorProductFlopsAreTheNonzeroCouplings) {
  int layers = 0;
  for (const char* name : {"tiny_parity", "sevennet0_arch", "l3i5_arch"}) {
    for (const auto& layer : model_named(name).layers) {
      const Convolution& conv = layer.conv;
      double forward = 0, backward = 0, input_gradient = 0;
      std::set<std::array<int, 3>> seen;
      for (const auto& p : conv.paths) {
        const int l1 = conv.in[p.seg_in].ir.l, l2 = conv.sh[p.seg_sh].ir.l, l3 = conv.mid[p.seg_out].ir.l;
        const int d1 = 2 * l1 + 1, d2 = 2 * l2 + 1, d3 = 2 * l3 + 1;
        const auto C = wigner_3j(l1, l2, l3);
        int entries = 0, pairs = 0;
        for (int i = 0; i < d1; ++i)
          for (int k = 0; k < d3; ++k) {
            int in_pair = 0;
            for (int j = 0; j < d2; ++j) in_pair += std::abs(C[(i * d2 + j) * d3 + k]) > 1e-14;
            entries += in_pair;
            pairs += in_pair > 0;
          }
        if (seen.insert({l1, l2, l3}).second) {
          forward += 2 * entries - pairs;
          backward += 2 * entries - pairs + 2 * entries;
        }
        const double mul = conv.in[p.seg_in].mul;
        forward += mul * (2 * pairs + d1);
        backward += mul * (4 * pairs + 5 * d1);
        input_gradient += mul * 2 * d1;
      }
      const TensorProductFlop f = tensor_product_flop(conv);
      EXPECT_EQ(f.forward, forward) << name;
      EXPECT_EQ(f.backward, backward) << name;
      EXPECT_EQ(f.input_gradient, input_gradient) << name;
      ++layers;
    }
  }
  EXPECT_GE(layers, 10);
}

// The words of the report's line for `kernel`.
std::vector<std::string> row(const std::string& report, const std::string& kernel) {
  std::istringstream lines(report);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> out;
    for (std::string w; words >> w;) out.push_back(w);
    if (!out.empty() && out.front() == kernel) return out;
  }
  return {};
}

// roof = max(matrix / (TF32 / 3) + other / FP32, bytes / bandwidth) in float,
// with FP64 for both kinds of FLOP in double; achieved = roof / measured.
TEST(Roofline, ReportsTheRoofAndTheFractionAchieved) {
  const std::map<std::string, KernelWork> work = {{"compute_bound", {6e9, 1e9, 1e9}}, {"memory_bound", {0, 1e9, 1e10}}};
  const std::map<std::string, KernelTime> measured = {{"compute_bound", {8.0, 1}}, {"memory_bound", {40.0, 2}}};
  DevicePeaks peaks;
  peaks.fp32 = 1e12;
  peaks.fp64 = 0.5e12;
  peaks.tf32 = 6e12;
  peaks.bandwidth = 1e12;
  using Row = std::vector<std::string>;
  // float: 6e9 / 2e12 + 1e9 / 1e12 = 4 ms of compute against 1 of memory;
  // 1 ms of compute against 10 of memory
  const std::string single = roofline_report(work, measured, peaks, 4);
  EXPECT_EQ(row(single, "compute_bound"),
            (Row{"compute_bound", "1", "8.000", "6.00", "1.00", "1.000", "4.000", "compute", "50.0%"}))
      << single;
  EXPECT_EQ(row(single, "memory_bound"),
            (Row{"memory_bound", "2", "40.000", "0.00", "1.00", "10.000", "10.000", "memory", "25.0%"}))
      << single;
  EXPECT_EQ(row(single, "all"), (Row{"all", "48.000", "14.000", "29.2%"})) << single;
  // double: (6e9 + 1e9) / 0.5e12 = 14 ms
  const std::string twice = roofline_report(work, measured, peaks, 8);
  EXPECT_EQ(row(twice, "compute_bound").at(6), "14.000") << twice;
  EXPECT_EQ(row(twice, "compute_bound").at(8), "175.0%") << twice;
  // no peaks (the emulator): no roof
  const std::string none = roofline_report(work, measured, DevicePeaks{}, 4);
  EXPECT_EQ(none.find("roof"), std::string::npos) << none;
  EXPECT_EQ(row(none, "compute_bound").size(), 6u) << none;
}

}  // namespace
}  // namespace flashtp::cuda
