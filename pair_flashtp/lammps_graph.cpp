#include "lammps_graph.h"

#include <string>
#include <unordered_map>

#include "error.hpp"

namespace flashtp_lammps {
namespace {

// Edges of the full list with node_of[atom] as the graph node of each atom.
flashtp::Graph build(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list,
                     const std::vector<int>& species_of_type, double cutoff, const std::vector<int>& node_of,
                     int num_nodes) {
  const int nlocal = atom.nlocal;
  double** x = atom.x;
  flashtp::Graph g;
  g.num_local = nlocal;
  g.num_nodes = num_nodes;
  g.species.resize(num_nodes);
  for (int n = 0; n < static_cast<int>(node_of.size()); ++n) g.species[node_of[n]] = species_of_type[atom.type[n]];

  // ilist need not be 0..inum-1 in order; edges must be sorted by centre.
  std::vector<char> listed(nlocal, 0);
  for (int ii = 0; ii < list.inum; ++ii) listed[list.ilist[ii]] = 1;

  const double cutoff_sq = cutoff * cutoff;
  g.centre_start.assign(nlocal + 1, 0);
  for (int i = 0; i < nlocal; ++i) {
    g.centre_start[i] = g.num_edges();
    if (!listed[i]) continue;  // not in the list (neigh_modify include)
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
      g.neighbor.push_back(node_of[j]);
      g.vec.push_back(r);
    }
  }
  g.centre_start[nlocal] = g.num_edges();
  return g;
}

}  // namespace

flashtp::Graph graph_with_ghosts(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list,
                                 const std::vector<int>& species_of_type, double cutoff) {
  const int nall = atom.nlocal + atom.nghost;
  std::vector<int> node_of(nall);
  for (int n = 0; n < nall; ++n) node_of[n] = n;
  return build(atom, list, species_of_type, cutoff, node_of, nall);
}

flashtp::Graph graph_folding_ghosts(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list,
                                    const std::vector<int>& species_of_type, double cutoff) {
  const int nlocal = atom.nlocal, nall = atom.nlocal + atom.nghost;
  std::unordered_map<LAMMPS_NS::tagint, int> owned;
  owned.reserve(nlocal);
  for (int i = 0; i < nlocal; ++i) owned[atom.tag[i]] = i;
  std::vector<int> node_of(nall);
  for (int n = 0; n < nall; ++n) {
    const auto it = owned.find(atom.tag[n]);
    if (it == owned.end())
      throw flashtp::Error("ghost atom " + std::to_string(atom.tag[n]) + " has no owned copy on this rank");
    node_of[n] = it->second;
  }
  return build(atom, list, species_of_type, cutoff, node_of, nlocal);
}

}  // namespace flashtp_lammps
