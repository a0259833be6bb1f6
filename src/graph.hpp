// The directed graph the model runs on.
//
// Nodes 0..num_local-1 are the atoms whose energy we want; nodes num_local..
// num_nodes-1 are ghosts (copies of atoms owned elsewhere: another MPI rank or
// a periodic image kept as its own node). Edge e carries a message from its
// neighbour j = neighbor[e] (the sender) to its centre i = center[e] (the
// receiver); vec[e] = r_j - r_i. Edges are sorted by centre, and only local
// atoms are centres: centre_start[i]..centre_start[i+1] are the edges of i.
#pragma once
#include <cstdint>
#include <vector>

#include "structure.hpp"

namespace flashtp {

struct Graph {
  int num_local = 0;
  int num_nodes = 0;
  std::vector<int> species;       // model species index per node
  std::vector<int> center;        // per edge
  std::vector<int> neighbor;      // per edge
  std::vector<Vec3> vec;          // per edge, r_j - r_i
  std::vector<int64_t> centre_start;  // num_local + 1 offsets into the edges

  int64_t num_edges() const { return static_cast<int64_t>(center.size()); }
};

// Throws flashtp::Error unless every edge vector is finite and nonzero (NaN
// positions, atoms on top of each other): what every engine checks per step.
// On OMP_NUM_THREADS threads, as is edge_vectors.
void check_edge_vectors(const Graph& g);

// The edge vectors as 3 numbers of T each (float or double), as the GPU takes
// them: out holds 3 num_edges(). Checks them as check_edge_vectors does, in
// the same pass (one pass over the edges is what a step's host part costs).
template <class T>
void edge_vectors(const Graph& g, T* out);

}  // namespace flashtp
