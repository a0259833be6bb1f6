// Neighbour graph of a structure, built in O(N) with a cell list.
#pragma once
#include <vector>

#include "graph.hpp"
#include "structure.hpp"

namespace flashtp {

// Every ordered pair (i, j, image) with 0 < |r_j + image - r_i| < cutoff,
// periodic self-images included, as edges among the structure's own atoms
// (no ghost nodes: num_local == num_nodes == number of atoms). Works for
// orthogonal and triclinic cells, cells smaller than the cutoff, and open
// boundaries. species[k] is copied into the graph. Edges are sorted by centre,
// then by neighbour, then by image, so the graph is the same run to run.
Graph build_graph(const Structure& s, const std::vector<int>& species, double cutoff);

}  // namespace flashtp
