#include "pair_flashtp.h"

#include <cstdlib>
#include <cstring>
#include <exception>

#include "atom.h"
#include "comm.h"
#include "error.h"

namespace flashtp_lammps {

using namespace LAMMPS_NS;

PairFlashTP::PairFlashTP(LAMMPS* lmp) : PairFlashTPBase(lmp) {}

namespace {

// This rank's index among the ranks on its node, from the variables that MPI
// launchers set (OpenMPI, MPICH/Intel MPI, MVAPICH, Slurm); else the global rank.
int node_local_rank(int global_rank) {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return global_rank;
}

}  // namespace

void PairFlashTP::settings(int narg, char** arg) {
  precision_.reset();
  device_ = flashtp::Device::automatic;
  std::string problem;
  try {
    for (int k = 0; k < narg && problem.empty(); ++k) {
      if (std::strcmp(arg[k], "precision") == 0 && k + 1 < narg)
        precision_ = flashtp::parse_precision(arg[++k]);
      else if (std::strcmp(arg[k], "device") == 0 && k + 1 < narg)
        device_ = flashtp::parse_device(arg[++k]);
      else
        problem = std::string("illegal argument '") + arg[k] +
                  "': expected pair_style flashtp [precision float32|float64] [device auto|cpu|cuda]";
    }
    // pair_style may be repeated with other settings after pair_coeff.
    if (problem.empty() && potential_) potential_->set_engine(precision_, device_);
  } catch (const std::exception& e) {
    problem = e.what();
  }
  if (!problem.empty()) error->all(FLERR, "pair_style flashtp: " + problem);
}

double PairFlashTP::load(const std::string& path) {
  potential_ = std::make_unique<NativePotential>(path, precision_, device_, node_local_rank(comm->me));
  return potential_->cutoff();
}

std::vector<int> PairFlashTP::species_of(const std::vector<std::string>& elements) const {
  return potential_->species_of(elements);
}

std::string PairFlashTP::description() const { return potential_->description(); }

void PairFlashTP::init_style() {
  PairFlashTPBase::init_style();
  // Sizes LAMMPS's communication buffers: one row of the widest layer input
  // per atom. Features of layer 0 (the species embedding) are never sent.
  comm_forward = comm_reverse = potential_->widest_layer_input();
}

void PairFlashTP::compute(int eflag, int vflag) {
  ev_init(eflag, vflag);
  const int nall = atom->nlocal + atom->nghost;
  try {
    if (comm->nprocs == 1 && atom->tag_enable) {
      // One rank: every ghost is an image of an owned atom. The graph folds
      // ghosts onto their owners (edges keep their own vectors), so nothing
      // crosses between host and device from one layer to the next.
      tally(potential_->compute(graph_.folding_ghosts(*atom, *list, species_of_type_, cutoff_), nullptr),
            atom->nlocal);
      return;
    }
    // Several ranks: ghosts are nodes whose features are exchanged before each
    // layer. A rank without owned atoms still runs the engine: it takes part
    // in every exchange, which is collective over all ranks.
    const flashtp::Graph& graph = graph_.with_ghosts(*atom, *list, species_of_type_, cutoff_);
    LammpsGhostExchange exchange(lmp, this, comm_rows_, atom->nlocal, nall);
    tally(potential_->compute(graph, &exchange), nall);
  } catch (const std::exception& e) {
    error->one(FLERR, std::string("pair_style flashtp: ") + e.what());
  }
}

int PairFlashTP::pack_forward_comm(int n, int* list, double* buf, int /*pbc_flag*/, int* /*pbc*/) {
  // Features are invariant under the lattice translations that make images.
  return comm_rows_.pack(n, list, buf);
}

void PairFlashTP::unpack_forward_comm(int n, int first, double* buf) { comm_rows_.unpack(n, first, buf); }

int PairFlashTP::pack_reverse_comm(int n, int first, double* buf) { return comm_rows_.pack_range(n, first, buf); }

void PairFlashTP::unpack_reverse_comm(int n, int* list, double* buf) { comm_rows_.unpack_add(n, list, buf); }

}  // namespace flashtp_lammps
