// flashtp bench: time one energy + forces evaluation (graph build excluded),
// optionally beside the original TorchScript model run through LibTorch.
#include <iomanip>
#include <iostream>

#include <omp.h>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "backend.hpp"
#include "io/lammps_data.hpp"
#include "median_time.hpp"
#include "model_file.hpp"
#include "neighbor.hpp"
#include "species_map.hpp"
#ifdef FLASHTP_HAVE_TORCH
#include "torch/torchscript_model.hpp"
#endif

namespace flashtp::cli {

int bench(int argc, char** argv) {
  const Args args(argc, argv, 2, {"model", "data", "species", "boundary", "precision", "device", "repeat", "replicate", "torch"}, {});
  const Model model = load_model(args.get("model"));
  auto atoms = io::read_lammps_data(args.get("data"), io::parse_boundary(args.get("boundary", "p p p")));
  const auto n = split(args.get("replicate", "1 1 1"), ' ');
  if (n.size() != 3) throw Error("--replicate takes three integers, e.g. \"2 2 2\"");
  atoms = replicate(atoms, {std::stoi(n[0]), std::stoi(n[1]), std::stoi(n[2])});
  const auto type_species = map_type_elements(model, split(args.get("species"), ','));
  const Graph graph = build_graph(atoms, species_of_atoms(atoms, type_species), model.cutoff());
  const int repeat = std::stoi(args.get("repeat", "5"));
  const std::string precision = args.get("precision", "float32");

  auto engine = make_engine(model, parse_precision(precision), parse_device(args.get("device", "auto")));
  reset_gpu_memory_peak();
  Result ours;
  const double ours_ms = median_ms(repeat, 1, [&] { engine->compute(graph, ours); });  // ours kept, as MD keeps it
  std::cout << std::fixed << std::setprecision(1) << "atoms " << graph.num_local << ", edges " << graph.num_edges()
            << ", " << precision << ", " << omp_get_max_threads() << " threads, median of " << repeat << "\n"
            << "flashtp " << engine->backend() << "   " << ours_ms << " ms";
  if (engine->backend() == "cuda") std::cout << ", peak GPU memory " << std::setprecision(3) << gpu_memory_peak() / 1e9 << " GB";
  std::cout << "\n";
  if (args.has("torch")) {
#ifdef FLASHTP_HAVE_TORCH
    TorchScriptModel reference(args.get("torch"));
    Result theirs;
    const double theirs_ms = median_ms(repeat, 1, [&] { theirs = reference.evaluate(graph); });
    std::cout << "LibTorch      " << theirs_ms << " ms   (flashtp is " << std::setprecision(2) << theirs_ms / ours_ms
              << "x faster; energies " << std::setprecision(6) << ours.energy << " vs " << theirs.energy << " eV)\n";
#else
    throw Error("--torch needs a build with LibTorch");
#endif
  }
  return 0;
}

}  // namespace flashtp::cli
