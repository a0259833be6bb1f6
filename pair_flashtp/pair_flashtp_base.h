// What pair_style flashtp and flashtp/torch share: pair_coeff with a model
// file and one element per atom type, the unit/newton checks, the full
// neighbour list, and handing one evaluation's results to LAMMPS.
#pragma once
#include <string>
#include <vector>

#include "pair.h"
#include "result.hpp"

namespace flashtp_lammps {

class PairFlashTPBase : public LAMMPS_NS::Pair {
 public:
  explicit PairFlashTPBase(LAMMPS_NS::LAMMPS* lmp);
  ~PairFlashTPBase() override;

  // pair_coeff * * MODEL_FILE El1 El2 ... (one element per atom type)
  void coeff(int narg, char** arg) override;
  void init_style() override;
  double init_one(int i, int j) override;

 protected:
  // Reads the model file (throwing flashtp::Error or std::exception with a
  // message for the user) and returns its cutoff.
  virtual double load(const std::string& path) = 0;
  // Model species index of each element; throws flashtp::Error naming every
  // element the model lacks.
  virtual std::vector<int> species_of(const std::vector<std::string>& elements) const = 0;
  virtual std::string description() const = 0;

  // Adds one evaluation to LAMMPS: energy and per-atom energy of the owned
  // atoms, forces and per-atom virial of nodes 0..num_nodes-1 (node n is
  // LAMMPS atom n; newton on sends ghost contributions to their owners).
  void tally(const flashtp::Result& result, int num_nodes);

  std::vector<int> species_of_type_;  // indexed by LAMMPS type 1..ntypes
  double cutoff_ = 0;

 private:
  void allocate();
};

}  // namespace flashtp_lammps
