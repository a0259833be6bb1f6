#include "cuda/graph_layout.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

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
  check_edge_vectors(g);
}

// Cut [start[0], start.back()) at atom boundaries into pieces of about `target`.
void tiles_of(const std::vector<int64_t>& start, int64_t target, std::vector<int64_t>& tiles) {
  tiles.assign(1, start.front());
  for (size_t a = 1; a + 1 < start.size(); ++a)
    if (start[a + 1] - tiles.back() > target && start[a] > tiles.back()) tiles.push_back(start[a]);
  if (start.back() > tiles.back()) tiles.push_back(start.back());
}

}  // namespace

void layout_graph(const Graph& g, int num_species, bool have_ghost_exchange, int64_t tile_edges, GraphLayout& out) {
  validate(g, num_species, have_ghost_exchange);
  // A counting sort by sender, stable: sender_start[j] serves as sender j's
  // cursor while the edges are placed, which moves each entry to where the
  // next one started; shifting back by one restores the offsets.
  std::vector<int64_t>& start = out.sender_start;
  start.assign(g.num_nodes + 1, 0);
  for (int j : g.neighbor) ++start[j + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  out.sender_edges.resize(g.num_edges());
  for (int64_t e = 0; e < g.num_edges(); ++e) out.sender_edges[start[g.neighbor[e]]++] = e;
  std::copy_backward(start.begin(), start.end() - 1, start.end());
  start[0] = 0;
  tiles_of(g.centre_start, tile_edges, out.centre_tiles);
  tiles_of(start, tile_edges, out.sender_tiles);
}

}  // namespace flashtp::cuda
