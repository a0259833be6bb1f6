#include "cuda/graph_layout.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include <omp.h>

#include "error.hpp"

namespace flashtp::cuda {
namespace {

void validate(const Graph& g, int num_species, bool have_ghost_exchange) {
  if (g.num_nodes > g.num_local && !have_ghost_exchange)
    throw Error("graph has ghost nodes but no ghost exchange was given");
  if (static_cast<int>(g.species.size()) != g.num_nodes) throw Error("graph: one species per node expected");
  if (static_cast<int64_t>(g.centre_start.size()) != g.num_local + 1 || g.centre_start.back() != g.num_edges())
    throw Error("graph: centre_start must hold num_local + 1 offsets ending at the edge count");
  if (g.num_edges() >= std::numeric_limits<int>::max()) throw Error("graph: more than 2^31 edges");
  for (int s : g.species)
    if (s < 0 || s >= num_species) throw Error("graph: species index out of range");
  for (int j : g.neighbor)
    if (j < 0 || j >= g.num_nodes) throw Error("graph: neighbour index out of range");
}

// Cut [start[0], start.back()) at atom boundaries into tiles of at most
// max_edges edges (an atom with more alone), each ending where its last chunk
// of `chunk` edges is fullest, the longer tile on a tie: a chunk costs a
// kernel the same full or not. Atoms without edges join a neighbouring tile.
void tiles_of(const std::vector<int64_t>& start, int64_t max_edges, int chunk, std::vector<int64_t>& tiles) {
  const int64_t atoms = static_cast<int64_t>(start.size()) - 1;
  tiles.assign(1, start[0]);
  for (int64_t a = 0; a < atoms;) {
    int64_t end = a + 1;
    double best = -1.0;
    for (int64_t b = a + 1; b <= atoms && (b == a + 1 || start[b] - start[a] <= max_edges); ++b) {
      const int64_t n = start[b] - start[a], chunks = (n + chunk - 1) / chunk;
      const double fill = n == 0 ? 0.0 : static_cast<double>(n) / static_cast<double>(chunks * chunk);
      if (fill >= best) best = fill, end = b;
    }
    if (start[end] > tiles.back()) tiles.push_back(start[end]);  // (not when only atoms without edges were left)
    a = end;
  }
}

}  // namespace

void layout_graph(const Graph& g, int num_species, bool have_ghost_exchange, const TileShape& shape, GraphLayout& out) {
  validate(g, num_species, have_ghost_exchange);
  // A counting sort by sender, stable, on OpenMP threads (an MD step lays out
  // a new graph): thread t counts, then places, the edges of its own run of
  // senders, reading every edge in order, so each sender's edges keep edge
  // order and no two threads write one number; the runs of the placement
  // hold about E / T edges each. sender_start[j] serves as sender j's cursor
  // while the edges are placed, which moves each entry to where the next one
  // started; shifting back by one restores the offsets.
  std::vector<int64_t>& start = out.sender_start;
  const int64_t E = g.num_edges();
  start.assign(g.num_nodes + 1, 0);
  out.sender_edges.resize(E);
  std::vector<int> first_sender;  // thread t places senders [first_sender[t], first_sender[t + 1])
#pragma omp parallel
  {
    const int T = omp_get_num_threads(), t = omp_get_thread_num();
    const int j0 = static_cast<int>(int64_t{g.num_nodes} * t / T);
    const int j1 = static_cast<int>(int64_t{g.num_nodes} * (t + 1) / T);
    for (int j : g.neighbor)
      if (j >= j0 && j < j1) ++start[j + 1];
#pragma omp barrier
#pragma omp single
    {
      std::partial_sum(start.begin(), start.end(), start.begin());
      first_sender.resize(T + 1);
      for (int k = 0; k < T; ++k)
        first_sender[k] = static_cast<int>(std::lower_bound(start.begin(), start.end() - 1, E * k / T) - start.begin());
      first_sender[T] = g.num_nodes;
    }  // (a barrier)
    const int s0 = first_sender[t], s1 = first_sender[t + 1];
    for (int64_t e = 0; e < E; ++e) {
      const int j = g.neighbor[e];
      if (j >= s0 && j < s1) out.sender_edges[start[j]++] = e;
    }
  }
  std::copy_backward(start.begin(), start.end() - 1, start.end());
  start[0] = 0;
  tiles_of(g.centre_start, shape.edges, shape.centre_chunk, out.centre_tiles);
  tiles_of(start, shape.edges, shape.sender_chunk, out.sender_tiles);
}

void batches_of(const std::vector<int64_t>& start, int64_t max_edges, std::vector<int64_t>& batches) {
  const int64_t last = static_cast<int64_t>(start.size()) - 1;
  batches.assign(1, 0);
  for (int64_t a = 1; a < last; ++a)
    if (start[a + 1] - start[batches.back()] > max_edges && start[a] > start[batches.back()]) batches.push_back(a);
  if (start.back() > start[batches.back()]) batches.push_back(last);
}

}  // namespace flashtp::cuda
