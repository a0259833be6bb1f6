// flashtp_bench_cuda: one energy + forces evaluation of the CUDA engine on
// replicated cells (graph build excluded; the graph's upload and the results'
// download included), median of --repeat after --warmup runs, and the peak
// device memory flashtp held, beside the anchors measured for the upstream
// model (shared/reference/anchors.json), and the energy per atom (a replicated
// cell's is the cell's, at every size: a check that large systems are right).
//
//   flashtp_bench_cuda --model M.pth --name sevennet0_arch --data hfo2_96.data \
//       --replicate 2,3,4 --anchors anchors.json [--precision float32] [--repeat 10] [--warmup 3] [--profile]
//
// --profile: after the timed runs, one more with every kernel timed (device
// time per kernel), and each kernel's roofline: its FLOPs and bytes, the
// least time they allow on this device, and the fraction of it achieved.
//
// Sizes run in the order given; the first that does not fit in device memory
// is reported and ends the run.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cuda/cuda_engine.hpp"
#include "io/lammps_data.hpp"
#include "model_file.hpp"
#include "neighbor.hpp"
#include "species_map.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

struct Anchor {
  double ms = 0, gb = 0;
};

// The anchor row of (model, atoms, backend), if measured.
Anchor anchor(const nlohmann::json& anchors, const std::string& model, int atoms, const std::string& backend) {
  if (!anchors.contains("rows")) return {};  // no --anchors
  for (const auto& row : anchors["rows"])
    if (row["model"] == model && row["atoms"] == atoms && row["backend"] == backend && row.contains("ms_median"))
      return {row["ms_median"].get<double>(), row["peak_mem_gb"].get<double>()};
  return {};
}

std::vector<int> sizes(const std::string& text) {
  std::vector<int> out;
  std::istringstream in(text);
  for (std::string word; std::getline(in, word, ',');) out.push_back(std::stoi(word));
  return out;
}

std::string ratio(double theirs, double ours) {
  if (theirs <= 0) return "      -";
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << std::setw(6) << theirs / ours << "x";
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const flashtp::cli::Args args(argc, argv, 1,
                                  {"model", "name", "data", "replicate", "anchors", "precision", "repeat", "warmup"},
                                  {"profile"});
    const auto model = flashtp::load_model(args.get("model"));
    const std::string name = args.get("name");
    const auto cell = flashtp::io::read_lammps_data(args.get("data"), {true, true, true});
    const auto species = flashtp::map_type_elements(model, {"Hf", "O", "Zr"});
    const auto precision = flashtp::parse_precision(args.get("precision", "float32"));
    const int repeat = std::stoi(args.get("repeat", "10")), warmup = std::stoi(args.get("warmup", "3"));
    nlohmann::json anchors;
    if (args.has("anchors")) anchors = nlohmann::json::parse(std::ifstream(args.get("anchors")));

    std::cout << "flashtp CUDA engine, " << name << ", " << args.get("precision", "float32") << ", median of " << repeat
              << " after " << warmup << " warm-ups\n"
              << "   atoms     edges   graph s      ms   peak GB | FlashTP ms    GB  speed  memory | e3nn speed memory |"
                 "     eV/atom\n";
    for (const int n : sizes(args.get("replicate"))) {
      const auto t_graph = Clock::now();
      const auto atoms = flashtp::replicate(cell, {n, n, n});
      const auto graph = flashtp::build_graph(atoms, flashtp::species_of_atoms(atoms, species), model.cutoff());
      const double graph_s = ms_since(t_graph) / 1000;
      std::vector<double> ms;
      double peak_gb = 0, energy = 0;
      std::string profile;
      try {
        flashtp::reset_cuda_memory_peak();
        auto engine = flashtp::make_cuda_engine(model, precision);
        flashtp::Result result;  // kept from evaluation to evaluation, as MD keeps it
        for (int k = 0; k < warmup + repeat; ++k) {
          const auto t0 = Clock::now();
          engine->compute(graph, result);
          energy = result.energy;
          if (k >= warmup) ms.push_back(ms_since(t0));
        }
        peak_gb = flashtp::cuda_memory_peak() / 1e9;
        if (args.flag("profile")) {
          flashtp::set_cuda_kernel_profiling(true);
          flashtp::cuda_kernel_profile(true);
          engine->compute(graph, result);
          const std::string roofline = flashtp::cuda_roofline(model, graph, precision);
          profile = flashtp::cuda_kernel_profile(true) + roofline;
          flashtp::set_cuda_kernel_profiling(false);
        }
      } catch (const flashtp::Error& e) {
        std::cout << std::setw(8) << graph.num_local << std::setw(10) << graph.num_edges() << "  does not fit: "
                  << e.what() << "\n";
        break;
      }
      std::sort(ms.begin(), ms.end());
      const double median = ms[ms.size() / 2];
      const auto flash = anchor(anchors, name, graph.num_local, "upstream eager, FlashTP");
      const auto e3nn = anchor(anchors, name, graph.num_local, "upstream eager, e3nn");
      std::cout << std::fixed << std::setw(8) << graph.num_local << std::setw(10) << graph.num_edges()
                << std::setprecision(2) << std::setw(10) << graph_s << std::setprecision(1) << std::setw(8) << median
                << std::setprecision(3) << std::setw(10) << peak_gb << " | " << std::setprecision(1) << std::setw(10)
                << flash.ms << std::setprecision(2) << std::setw(6) << flash.gb << " " << ratio(flash.ms, median) << " "
                << ratio(flash.gb, peak_gb) << " | " << ratio(e3nn.ms, median) << " " << ratio(e3nn.gb, peak_gb) << " | "
                << std::setprecision(6) << std::setw(11) << energy / graph.num_local << std::endl
                << profile;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "flashtp_bench_cuda: " << e.what() << "\n";
    return 1;
  }
}
