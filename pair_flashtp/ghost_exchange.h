// Per-layer ghost exchange of node features through LAMMPS communication.
//
// The engine calls GhostExchange::forward before every interaction layer
// (ghost rows must hold their owners' features) and GhostExchange::reverse in
// the backward pass (gradients that accumulated on ghost rows belong to their
// owners). Both run the pair's own forward/reverse communication, so they
// follow exactly the swaps LAMMPS used to create the ghosts: periodic images
// on the same rank, atoms of neighbouring ranks, and ghosts of ghosts when the
// cutoff is longer than a subdomain.
#pragma once

#include "engine.hpp"
#include "lammps.h"
#include "pair.h"

namespace flashtp_lammps {

// The feature array that the pair's pack/unpack_*_comm functions move: one row
// of `dim` values per LAMMPS atom index (owned atoms first, then ghosts).
// LAMMPS's buffers are double; float rows are widened and narrowed exactly.
class FeatureRows {
 public:
  void attach(double* rows, int dim);
  void attach(float* rows, int dim);
  int dim() const { return dim_; }

  // Forward: the rows of atoms list[0..n) into buf; returns the doubles packed.
  int pack(int n, const int* list, double* buf) const;
  // Forward: buf into rows first..first+n-1 (ghosts), replacing them.
  void unpack(int n, int first, const double* buf);
  // Reverse: rows first..first+n-1 (ghosts) into buf; returns the doubles packed.
  int pack_range(int n, int first, double* buf) const;
  // Reverse: buf added into the rows of atoms list[0..n).
  void unpack_add(int n, const int* list, const double* buf);
  // Rows first..last-1 set to zero.
  void zero(int first, int last);

 private:
  template <typename F>
  void visit(F&& f) const;

  double* doubles_ = nullptr;
  float* floats_ = nullptr;
  int dim_ = 0;
};

class LammpsGhostExchange final : public flashtp::GhostExchange {
 public:
  // `rows` is what the pair's pack/unpack functions read and write.
  LammpsGhostExchange(LAMMPS_NS::LAMMPS* lmp, LAMMPS_NS::Pair* pair, FeatureRows& rows, int nlocal, int nall)
      : lmp_(lmp), pair_(pair), rows_(rows), nlocal_(nlocal), nall_(nall) {}

  void forward(double* features, int dim) override;
  void forward(float* features, int dim) override;
  void reverse(double* gradients, int dim) override;
  void reverse(float* gradients, int dim) override;

 private:
  template <typename T>
  void forward_rows(T* features, int dim);
  template <typename T>
  void reverse_rows(T* gradients, int dim);

  LAMMPS_NS::LAMMPS* lmp_;
  LAMMPS_NS::Pair* pair_;
  FeatureRows& rows_;
  int nlocal_, nall_;
};

}  // namespace flashtp_lammps
