// layout_graph (src/cuda/graph_layout.cpp): the edges grouped by sender, each
// sender's in edge order, whatever the number of OpenMP threads; the centre
// tiles cut at atom boundaries where the last chunk of each is fullest, the
// sender tiles interleaved in whole waves.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "cuda/graph_layout.hpp"

namespace flashtp::cuda {
namespace {

// A graph of n atoms and ghosts with random senders, a few edges per centre
// (some none), and some nodes that send nothing.
Graph random_graph(int n, int ghosts, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> degree(0, 40), sender(0, n + ghosts - 1);
  Graph g;
  g.num_local = n;
  g.num_nodes = n + ghosts;
  g.species.assign(g.num_nodes, 0);
  g.centre_start.push_back(0);
  for (int i = 0; i < n; ++i) {
    for (int k = degree(rng); k > 0; --k) {
      g.center.push_back(i);
      g.neighbor.push_back(sender(rng) % (i % 7 == 0 ? 5 : g.num_nodes));  // crowd a few senders
      g.vec.push_back({1.0, 0.5, -0.25});
    }
    g.centre_start.push_back(g.num_edges());
  }
  return g;
}

TEST(GraphLayout, EdgesGroupedBySenderInEdgeOrderOnAnyThreads) {
  const Graph g = random_graph(3000, 700, 5);
  std::vector<std::vector<int64_t>> by_sender(g.num_nodes);
  for (int64_t e = 0; e < g.num_edges(); ++e) by_sender[g.neighbor[e]].push_back(e);

  const int threads = omp_get_max_threads();
  for (const int T : {1, 2, 3, 8}) {
    omp_set_num_threads(T);
    GraphLayout layout;
    layout_graph(g, 1, true, {256, 64, 256, 132}, layout);
    ASSERT_EQ(layout.sender_start.size(), static_cast<size_t>(g.num_nodes + 1));
    ASSERT_EQ(layout.sender_edges.size(), static_cast<size_t>(g.num_edges()));
    ASSERT_EQ(layout.sender_rank.size(), static_cast<size_t>(g.num_nodes));
    for (int j = 0; j < g.num_nodes; ++j) {
      const int r = layout.sender_rank[j];
      const std::vector<int64_t> placed(layout.sender_edges.begin() + layout.sender_start[r],
                                        layout.sender_edges.begin() + layout.sender_start[r + 1]);
      ASSERT_EQ(placed, by_sender[j]) << "sender " << j << ", " << T << " threads";
    }
    // tiles: from the first edge to the last, at atom boundaries
    using Offsets = const std::vector<int64_t>;
    for (const auto& [tiles, start] : {std::pair<Offsets*, Offsets*>{&layout.centre_tiles, &g.centre_start},
                                       std::pair<Offsets*, Offsets*>{&layout.sender_tiles, &layout.sender_start}}) {
      ASSERT_GE(tiles->size(), 2u);
      EXPECT_EQ(tiles->front(), 0);
      EXPECT_EQ(tiles->back(), g.num_edges());
      for (const int64_t cut : *tiles)
        EXPECT_TRUE(std::binary_search(start->begin(), start->end(), cut)) << "tile cut " << cut << " inside an atom";
    }
  }
  omp_set_num_threads(threads);
}

// A chain of centres with the given numbers of edges (no ghosts).
Graph chain(const std::vector<int>& degrees) {
  Graph g;
  g.num_local = g.num_nodes = static_cast<int>(degrees.size());
  g.species.assign(g.num_nodes, 0);
  g.centre_start.push_back(0);
  for (int i = 0; i < g.num_nodes; ++i) {
    for (int k = 0; k < degrees[i]; ++k) {
      g.center.push_back(i);
      g.neighbor.push_back((i + 1) % g.num_nodes);
      g.vec.push_back({1.0, 0.0, 0.0});
    }
    g.centre_start.push_back(g.num_edges());
  }
  return g;
}

// Centre tiles end where their last chunk is fullest: centres of 16 | 20, 30
// | 100 | 0, 0, 5, 0 edges within 64 in chunks of 16 (16 fills one; 16 + 20
// would fill 36 of 48). An atom over the limit is a tile alone; atoms without
// edges join a neighbouring tile.
TEST(GraphLayout, CentreTilesEndWhereTheLastChunkIsFullest) {
  GraphLayout layout;
  layout_graph(chain({16, 20, 30, 100, 0, 0, 5, 0}), 1, false, {64, 16, 64, 1}, layout);
  EXPECT_EQ(layout.centre_tiles, (std::vector<int64_t>{0, 16, 66, 166, 171}));
  // on a random graph, no cut within the limit fills a tile's last chunk more
  const Graph g = random_graph(3000, 700, 13);
  layout_graph(g, 1, true, {256, 64, 256, 132}, layout);
  const auto& start = g.centre_start;
  const auto fill = [](int64_t n) { return n == 0 ? 0.0 : double(n) / double((n + 63) / 64 * 64); };
  for (size_t t = 0; t + 1 < layout.centre_tiles.size(); ++t) {
    const int64_t first = layout.centre_tiles[t], n = layout.centre_tiles[t + 1] - first;
    EXPECT_TRUE(n <= 256 || *std::upper_bound(start.begin(), start.end(), first) - first == n) << "tile " << t;
    for (auto b = std::upper_bound(start.begin(), start.end(), first); b != start.end() && *b - first <= 256; ++b)
      EXPECT_LE(fill(*b - first), fill(n)) << "tile " << t << " of " << n << " edges could end at " << *b;
  }
}

// Sender tiles interleave in whole waves: the chain's 171 edges for 1 block
// within about 64 edges a tile make 3 tiles, of senders 0, 3, 6 | 1, 4, 7 |
// 2, 5 (sender i + 1 takes centre i's edges: 0 + 30 + 0 | 16 + 100 + 5 | 20 +
// 0 edges), ranked in that order.
TEST(GraphLayout, SenderTilesInterleaveInWholeWaves) {
  GraphLayout layout;
  layout_graph(chain({16, 20, 30, 100, 0, 0, 5, 0}), 1, false, {64, 16, 64, 1}, layout);
  EXPECT_EQ(layout.sender_rank, (std::vector<int>{0, 3, 6, 1, 4, 7, 2, 5}));
  EXPECT_EQ(layout.sender_tiles, (std::vector<int64_t>{0, 30, 151, 171}));
  // a random graph of about 60,000 edges: 3 waves of 100 tiles of about 256
  // edges (25,600 edges a wave), tile b of the senders j = b (mod 300), in order
  const Graph g = random_graph(3000, 700, 13);
  layout_graph(g, 1, true, {256, 64, 256, 100}, layout);
  ASSERT_GT(g.num_edges(), 2 * 25600);
  ASSERT_LE(g.num_edges(), 3 * 25600);
  ASSERT_EQ(layout.sender_tiles.size(), 301u);
  for (int j = 0; j < g.num_nodes; ++j) {
    const int r = layout.sender_rank[j];
    if (layout.sender_start[r + 1] == layout.sender_start[r]) continue;  // sends nothing: no tile to check
    const auto tile = std::upper_bound(layout.sender_tiles.begin(), layout.sender_tiles.end(), layout.sender_start[r]);
    EXPECT_EQ(tile - layout.sender_tiles.begin() - 1, j % 300) << "sender " << j;
    if (j >= 300) EXPECT_EQ(r, layout.sender_rank[j - 300] + 1) << "sender " << j;
  }
}

// Batches of whole groups of tiles (a wave): from the first to the last,
// each within the limit unless it is one group, and no batch could have taken
// its next group.
TEST(GraphLayout, BatchesOfWholeGroupsOfTilesWithinTheLimit) {
  const Graph g = random_graph(3000, 700, 9);
  GraphLayout layout;
  layout_graph(g, 1, true, {256, 64, 64, 7}, layout);
  const auto& tiles = layout.sender_tiles;
  const int64_t count = static_cast<int64_t>(tiles.size()) - 1;
  for (const int64_t group : {int64_t{1}, int64_t{7}}) {
    for (const int64_t limit : {int64_t{1}, int64_t{300}, int64_t{1000}, int64_t{5000}, g.num_edges()}) {
      std::vector<int64_t> batches;
      batches_of(tiles, limit, group, batches);
      ASSERT_GE(batches.size(), 2u);
      EXPECT_EQ(batches.front(), 0);
      EXPECT_EQ(batches.back(), count);
      for (size_t b = 0; b + 1 < batches.size(); ++b) {
        const int64_t t0 = batches[b], t1 = batches[b + 1];
        ASSERT_LT(t0, t1);
        if (b + 2 < batches.size()) EXPECT_EQ(t1 % group, 0) << "batch " << b << " ends inside a group";
        if (t1 - t0 > group) EXPECT_LE(tiles[t1] - tiles[t0], limit) << "batch " << b;
        if (b + 2 < batches.size())
          EXPECT_GT(tiles[std::min(t1 + group, count)] - tiles[t0], limit) << "batch " << b << " stopped early";
      }
      if (limit == g.num_edges()) EXPECT_EQ(batches.size(), 2u);
    }
  }
  std::vector<int64_t> none;
  batches_of({0}, 100, 4, none);
  EXPECT_EQ(none, std::vector<int64_t>{0});
}

}  // namespace
}  // namespace flashtp::cuda
