#include "pair_flashtp.h"

#include <cstring>
#include <exception>

#include "atom.h"
#include "error.h"
#include "lammps_graph.h"

namespace flashtp_lammps {

using namespace LAMMPS_NS;

PairFlashTP::PairFlashTP(LAMMPS* lmp) : PairFlashTPBase(lmp) {}

void PairFlashTP::settings(int narg, char** arg) {
  precision_ = flashtp::Precision::float64;
  for (int k = 0; k < narg; ++k) {
    if (std::strcmp(arg[k], "precision") == 0 && k + 1 < narg) {
      try {
        precision_ = flashtp::parse_precision(arg[++k]);
      } catch (const std::exception& e) {
        error->all(FLERR, std::string("pair_style flashtp: ") + e.what());
      }
    } else {
      error->all(FLERR, std::string("Illegal pair_style flashtp argument '") + arg[k] +
                            "': expected pair_style flashtp [precision float32|float64]");
    }
  }
  // pair_style may be repeated with another precision after pair_coeff.
  if (potential_) potential_->set_precision(precision_);
}

double PairFlashTP::load(const std::string& path) {
  potential_ = std::make_unique<NativePotential>(path, precision_);
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
  // A rank without owned atoms still runs the engine: it takes part in every
  // per-layer exchange, which is collective over all ranks.
  try {
    const flashtp::Graph graph = graph_with_ghosts(*atom, *list, species_of_type_, cutoff_);
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
