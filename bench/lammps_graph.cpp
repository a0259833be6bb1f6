// Host time per step of turning LAMMPS's full neighbour list into the engine's
// graph (LammpsGraph: what pair_style flashtp does before the engine runs), on
// a data file replicated n x n x n, for a model's cutoff (skin 2 A, metal).
//
//   flashtp_bench_lammps_graph DATA MODEL N [REPEAT]
//
// Threads: OMP_NUM_THREADS. One `run 0` (the CPU engine, float64) builds the
// neighbour list first.
#include <mpi.h>

#include <cstdio>
#include <string>
#include <vector>

#include "atom.h"
#include "force.h"
#include "input.h"
#include "lammps.h"
#include "lammps_graph.h"
#include "median_time.hpp"
#include "pair.h"
#include "styles.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s DATA MODEL N [REPEAT]\n", argv[0]);
    return 2;
  }
  const std::string data = argv[1], model = argv[2], n = argv[3];
  const int repeat = argc > 4 ? std::stoi(argv[4]) : 20;
  MPI_Init(&argc, &argv);
  const char* lmp_args[] = {"lmp", "-log", "none", "-screen", "none"};
  auto* lmp = new LAMMPS_NS::LAMMPS(5, const_cast<char**>(lmp_args), MPI_COMM_WORLD);
  for (const auto& style : flashtp_lammps::pair_styles()) (*lmp->force->pair_map)[style.name] = style.create;
  for (const std::string& line : std::vector<std::string>{
           "units metal", "atom_style atomic", "boundary p p p", "newton on", "read_data " + data,
        "replicate " + n + " " + n + " " + n, "mass * 1.0", "pair_style flashtp device cpu precision float64",
        "pair_coeff * * " + model + " Hf O Zr", "run 0"})
    lmp->input->one(line);

  const LAMMPS_NS::Atom& atom = *lmp->atom;
  const LAMMPS_NS::NeighList& list = *lmp->force->pair->list;
  const double cutoff = lmp->force->pair->cutforce;  // the model's cutoff (init_one)
  long long pairs = 0;
  for (int ii = 0; ii < list.inum; ++ii) pairs += list.numneigh[list.ilist[ii]];
  const std::vector<int> species_of_type(atom.ntypes + 1, 0);
  flashtp_lammps::LammpsGraph graph;
  const int64_t edges = graph.folding_ghosts(atom, list, species_of_type, cutoff).num_edges();
  const auto time = [&](auto&& build) { return flashtp::median_ms(repeat, 0, build); };
  const double ghosts = time([&] { graph.with_ghosts(atom, list, species_of_type, cutoff); });
  const double folded = time([&] { graph.folding_ghosts(atom, list, species_of_type, cutoff); });
  std::printf("%d atoms, %d ghosts, %lld neighbour pairs, %lld edges: "
              "graph folding ghosts %.2f ms, with ghosts %.2f ms\n",
              atom.nlocal, atom.nghost, pairs, static_cast<long long>(edges), folded, ghosts);
  delete lmp;
  MPI_Finalize();
  return 0;
}
