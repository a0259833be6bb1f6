// A deployed SevenNet model (.pt, TorchScript) run through LibTorch exactly
// as SevenNet's serial LAMMPS pair style pair_e3gnn runs it: the independent
// oracle for the engine. Not for the MD hot path.
//
// Two deployed interfaces exist, told apart by the file's code:
// - current (SevenNet >= 0.12.2): inputs x, edge_index, edge_vec (requires
//   grad), num_atoms, nlocal; outputs inferred_total_energy, atomic_energy.
//   Forces and virial come from dE/d(edge_vec), taken here.
// - legacy (older files, e.g. SevenNet 0.8/0.9): inputs x, pos, edge_index,
//   cell_lattice_vectors, cell_volume, pbc_shift; the model itself returns
//   inferred_force and inferred_stress. A graph carries no positions, so
//   every node is put at the origin with an identity cell, unit volume and
//   pbc_shift = edge vector: the model's pos[j] - pos[i] + shift . cell is
//   then exactly the graph's vector. Such a model reports no per-edge
//   gradient, so Result::atomic_virial stays empty for it (pair_e3gnn of
//   that time refused per-atom virials too).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <c10/core/ScalarType.h>

#include "graph.hpp"
#include "result.hpp"

namespace flashtp {

class TorchScriptModel {
 public:
  // Throws flashtp::Error for a missing file, a file that is not TorchScript,
  // missing or malformed metadata, or a model this oracle cannot run
  // (FlashTP / OpenEquivariance kernels).
  explicit TorchScriptModel(const std::string& path);
  ~TorchScriptModel();
  TorchScriptModel(TorchScriptModel&&) noexcept;
  TorchScriptModel& operator=(TorchScriptModel&&) noexcept;

  // The file's extra files that are present (chemical_symbols_to_index,
  // cutoff, num_species, model_type, version, dtype, flashTP, oeq, time).
  const std::map<std::string, std::string>& metadata() const;
  const std::vector<std::string>& species() const;  // element symbols, model order
  int species_index(const std::string& element) const;  // -1 if absent
  double cutoff() const;
  bool is_legacy() const;
  c10::ScalarType dtype() const;  // the file's: kFloat ("single") or kDouble ("double")

  // Energy, per-atom energy, forces, virial (and per-atom virial, current
  // interface only) of a graph without ghost nodes: periodic images must be
  // edges among the graph's own atoms, as a serial model needs. The model
  // runs in `dtype`; another dtype than the file's runs a copy of the model
  // whose floating-point constants are cast to it.
  Result evaluate(const Graph& g) const;
  Result evaluate(const Graph& g, c10::ScalarType dtype) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flashtp
