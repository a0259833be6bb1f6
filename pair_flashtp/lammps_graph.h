// flashtp graphs from a LAMMPS full neighbour list.
//
// Centres are the owned atoms, in LAMMPS order; an edge (i, j) is kept for
// every neighbour j of i in the list with 0 < |r_j - r_i| < cutoff (the list
// holds everything within cutoff + skin). Only positions are read, so the
// graph is valid for orthogonal and triclinic boxes alike.
#pragma once
#include <unordered_map>
#include <vector>

#include "atom.h"
#include "graph.hpp"
#include "neigh_list.h"

namespace flashtp_lammps {

// Builds the graph of every step into the same buffers, so that after the
// first step no memory is allocated (or touched for the first time), on
// OMP_NUM_THREADS threads.
class LammpsGraph {
 public:
  // Nodes are LAMMPS atoms 0..nlocal+nghost-1: owned atoms, then ghosts, whose
  // features the pair exchanges per layer. pair_style flashtp on several ranks.
  const flashtp::Graph& with_ghosts(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list,
                                    const std::vector<int>& species_of_type, double cutoff);

  // Nodes are the owned atoms only: every ghost is folded onto the owned atom
  // with its tag, as SevenNet's serial pair_e3gnn does. Exact only when every
  // ghost is an image of an owned atom, i.e. on one MPI rank: pair_style
  // flashtp there, and pair_style flashtp/torch.
  const flashtp::Graph& folding_ghosts(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list,
                                       const std::vector<int>& species_of_type, double cutoff);

 private:
  // One thread's edges, and its scratch for one centre's candidates.
  struct Part {
    std::vector<int> center, neighbor, node;
    std::vector<flashtp::Vec3> vec, r;
    int64_t first = 0;                      // where its edges start in the graph
    int overlap = -1, overlap_centre = -1;  // atoms at distance 0, if any
  };

  // Edges of the list with node_of_[atom] as the graph node of each atom.
  const flashtp::Graph& build(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list,
                              const std::vector<int>& species_of_type, double cutoff, int num_nodes);
  void collect(const LAMMPS_NS::Atom& atom, const LAMMPS_NS::NeighList& list, double cutoff, int begin, int end,
               Part& part);

  flashtp::Graph graph_;
  std::vector<Part> parts_;
  std::vector<int> node_of_;
  std::vector<char> listed_;
  std::unordered_map<LAMMPS_NS::tagint, int> owned_;
};

}  // namespace flashtp_lammps
