// pair_style flashtp [precision float32|float64] [device auto|cpu|cuda]
//
// device auto (the default) runs the CUDA engine when flashtp was built with
// CUDA and the rank sees a GPU: one GPU per MPI rank, the rank's index on its
// node modulo the GPUs it sees. precision defaults to float32 on a GPU and
// float64 on the CPU.
//
// The flashtp engine on LAMMPS's domain decomposition: each rank evaluates the
// graph of its owned atoms and their ghosts (one cutoff + skin), and the
// features of ghost atoms are refreshed from their owners before every
// interaction layer; their gradients go back to the owners in the backward pass.
// On one rank every ghost is an image of an owned atom and is folded onto it:
// one graph of owned atoms, nothing exchanged.
#pragma once
#include <memory>
#include <optional>

#include "engine.hpp"
#include "ghost_exchange.h"
#include "lammps_graph.h"
#include "native_potential.h"
#include "pair_flashtp_base.h"

namespace flashtp_lammps {

class PairFlashTP : public PairFlashTPBase {
 public:
  explicit PairFlashTP(LAMMPS_NS::LAMMPS* lmp);

  void compute(int eflag, int vflag) override;
  void settings(int narg, char** arg) override;
  void init_style() override;

  // Node features (forward) and their gradients (reverse), one row per atom.
  int pack_forward_comm(int n, int* list, double* buf, int pbc_flag, int* pbc) override;
  void unpack_forward_comm(int n, int first, double* buf) override;
  int pack_reverse_comm(int n, int first, double* buf) override;
  void unpack_reverse_comm(int n, int* list, double* buf) override;

 protected:
  double load(const std::string& path) override;
  std::vector<int> species_of(const std::vector<std::string>& elements) const override;
  std::string description() const override;

 private:
  std::optional<flashtp::Precision> precision_;
  flashtp::Device device_ = flashtp::Device::automatic;
  std::unique_ptr<NativePotential> potential_;
  FeatureRows comm_rows_;
  LammpsGraph graph_;
};

}  // namespace flashtp_lammps
