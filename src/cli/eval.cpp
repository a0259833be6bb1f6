// flashtp eval: one structure through the engine, printed or as JSON.
#include <cmath>
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "backend.hpp"
#include "io/lammps_data.hpp"
#include "model_file.hpp"
#include "neighbor.hpp"
#include "species_map.hpp"

namespace flashtp::cli {

int eval(int argc, char** argv) {
  const Args args(argc, argv, 2, {"model", "data", "species", "boundary", "precision", "device"}, {"json"});
  const Model model = load_model(args.get("model"));
  const auto atoms = io::read_lammps_data(args.get("data"), io::parse_boundary(args.get("boundary", "p p p")));
  const auto type_species = map_type_elements(model, split(args.get("species"), ','));
  const Graph graph = build_graph(atoms, species_of_atoms(atoms, type_species), model.cutoff());
  auto engine = make_engine(model, parse_precision(args.get("precision", "float64")), parse_device(args.get("device", "auto")));
  const Result r = engine->compute(graph);

  if (args.flag("json")) {
    nlohmann::json out;
    out["energy"] = r.energy;
    out["atomic_energy"] = r.atomic_energy;
    out["forces"] = r.forces;
    out["virial"] = r.virial;
    out["num_edges"] = graph.num_edges();
    std::cout << out.dump() << "\n";
    return 0;
  }
  double fmax = 0;
  for (const auto& f : r.forces) fmax = std::max(fmax, std::sqrt(f[0] * f[0] + f[1] * f[1] + f[2] * f[2]));
  std::cout << std::setprecision(12) << "engine       " << engine->backend() << "\n"
            << "atoms        " << graph.num_local << "\n"
            << "edges        " << graph.num_edges() << "\n"
            << "energy       " << r.energy << " eV\n"
            << "energy/atom  " << r.energy / graph.num_local << " eV\n"
            << "max |force|  " << fmax << " eV/A\n"
            << "virial       " << r.virial[0] << " " << r.virial[1] << " " << r.virial[2] << " " << r.virial[3] << " "
            << r.virial[4] << " " << r.virial[5] << " eV (xx yy zz xy xz yz)\n";
  return 0;
}

}  // namespace flashtp::cli
