// Host-side preparation of a graph for the fused kernels: checks, the edges
// grouped by sender (the backward pass's reverse index), and the tiles of
// whole atoms that thread blocks take.
#pragma once
#include <cstdint>
#include <vector>

#include "graph.hpp"

namespace flashtp::cuda {

// The backward's senders come in an order of their own: sender j is the
// sender_rank[j]-th, and of T sender tiles, tile b holds senders b, b + T,
// b + 2T, ... in this order, so that the blocks running at once work on one
// stretch of about T atoms, whose neighbours' rows they gather, however long
// their tiles.
struct GraphLayout {
  std::vector<int> sender_rank;       // num_nodes ranks
  std::vector<int64_t> sender_start;  // num_nodes + 1 offsets into sender_edges, by rank
  std::vector<int64_t> sender_edges;  // edge ids grouped by sender, senders by rank, in edge order within a sender
  std::vector<int64_t> centre_tiles;  // edge offsets: tile b is [centre_tiles[b], centre_tiles[b+1])
  std::vector<int64_t> sender_tiles;  // offsets into sender_edges
};

// The tiles' shape, a block a tile. Centre tiles (the forward's kernels):
// runs of centres of at most centre_edges edges (an atom with more is a tile
// alone), each ending where its last chunk of centre_chunk edges is fullest.
// Sender tiles (the backward's): whole waves of the sender_slots blocks the
// backward runs at once, as few as keep a tile within about sender_edges
// edges, interleaved (GraphLayout).
struct TileShape {
  int64_t centre_edges;
  int centre_chunk;
  int64_t sender_edges;
  int sender_slots;
};

// Throws flashtp::Error on a graph the engine cannot take (the CPU engine's
// checks of its topology; the edge vectors are checked where they are
// converted, edge_vectors). Tiles hold whole atoms. Fills `out` in place,
// reusing its buffers (a new layout every MD step).
void layout_graph(const Graph& g, int num_species, bool have_ghost_exchange, const TileShape& shape, GraphLayout& out);

// Items given by edge offsets (atoms, or GraphLayout's tiles) grouped into
// batches of whole groups of `group` items (the last group may be short),
// each of at most max_edges edges unless one group alone holds more: batch k
// is items [batches[k], batches[k + 1]).
void batches_of(const std::vector<int64_t>& start, int64_t max_edges, int64_t group, std::vector<int64_t>& batches);

}  // namespace flashtp::cuda
