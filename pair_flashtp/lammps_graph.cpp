#include "lammps_graph.h"

#include <omp.h>

#include <algorithm>
#include <string>

#include "error.hpp"

namespace flashtp_lammps {

// Edges of the listed centres [begin, end), in centre order, into `part`;
// centre_start[i] of those centres as offsets into the part. A centre's
// neighbours within the cutoff are compacted without a branch on the cutoff
// test (which the CPU could not predict: about a third of the list is kept).
void LammpsGraph::collect(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list, double cutoff, int begin,
                          int end, Part& part) {
  const double* x = atom.x[0];  // LAMMPS keeps positions contiguous, 3 per atom
  const double cutoff_sq = cutoff * cutoff;
  part.center.clear();
  part.neighbor.clear();
  part.vec.clear();
  part.overlap = -1;
  for (int i = begin; i < end; ++i) {
    graph_.centre_start[i] = static_cast<int64_t>(part.center.size());
    if (!listed_[i]) continue;  // not in the list (neigh_modify include)
    const int* neighbors = list.firstneigh[i];
    const int candidates = list.numneigh[i];
    if (static_cast<int>(part.node.size()) < candidates) {
      part.node.resize(candidates);
      part.r.resize(candidates);
    }
    int kept = 0;
    for (int jj = 0; jj < candidates; ++jj) {
      const int j = neighbors[jj] & NEIGHMASK;
      const flashtp::Vec3 r{x[3 * j] - x[3 * i], x[3 * j + 1] - x[3 * i + 1], x[3 * j + 2] - x[3 * i + 2]};
      const double r_sq = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
      if (r_sq == 0.0) part.overlap = j;
      part.node[kept] = j;
      part.r[kept] = r;
      kept += r_sq < cutoff_sq;
    }
    if (part.overlap >= 0) {
      part.overlap_centre = i;
      return;
    }
    for (int k = 0; k < kept; ++k) {
      part.center.push_back(i);
      part.neighbor.push_back(node_of_[part.node[k]]);
      part.vec.push_back(part.r[k]);
    }
  }
}

const flashtp::Graph& LammpsGraph::build(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list,
                                         const std::vector<int>& species_of_type, double cutoff, int num_nodes) {
  const int nlocal = atom.nlocal;
  flashtp::Graph& g = graph_;
  g.num_local = nlocal;
  g.num_nodes = num_nodes;
  g.species.resize(num_nodes);
  for (int n = 0; n < static_cast<int>(node_of_.size()); ++n) g.species[node_of_[n]] = species_of_type[atom.type[n]];
  // ilist need not be 0..inum-1 in order; edges must be sorted by centre.
  listed_.assign(nlocal, 0);
  for (int ii = 0; ii < list.inum; ++ii) listed_[list.ilist[ii]] = 1;
  g.centre_start.resize(nlocal + 1);

  // Each thread takes a block of centres; the blocks' edges are joined in
  // centre order, so the graph does not depend on the number of threads.
  const int threads = omp_get_max_threads();
  if (static_cast<int>(parts_.size()) < threads) parts_.resize(threads);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int begin = static_cast<int>(int64_t(nlocal) * t / threads);
    const int end = static_cast<int>(int64_t(nlocal) * (t + 1) / threads);
    Part& part = parts_[t];
    collect(atom, list, cutoff, begin, end, part);
#pragma omp barrier
#pragma omp single
    {
      int64_t edges = 0;
      for (int p = 0; p < threads; ++p) {
        parts_[p].first = edges;
        edges += static_cast<int64_t>(parts_[p].center.size());
      }
      g.center.resize(edges);
      g.neighbor.resize(edges);
      g.vec.resize(edges);
      g.centre_start[nlocal] = edges;
    }
    std::copy(part.center.begin(), part.center.end(), g.center.begin() + part.first);
    std::copy(part.neighbor.begin(), part.neighbor.end(), g.neighbor.begin() + part.first);
    std::copy(part.vec.begin(), part.vec.end(), g.vec.begin() + part.first);
    for (int i = begin; i < end; ++i) g.centre_start[i] += part.first;
  }
  for (int p = 0; p < threads; ++p)
    if (parts_[p].overlap >= 0)
      throw flashtp::Error("atoms " + std::to_string(atom.tag[parts_[p].overlap_centre]) + " and " +
                           std::to_string(atom.tag[parts_[p].overlap]) + " sit on top of each other");
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
