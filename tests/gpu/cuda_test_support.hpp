// What the CUDA engine tests share: the reference data (found through the
// environment variable FLASHTP_REFERENCE_DIR, else the build's default), the
// models and graphs of its cases, how results are compared, and the engine's
// backward run in many batches and its kernels' profile.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cuda/runtime.hpp"
#include "engine.hpp"
#include "io/lammps_data.hpp"
#include "model_file.hpp"
#include "neighbor.hpp"
#include "../deviation.hpp"
#include "../structure_json.hpp"

namespace flashtp::test {

// The environment's `variable` where set and not empty, else `fallback`.
inline std::string environment_or(const char* variable, const char* fallback) {
  const char* env = std::getenv(variable);
  return env && *env ? env : fallback;
}
inline std::string reference_dir() { return environment_or("FLASHTP_REFERENCE_DIR", FLASHTP_DEFAULT_REFERENCE_DIR); }
// tests/data of the sources the tests were built from, or the environment's
// (a test binary run away from its sources: bench/gpu_prebuild.sh)
inline std::string test_data_dir() { return environment_or("FLASHTP_TEST_DATA_DIR", FLASHTP_TEST_DATA_DIR); }

inline const nlohmann::json& reference_cases() {
  static const nlohmann::json refs = [] {
    std::ifstream in(reference_dir() + "/references.json");
    if (!in) throw std::runtime_error("cannot open " + reference_dir() + "/references.json");
    return nlohmann::json::parse(in);
  }();
  return refs;
}

struct CaseId {
  std::string model, structure;
};

// Every (model, structure) case whose model has a checkpoint.
inline std::vector<CaseId> checkpoint_cases() {
  std::vector<CaseId> out;
  for (const auto& c : reference_cases()["cases"])
    if (reference_cases()["models"][c["model"].get<std::string>()].contains("checkpoint"))
      out.push_back({c["model"], c["structure"]});
  return out;
}

inline const nlohmann::json& reference_of(const CaseId& id) {
  for (const auto& c : reference_cases()["cases"])
    if (c["model"] == id.model && c["structure"] == id.structure) return c;
  throw std::runtime_error("no reference case " + id.model + "/" + id.structure);
}

inline const Model& model_named(const std::string& name) {
  static std::map<std::string, Model> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    const auto& entry = reference_cases()["models"][name];
    const std::string file = entry.contains("checkpoint") ? entry["checkpoint"] : entry["file"];
    it = cache.emplace(name, load_model(reference_dir() + "/" + file)).first;
  }
  return it->second;
}

inline Graph graph_of(const Model& model, const std::string& structure) {
  const auto& refs = reference_cases();
  const auto& s = refs["structures"][structure];
  std::array<bool, 3> pbc{};
  for (int a = 0; a < 3; ++a) pbc[a] = s["pbc"][a].get<bool>();
  const auto atoms = io::read_lammps_data(reference_dir() + "/" + refs["structure_files"][structure].get<std::string>(), pbc);
  std::vector<int> species;
  for (int type : atoms.types) species.push_back(model.species_index(refs["lammps_type_order"][type - 1]));
  return build_graph(atoms, species, model.cutoff());
}

// The graph of a structure given as JSON (tests/data/legacy/references.json).
inline Graph graph_of(const Model& model, const nlohmann::json& s) {
  std::vector<int> species;
  const Structure atoms = reference_structure(s, model, species);
  return build_graph(atoms, species, model.cutoff());
}

// `copies` copies of a graph without ghosts, side by side and unconnected:
// a graph of more tiles of edges than its structure gives.
inline Graph disjoint_copies(const Graph& one, int copies) {
  Graph g;
  g.centre_start = {0};
  for (int copy = 0; copy < copies; ++copy) {
    const int shift = copy * one.num_nodes;
    for (int64_t e = 0; e < one.num_edges(); ++e) {
      g.center.push_back(one.center[e] + shift);
      g.neighbor.push_back(one.neighbor[e] + shift);
      g.vec.push_back(one.vec[e]);
    }
    for (int i = 0; i < one.num_local; ++i) g.centre_start.push_back(one.centre_start[i + 1] + copy * one.num_edges());
    g.species.insert(g.species.end(), one.species.begin(), one.species.end());
  }
  g.num_local = g.num_nodes = copies * one.num_nodes;
  return g;
}

// While it lives, engines made run their backward's edges in many batches:
// a sender a tile (FLASHTP_CUDA_SENDER_TILE_EDGES=1) and a wave of tiles a
// batch (FLASHTP_CUDA_EDGE_BATCH=1), where the graph has senders enough for
// several waves of the device's blocks.
struct ManyEdgeBatches {
  ManyEdgeBatches() {
    setenv("FLASHTP_CUDA_EDGE_BATCH", "1", 1);
    setenv("FLASHTP_CUDA_SENDER_TILE_EDGES", "1", 1);
  }
  ~ManyEdgeBatches() {
    unsetenv("FLASHTP_CUDA_EDGE_BATCH");
    unsetenv("FLASHTP_CUDA_SENDER_TILE_EDGES");
  }
  ManyEdgeBatches(const ManyEdgeBatches&) = delete;
  ManyEdgeBatches& operator=(const ManyEdgeBatches&) = delete;
};

// The kernels that run() launches, per name, with profiling on for it alone
// (the profile empty before and after).
template <class Run>
std::map<std::string, cuda::KernelTime> kernels_launched(const Run& run) {
  cuda::profile_report(true);
  cuda::set_profiling(true);
  run();
  cuda::set_profiling(false);
  auto kernels = cuda::profile_kernels();
  cuda::profile_report(true);
  return kernels;
}

// Largest |force| and |atomic energy| of a result: the scale relative errors refer to.
inline double force_scale(const Result& r) {
  double m = 1e-300;
  for (const auto& f : r.forces)
    for (double v : f) m = std::max(m, std::abs(v));
  return m;
}

}  // namespace flashtp::test
