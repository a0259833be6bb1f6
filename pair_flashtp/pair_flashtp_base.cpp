#include "pair_flashtp_base.h"

#include <cstring>
#include <exception>
#include <sstream>

#include "atom.h"
#include "error.h"
#include "force.h"
#include "lammps_compat.h"
#include "memory.h"
#include "update.h"
#include "utils.h"

namespace flashtp_lammps {

using namespace LAMMPS_NS;

PairFlashTPBase::PairFlashTPBase(LAMMPS* lmp) : Pair(lmp) {
  single_enable = 0;
  restartinfo = 0;
  one_coeff = 1;
  manybody_flag = 1;
  // The engine returns the virial summed over this rank's edges (each edge
  // counted once, on the rank that owns its centre): exactly sum r_ij F_ij,
  // which virial_fdotr_compute would recover from forces and positions.
  no_virial_fdotr_compute = 1;
}

PairFlashTPBase::~PairFlashTPBase() {
  if (allocated) {
    memory->destroy(setflag);
    memory->destroy(cutsq);
  }
}

void PairFlashTPBase::allocate() {
  allocated = 1;
  const int n = atom->ntypes;
  memory->create(setflag, n + 1, n + 1, "pair:setflag");
  memory->create(cutsq, n + 1, n + 1, "pair:cutsq");
}

void PairFlashTPBase::coeff(int narg, char** arg) {
  if (!allocated) allocate();
  const int ntypes = atom->ntypes;
  if (narg < 3 || std::strcmp(arg[0], "*") != 0 || std::strcmp(arg[1], "*") != 0)
    error->all(FLERR, "Illegal pair_coeff command: expected pair_coeff * * MODEL_FILE El1 El2 ...");
  if (narg - 3 != ntypes)
    error->all(FLERR, std::string("pair_coeff for ") + force->pair_style + " needs one element per atom type: " +
                          std::to_string(ntypes) + " atom types but " + std::to_string(narg - 3) +
                          " element(s) given");

  const std::string path = arg[2];
  const std::vector<std::string> elements(arg + 3, arg + narg);
  std::vector<int> species;
  try {
    cutoff_ = load(path);
    species = species_of(elements);
  } catch (const std::exception& e) {
    error->all(FLERR, std::string(force->pair_style) + ": " + e.what());
  }

  species_of_type_.assign(ntypes + 1, -1);
  for (int t = 1; t <= ntypes; ++t) species_of_type_[t] = species[t - 1];
  for (int i = 1; i <= ntypes; ++i)
    for (int j = 1; j <= ntypes; ++j) setflag[i][j] = 1;

  if (comm->me == 0) {
    std::ostringstream log;
    log << force->pair_style << ": " << description() << " from '" << path << "', cutoff " << cutoff_
        << " A, types";
    for (int t = 1; t <= ntypes; ++t) log << " " << t << "=" << elements[t - 1];
    utils::logmesg(lmp, log.str() + "\n");
  }
}

void PairFlashTPBase::init_style() {
  if (std::strcmp(update->unit_style, "metal") != 0)
    error->all(FLERR, std::string("pair_style ") + force->pair_style +
                          " requires 'units metal' (eV, Angstrom); this input uses 'units " + update->unit_style +
                          "'");
  // Forces on ghost atoms are summed into their owners by LAMMPS's reverse
  // communication, which runs only with newton on.
  if (force->newton_pair == 0)
    error->all(FLERR, std::string("pair_style ") + force->pair_style + " requires 'newton on'");
  request_full_neighbor_list(lmp, this, instance_me);
}

double PairFlashTPBase::init_one(int, int) { return cutoff_; }

void PairFlashTPBase::tally(const flashtp::Result& result, int num_nodes) {
  const int nlocal = atom->nlocal;
  double** f = atom->f;
  for (int n = 0; n < num_nodes; ++n)
    for (int a = 0; a < 3; ++a) f[n][a] += result.forces[n][a];

  if (eflag_global) eng_vdwl += result.energy;
  if (eflag_atom)
    for (int i = 0; i < nlocal; ++i) eatom[i] += result.atomic_energy[i];
  // Both in LAMMPS's Voigt order xx yy zz xy xz yz.
  if (vflag_global)
    for (int k = 0; k < 6; ++k) virial[k] += result.virial[k];
  if (vflag_atom)
    for (int n = 0; n < num_nodes; ++n)
      for (int k = 0; k < 6; ++k) vatom[n][k] += result.atomic_virial[n][k];
}

}  // namespace flashtp_lammps
