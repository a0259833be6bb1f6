// Host-side preparation of a graph for the fused kernels: checks, the edges
// grouped by sender (the backward pass's reverse index), and the tiles of
// whole atoms that thread blocks take.
#pragma once
#include <cstdint>
#include <vector>

#include "graph.hpp"

namespace flashtp::cuda {

struct GraphLayout {
  std::vector<int64_t> sender_start;  // num_nodes + 1 offsets into sender_edges
  std::vector<int64_t> sender_edges;  // edge ids grouped by sender, in edge order within a sender
  std::vector<int64_t> centre_tiles;  // edge offsets: tile b is [centre_tiles[b], centre_tiles[b+1])
  std::vector<int64_t> sender_tiles;  // offsets into sender_edges
};

// The tiles' shape: at most `edges` edges a tile (an atom with more is a tile
// alone), which its kernel takes in chunks of a fixed number of edges, the
// forward's over centre tiles and the backward's over sender tiles.
struct TileShape {
  int64_t edges;
  int centre_chunk, sender_chunk;
};

// Throws flashtp::Error on a graph the engine cannot take (the CPU engine's
// checks of its topology; the edge vectors are checked where they are
// converted, edge_vectors). Tiles hold whole atoms. Fills `out` in place,
// reusing its buffers (a new layout every MD step).
void layout_graph(const Graph& g, int num_species, bool have_ghost_exchange, const TileShape& shape, GraphLayout& out);

// Items given by edge offsets (atoms, or GraphLayout's tiles) grouped into
// batches of whole items, each of at most max_edges edges unless one item
// alone holds more: batch k is items [batches[k], batches[k + 1]).
void batches_of(const std::vector<int64_t>& start, int64_t max_edges, std::vector<int64_t>& batches);

}  // namespace flashtp::cuda
