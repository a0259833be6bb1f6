// pair_style flashtp/torch: the reference mode. Runs a deployed SevenNet
// TorchScript file (.pt) through LibTorch exactly as SevenNet's serial
// pair_e3gnn does, to compare flashtp with the upstream model inside LAMMPS.
//
// Like pair_e3gnn it folds every ghost onto the owned atom with the same tag,
// so the model sees the whole periodic system as one graph of owned atoms and
// needs no per-layer exchange: that is exact on one MPI rank only, and this
// style refuses to run on more.
#pragma once
#include <memory>

#include "lammps_graph.h"
#include "pair_flashtp_base.h"
#include "torch/torchscript_model.hpp"

namespace flashtp_lammps {

class PairFlashTPTorch : public PairFlashTPBase {
 public:
  explicit PairFlashTPTorch(LAMMPS_NS::LAMMPS* lmp);

  void compute(int eflag, int vflag) override;
  void settings(int narg, char** arg) override;
  void init_style() override;

 protected:
  double load(const std::string& path) override;
  std::vector<int> species_of(const std::vector<std::string>& elements) const override;
  std::string description() const override;

 private:
  std::unique_ptr<flashtp::TorchScriptModel> model_;
  LammpsGraph graph_;
};

}  // namespace flashtp_lammps
