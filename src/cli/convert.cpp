// flashtp convert: any SevenNet model file to flashtp's native file, written
// only after the converted model has been shown to compute what the original
// computes.
//
// The candidate is the native file itself, read back: what is proven is what
// is written. The original is run through LibTorch when there is a deployed
// TorchScript model (the input, or --oracle for a checkpoint); a checkpoint
// alone has nothing independent to run, so the native file is then checked
// against the model built from the checkpoint.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/convert_proof.hpp"
#include "cli/convert_structures.hpp"
#include "engine.hpp"
#include "io/deployed.hpp"
#include "io/deployed_canonical.hpp"
#include "io/native.hpp"
#include "model_build.hpp"
#include "model_file.hpp"
#ifdef FLASHTP_HAVE_TORCH
#include "torch/torchscript_model.hpp"
#endif

namespace flashtp::cli {
namespace {

std::function<Result(const Graph&)> engine_of(std::shared_ptr<Engine> engine) {
  return [engine](const Graph& g) { return engine->compute(g); };
}

// The comparisons against the original run through LibTorch.
std::vector<Comparison> torch_comparisons(const std::string& oracle, const Model& candidate, bool float32_only,
                                          std::ostream& log) {
#ifdef FLASHTP_HAVE_TORCH
  auto original = std::make_shared<TorchScriptModel>(oracle);
  if (original->species() != candidate.species)
    throw Error("the oracle '" + oracle + "' has other species than the model being converted");
  std::vector<Comparison> out = {{"LibTorch vs flashtp, float32", kFloat32Noise,
                                  [original](const Graph& g) { return original->evaluate(g, c10::kFloat); },
                                  engine_of(make_cpu_engine(candidate, Precision::float32))}};
  if (float32_only) return out;
  // float64 needs the TorchScript model cast; try it on a pair of atoms.
  try {
    Graph pair;
    pair.num_local = pair.num_nodes = 2;
    pair.species = {0, 0};
    pair.center = {0, 1};
    pair.neighbor = {1, 0};
    pair.vec = {Vec3{1.5, 0.3, 0.2}, Vec3{-1.5, -0.3, -0.2}};
    pair.centre_start = {0, 1, 2};
    original->evaluate(pair, c10::kDouble);
  } catch (const std::exception& e) {
    log << "note: the original cannot run in float64 (" << e.what() << "); comparing in float32 only\n";
    return out;
  }
  out.push_back({"LibTorch vs flashtp, float64", kFloat64Noise,
                 [original](const Graph& g) { return original->evaluate(g, c10::kDouble); },
                 engine_of(make_cpu_engine(candidate, Precision::float64))});
  return out;
#else
  (void)candidate;
  (void)float32_only;
  log << "note: this flashtp was built without LibTorch and cannot run '" << oracle << "'\n";
  return {};
#endif
}

void print_model(const io::ModelSource& source, const Model& m, std::ostream& log) {
  log << "model: " << m.num_species() << " species (";
  for (size_t k = 0; k < m.species.size() && k < 8; ++k) log << (k ? " " : "") << m.species[k];
  if (m.species.size() > 8) log << " ...";
  log << "), cutoff " << m.cutoff() << " A, " << m.layers.size() << " layers, " << source.weights.size()
      << " tensors, SevenNet " << (source.version.empty() ? "version unknown" : source.version) << "\n";
}

}  // namespace

int convert(int argc, char** argv) {
  std::vector<char*> words(argv, argv + argc);
  static char output_key[] = "--output";
  for (auto& w : words)
    if (std::string(w) == "-o") w = output_key;
  const Args args(static_cast<int>(words.size()), words.data(), 2, {"output", "verify", "oracle"},
                  {"float32-check-only"});
  if (args.positional().size() != 1 || args.has("output") == args.has("verify"))
    throw Error("usage: flashtp convert IN -o OUT [--oracle DEPLOYED.pt] [--float32-check-only]\n"
                "       flashtp convert IN --verify NATIVE [--oracle DEPLOYED.pt] [--float32-check-only]");
  const std::string in = args.positional()[0];
  std::ostream& log = std::cout;

  // What is written: the canonical model, the same for a model's .pt and .pth.
  const io::ModelSource source = io::canonical_source(read_model_source(in));
  const Model original = build_model(source);
  print_model(source, original, log);

  const bool verify = args.has("verify");
  const std::string out = verify ? "" : args.get("output");
  const std::string candidate_path = verify ? args.get("verify") : out + ".converting";
  if (!verify) io::write_native(candidate_path, source);
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      if (!path.empty()) std::remove(path.c_str());
    }
  } cleanup{verify ? "" : candidate_path};
  const Model candidate = load_model(candidate_path);

  const std::string oracle = args.get("oracle", io::is_deployed_file(in) ? in : "");
  std::vector<Comparison> comparisons;
  if (!oracle.empty()) comparisons = torch_comparisons(oracle, candidate, args.flag("float32-check-only"), log);
  if (comparisons.empty()) {
    log << "note: nothing independent of '" << in << "' to run: checking the native file against the model read "
        << "from it, in float64 (give --oracle DEPLOYED.pt of the same model for a proof against SevenNet)\n";
    comparisons = {{"source vs native file, float64", kExact,
                    engine_of(make_cpu_engine(original, Precision::float64)),
                    engine_of(make_cpu_engine(candidate, Precision::float64))}};
  }

  log << "proof on generated structures (" << (verify ? candidate_path : in) << "):\n";
  const auto checks = prove(proof_structures(original.num_species(), original.cutoff()), original.cutoff(),
                            comparisons, log);
  int failed = 0;
  for (const auto& c : checks) failed += !c.pass();
  if (failed) {
    std::string what = std::to_string(failed) + " of " + std::to_string(checks.size()) +
                       " checks differ beyond the bounds (FAIL lines above)";
    throw Error(verify ? "'" + candidate_path + "' does not reproduce '" + in + "': " + what
                       : "refusing to write '" + out + "': " + what);
  }
  if (verify) {
    log << "'" << candidate_path << "' reproduces '" << in << "'\n";
  } else {
    if (std::rename(candidate_path.c_str(), out.c_str()) != 0) throw Error("cannot write '" + out + "'");
    cleanup.path.clear();
    log << "wrote '" << out << "'\n";
  }
  return 0;
}

}  // namespace flashtp::cli
