#include "lammps_graph.h"

#include <string>

#include "error.hpp"

namespace flashtp_lammps {

const flashtp::Graph& LammpsGraph::build(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list,
                                         const std::vector<int>& species_of_type, double cutoff, int num_nodes) {
  const int nlocal = atom.nlocal;
  double** x = atom.x;
  flashtp::Graph& g = graph_;
  g.num_local = nlocal;
  g.num_nodes = num_nodes;
  g.species.resize(num_nodes);
  for (int n = 0; n < static_cast<int>(node_of_.size()); ++n) g.species[node_of_[n]] = species_of_type[atom.type[n]];
  g.center.clear();
  g.neighbor.clear();
  g.vec.clear();

  // ilist need not be 0..inum-1 in order; edges must be sorted by centre.
  listed_.assign(nlocal, 0);
  for (int ii = 0; ii < list.inum; ++ii) listed_[list.ilist[ii]] = 1;

  const double cutoff_sq = cutoff * cutoff;
  g.centre_start.resize(nlocal + 1);
  for (int i = 0; i < nlocal; ++i) {
    g.centre_start[i] = g.num_edges();
    if (!listed_[i]) continue;  // not in the list (neigh_modify include)
    const int* neighbors = list.firstneigh[i];
    for (int jj = 0; jj < list.numneigh[i]; ++jj) {
      const int j = neighbors[jj] & NEIGHMASK;
      const flashtp::Vec3 r{x[j][0] - x[i][0], x[j][1] - x[i][1], x[j][2] - x[i][2]};
      const double r_sq = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
      if (r_sq >= cutoff_sq) continue;
      if (r_sq == 0.0)
        throw flashtp::Error("atoms " + std::to_string(atom.tag[i]) + " and " + std::to_string(atom.tag[j]) +
                             " sit on top of each other");
      g.center.push_back(i);
      g.neighbor.push_back(node_of_[j]);
      g.vec.push_back(r);
    }
  }
  g.centre_start[nlocal] = g.num_edges();
  return g;
}

const flashtp::Graph& LammpsGraph::with_ghosts(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list,
                                               const std::vector<int>& species_of_type, double cutoff) {
  const int nall = atom.nlocal + atom.nghost;
  node_of_.resize(nall);
  for (int n = 0; n < nall; ++n) node_of_[n] = n;
  return build(atom, list, species_of_type, cutoff, nall);
}

const flashtp::Graph& LammpsGraph::folding_ghosts(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list,
                                                  const std::vector<int>& species_of_type, double cutoff) {
  const int nlocal = atom.nlocal, nall = atom.nlocal + atom.nghost;
  owned_.clear();
  for (int i = 0; i < nlocal; ++i) owned_[atom.tag[i]] = i;
  node_of_.resize(nall);
  for (int n = 0; n < nall; ++n) {
    const auto it = owned_.find(atom.tag[n]);
    if (it == owned_.end())
      throw flashtp::Error("ghost atom " + std::to_string(atom.tag[n]) + " has no owned copy on this rank");
    node_of_[n] = it->second;
  }
  return build(atom, list, species_of_type, cutoff, nlocal);
}

}  // namespace flashtp_lammps
