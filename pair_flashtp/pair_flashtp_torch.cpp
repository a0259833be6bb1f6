#include "pair_flashtp_torch.h"

#include <exception>

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "species_map.hpp"

namespace flashtp_lammps {

using namespace LAMMPS_NS;

PairFlashTPTorch::PairFlashTPTorch(LAMMPS* lmp) : PairFlashTPBase(lmp) {}

void PairFlashTPTorch::settings(int narg, char**) {
  if (narg != 0) error->all(FLERR, "Illegal pair_style flashtp/torch command: it takes no arguments");
}

double PairFlashTPTorch::load(const std::string& path) {
  model_ = std::make_unique<flashtp::TorchScriptModel>(path);
  return model_->cutoff();
}

std::vector<int> PairFlashTPTorch::species_of(const std::vector<std::string>& elements) const {
  // map_type_elements reads only the species list of the model it is given.
  flashtp::Model species_only;
  species_only.species = model_->species();
  return flashtp::map_type_elements(species_only, elements);
}

std::string PairFlashTPTorch::description() const { return "deployed TorchScript model through LibTorch"; }

void PairFlashTPTorch::init_style() {
  PairFlashTPBase::init_style();
  if (comm->nprocs > 1)
    error->all(FLERR, "pair_style flashtp/torch runs on one MPI rank only (it folds ghosts onto owned atoms, "
                      "as SevenNet's serial pair_e3gnn does); use pair_style flashtp for MPI runs");
  if (atom->tag_enable == 0) error->all(FLERR, "pair_style flashtp/torch requires atom IDs");
}

void PairFlashTPTorch::compute(int eflag, int vflag) {
  ev_init(eflag, vflag);
  try {
    const flashtp::Result result = model_->evaluate(graph_.folding_ghosts(*atom, *list, species_of_type_, cutoff_));
    // Legacy deployed files (SevenNet <= 0.9) compute forces and stress
    // themselves and give no per-edge gradient to split among atoms.
    if (vflag_atom && result.atomic_virial.empty())
      error->one(FLERR, "pair_style flashtp/torch: this (legacy) deployed model gives no per-atom virial");
    tally(result, atom->nlocal);
  } catch (const std::exception& e) {
    error->one(FLERR, std::string("pair_style flashtp/torch: ") + e.what());
  }
}

}  // namespace flashtp_lammps
