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
  const int64_t E = g.num_edges();
  const int N = g.num_nodes;
  tiles_of(g.centre_start, shape.centre_edges, shape.centre_chunk, out.centre_tiles);
  // The sender tiles: whole waves, T tiles, tile b of the senders j = b
  // (mod T), ranked from first(b) on. A wave's blocks then finish together
  // and the last wave is as full as the others, and a tile's chunks run
  // across its senders, the last one alone part empty (runs of senders
  // within 256 edges filled 95% of the chunks of 32 and made 9.0 and 4.6
  // waves of sevennet0_arch's 12,000 and l3i5_arch's 6,144 atoms).
  const int64_t wave = shape.sender_slots * shape.sender_edges;
  const int64_t T = std::max<int64_t>(1, (E + wave - 1) / wave) * shape.sender_slots;
  const auto first = [&](int64_t b) { return static_cast<int>(b * (N / T) + std::min<int64_t>(b, N % T)); };
  out.sender_rank.resize(N);
  for (int j = 0; j < N; ++j) out.sender_rank[j] = first(j % T) + static_cast<int>(j / T);
  // A counting sort by rank, stable, on OpenMP threads (an MD step lays out
  // a new graph): thread t counts, then places, the edges of its own run of
  // ranks, reading every edge in order, so each sender's edges keep edge
  // order and no two threads write one number; the runs of the placement
  // hold about E / threads edges each. sender_start[r] serves as the cursor
  // of rank r while the edges are placed, which moves each entry to where the
  // next one started; shifting back by one restores the offsets.
  const std::vector<int>& rank = out.sender_rank;
  std::vector<int64_t>& start = out.sender_start;
  start.assign(N + 1, 0);
  out.sender_edges.resize(E);
  std::vector<int> first_rank;  // thread t places ranks [first_rank[t], first_rank[t + 1])
#pragma omp parallel
  {
    const int threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int r0 = static_cast<int>(int64_t{N} * t / threads), r1 = static_cast<int>(int64_t{N} * (t + 1) / threads);
    for (int j : g.neighbor)
      if (rank[j] >= r0 && rank[j] < r1) ++start[rank[j] + 1];
#pragma omp barrier
#pragma omp single
    {
      std::partial_sum(start.begin(), start.end(), start.begin());
      first_rank.resize(threads + 1);
      for (int k = 0; k < threads; ++k)
        first_rank[k] =
            static_cast<int>(std::lower_bound(start.begin(), start.end() - 1, E * k / threads) - start.begin());
      first_rank[threads] = N;
    }  // (a barrier)
    const int s0 = first_rank[t], s1 = first_rank[t + 1];
    for (int64_t e = 0; e < E; ++e) {
      const int r = rank[g.neighbor[e]];
      if (r >= s0 && r < s1) out.sender_edges[start[r]++] = e;
    }
  }
  std::copy_backward(start.begin(), start.end() - 1, start.end());
  start[0] = 0;
  out.sender_tiles.assign(1, 0);
  for (int64_t b = 1; b <= T; ++b)
    if (start[first(b)] > out.sender_tiles.back()) out.sender_tiles.push_back(start[first(b)]);
}

void batches_of(const std::vector<int64_t>& start, int64_t max_edges, int64_t group, std::vector<int64_t>& batches) {
  const int64_t last = static_cast<int64_t>(start.size()) - 1;
  batches.assign(1, 0);
  for (int64_t a = group; a < last; a += group) {
    const int64_t next = std::min(a + group, last);
    if (start[next] - start[batches.back()] > max_edges && start[a] > start[batches.back()]) batches.push_back(a);
  }
  if (start.back() > start[batches.back()]) batches.push_back(last);
}

}  // namespace flashtp::cuda
