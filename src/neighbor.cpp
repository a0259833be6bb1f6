// Neighbour graph with a cell list in fractional coordinates.
//
// Geometry. Atoms are binned in a frame of three basis vectors b_0, b_1, b_2:
// the lattice vector on each periodic axis, and on each open axis a unit
// vector orthogonal to the others (the cell vector of an open axis plays no
// role, it may be zero). With the dual vectors g_d (b_a . g_d = delta_ad), an
// atom's fractional coordinates are s_d = (r - origin) . g_d. Two points closer
// than rc differ in s_d by less than rc |g_d| = rc / w_d, where
// w_d = V / |b_{d+1} x b_{d+2}| is the width of the cell perpendicular to the
// other two vectors. So bins of fractional width h_d hold every neighbour of
// an atom within reach_d = ceil(rc |g_d| / h_d) bins on either side.
//
// Periodic axes. Atom i is wrapped into the cell for binning: k_i = floor(s_i)
// (integer per periodic axis), t_i = s_i - k_i in [0, 1). The search walks
// unwrapped bin indices u = c_i - reach .. c_i + reach; u splits into a bin of
// the cell, u mod bins, and a lattice shift m = floor(u / bins), so a cell
// smaller than the cutoff is searched over as many images as it takes (a
// single bin and reach > 1). Atom j found in bin u is the image
// r_j + n . cell with n = m - k_j + k_i: its fractional distance from i is
// t_j + m - t_i. The edge vector is computed from the positions as given,
// r_j + n . cell - r_i, so atoms outside the box are handled exactly. Each
// (j, n) has one m, hence one u: no pair is found twice.
//
// Open axes: bins span the atoms' bounding box (t_i = s_i, k_i = 0), with no
// images.
#include "neighbor.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "error.hpp"

namespace flashtp {
namespace {

using Mat3 = std::array<Vec3, 3>;

// Bins per cutoff length: bins of width >= rc/2 and a reach of 2 scan a
// smaller volume than bins of width >= rc and a reach of 1.
constexpr double kBinsPerCutoff = 2.0;
// At most this many bins per atom (plus a few), so sparse boxes stay O(N).
constexpr double kMaxBinsPerAtom = 8.0;
// Relative widening of the search, against rounding at the bin edges.
constexpr double kSearchMargin = 1e-8;
// A cell this many times thinner than the cutoff is refused rather than searched.
constexpr double kMaxReach = 1000;
// Fractional coordinates beyond this are rejected (the integer shifts would overflow).
constexpr double kMaxFractional = 1e9;

double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }

// The residual of v after removing its projection on the orthonormal set q.
Vec3 orthogonal_part(Vec3 v, const std::vector<Vec3>& q) {
  for (const Vec3& e : q) {
    const double p = dot(v, e);
    for (int a = 0; a < 3; ++a) v[a] -= p * e[a];
  }
  return v;
}

// The binning frame b_0, b_1, b_2 (rows), see the top of the file.
Mat3 binning_frame(const Structure& s) {
  Mat3 frame{};
  std::vector<Vec3> span;  // orthonormal basis of the vectors chosen so far
  auto add = [&](int d, const Vec3& v) {
    frame[d] = v;
    const Vec3 r = orthogonal_part(v, span);
    const double n = norm(r);
    span.push_back({r[0] / n, r[1] / n, r[2] / n});
  };
  for (int d = 0; d < 3; ++d) {
    if (!s.pbc[d]) continue;
    const Vec3& v = s.cell[d];
    if (!(norm(orthogonal_part(v, span)) > 1e-10 * norm(v)))
      throw Error("build_graph: the periodic lattice vectors are zero or linearly dependent");
    add(d, v);
  }
  static const Vec3 kAxes[3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  for (int d = 0; d < 3; ++d) {
    if (s.pbc[d]) continue;
    // The Cartesian axis least inside the span so far, made orthogonal to it.
    Vec3 best{};
    for (const Vec3& e : kAxes) {
      const Vec3 r = orthogonal_part(e, span);
      if (norm(r) > norm(best)) best = r;
    }
    const double n = norm(best);
    add(d, {best[0] / n, best[1] / n, best[2] / n});
  }
  return frame;
}

// Dual vectors g_d (rows): g_0 = (b_1 x b_2) / V, and cyclically.
Mat3 dual_frame(const Mat3& b) {
  const double volume = dot(b[0], cross(b[1], b[2]));
  if (!(std::abs(volume) > 1e-12 * norm(b[0]) * norm(b[1]) * norm(b[2])))
    throw Error("build_graph: the cell is degenerate (zero volume)");
  Mat3 g;
  for (int d = 0; d < 3; ++d) {
    const Vec3 c = cross(b[(d + 1) % 3], b[(d + 2) % 3]);
    for (int a = 0; a < 3; ++a) g[d][a] = c[a] / volume;
  }
  return g;
}

int floor_div(int u, int n) { return u >= 0 ? u / n : -((-u + n - 1) / n); }

// The bin grid along one axis of the frame.
struct Axis {
  bool periodic = true;
  double lo = 0;     // fractional coordinate of the grid's lower edge
  double extent = 1; // fractional length the grid covers (1 on a periodic axis)
  int bins = 1;
  int reach = 0;     // bins to search on either side

  int bin_of(double t) const {
    const int b = static_cast<int>(std::floor((t - lo) / extent * bins));
    return std::clamp(b, 0, bins - 1);
  }
};

// Atoms sorted into bins; finds every neighbour of an atom.
class CellList {
 public:
  CellList(const Structure& s, double cutoff) : s_(s), cutoff2_(cutoff * cutoff) {
    for (int d = 0; d < 3; ++d) cell_[d] = s.pbc[d] ? s.cell[d] : Vec3{0, 0, 0};
    const Mat3 g = dual_frame(binning_frame(s));
    const auto t = wrap(g);
    size_grid(g, cutoff, t);
    sort_into_bins(t);
  }

  // Calls visit(j, n, vec) for every j and lattice shift n (zero on open axes)
  // with 0 < |vec| < cutoff, vec = r_j + n . cell - r_i.
  //
  // Candidates are screened on wrapped positions, w_j + m . cell - w_i (the
  // same vector up to rounding, read from memory in bin order); those that
  // pass are computed again exactly from the positions as given.
  template <class Visit>
  void for_each_neighbor(int i, Visit&& visit) const {
    const Vec3& ri = s_.positions[i];
    const Vec3 wi = wrapped_position(i);
    std::array<int, 3> lo, hi, w, m;
    for (int d = 0; d < 3; ++d) window(d, bin_[i][d], lo[d], hi[d]);
    for (int u0 = lo[0]; u0 <= hi[0]; ++u0) {
      split(0, u0, w, m);
      for (int u1 = lo[1]; u1 <= hi[1]; ++u1) {
        split(1, u1, w, m);
        // Along axis 2, the bins up to the cell's edge share one shift m_2 and
        // their atoms are consecutive slots: one run per shift.
        for (int u2 = lo[2]; u2 <= hi[2];) {
          split(2, u2, w, m);
          const int last = std::min(hi[2], u2 + axis_[2].bins - 1 - w[2]);
          const int64_t begin = bin_start_[flat(w)];
          w[2] += last - u2;
          const int64_t end = bin_start_[flat(w) + 1];
          u2 = last + 1;
          const Vec3 offset = lattice(m, wi);
          for (int64_t k = begin; k < end; ++k) {
            const Vec3& wj = slot_position_[k];
            const Vec3 screen{wj[0] + offset[0], wj[1] + offset[1], wj[2] + offset[2]};
            if (!(dot(screen, screen) < screen2_)) continue;
            const int j = slot_atom_[k];
            std::array<int, 3> image;
            for (int d = 0; d < 3; ++d) image[d] = m[d] - shift_[j][d] + shift_[i][d];
            const Vec3 vec = lattice(image, ri, s_.positions[j]);
            const double r2 = dot(vec, vec);
            if (r2 > 0 && r2 < cutoff2_) visit(j, image, vec);
          }
        }
      }
    }
  }

 private:
  // Fractional coordinates t of every atom, periodic ones wrapped into [0, 1)
  // with the integer shift k (shift_); throws for non-finite positions.
  std::vector<Vec3> wrap(const Mat3& g) {
    const size_t n = s_.positions.size();
    std::vector<Vec3> t(n);
    shift_.assign(n, {0, 0, 0});
    for (size_t i = 0; i < n; ++i) {
      Vec3 r;
      for (int a = 0; a < 3; ++a) r[a] = s_.positions[i][a] - s_.origin[a];
      for (int d = 0; d < 3; ++d) {
        const double f = dot(r, g[d]);
        if (!(std::abs(f) < kMaxFractional))
          throw Error("build_graph: atom " + std::to_string(i) + " (tag " +
                      (i < s_.tags.size() ? std::to_string(s_.tags[i]) : std::string("?")) +
                      ") has a non-finite position or lies far outside the cell");
        const double k = s_.pbc[d] ? std::floor(f) : 0.0;
        shift_[i][d] = static_cast<int>(k);
        t[i][d] = f - k;
      }
    }
    return t;
  }

  // About kBinsPerCutoff bins per cutoff of perpendicular width (at most
  // kMaxBinsPerAtom per atom in all), and the reach that covers the cutoff.
  void size_grid(const Mat3& g, double cutoff, const std::vector<Vec3>& t) {
    for (int d = 0; d < 3; ++d) {
      Axis& ax = axis_[d];
      ax.periodic = s_.pbc[d];
      if (!ax.periodic) {
        const auto [lo, hi] = std::minmax_element(t.begin(), t.end(), [d](const Vec3& x, const Vec3& y) { return x[d] < y[d]; });
        ax.lo = (*lo)[d];
        ax.extent = std::max((*hi)[d] - (*lo)[d], cutoff * norm(g[d]));  // at least one cutoff across
      }
      const double cutoffs_across = ax.extent / (cutoff * norm(g[d]));  // perpendicular width / rc
      // (at most 1e6 per axis keeps it an int; the total is capped below)
      ax.bins = static_cast<int>(std::clamp(std::floor(kBinsPerCutoff * cutoffs_across), 1.0, 1e6));
    }
    const double max_bins = kMaxBinsPerAtom * static_cast<double>(t.size()) + 64;
    for (double total; (total = double(axis_[0].bins) * axis_[1].bins * axis_[2].bins) > max_bins;) {
      const double f = std::cbrt(total / max_bins);
      for (Axis& ax : axis_) ax.bins = std::max(1, static_cast<int>(ax.bins / f));
    }
    for (int d = 0; d < 3; ++d) {
      Axis& ax = axis_[d];
      const double bin_width = ax.extent / ax.bins;
      double reach = std::ceil(cutoff * norm(g[d]) * (1 + kSearchMargin) / bin_width);
      if (!ax.periodic) reach = std::min(reach, ax.bins - 1.0);
      if (reach > kMaxReach)
        throw Error("build_graph: the cell is too thin for the cutoff (more than " + std::to_string(int(kMaxReach)) + " images per side)");
      ax.reach = static_cast<int>(reach);
    }
    screen2_ = cutoff2_ * (1 + kSearchMargin);
  }

  // Counting sort of the atoms by bin; slots hold them in bin order.
  void sort_into_bins(const std::vector<Vec3>& t) {
    const size_t n = t.size();
    bin_.resize(n);
    bin_start_.assign(static_cast<size_t>(axis_[0].bins) * axis_[1].bins * axis_[2].bins + 1, 0);
    for (size_t i = 0; i < n; ++i) {
      for (int d = 0; d < 3; ++d) bin_[i][d] = axis_[d].bin_of(t[i][d]);
      ++bin_start_[flat(bin_[i]) + 1];
    }
    for (size_t b = 1; b < bin_start_.size(); ++b) bin_start_[b] += bin_start_[b - 1];
    slot_atom_.resize(n);
    slot_position_.resize(n);
    std::vector<int64_t> fill(bin_start_.begin(), bin_start_.end() - 1);
    for (size_t i = 0; i < n; ++i) {
      const int64_t k = fill[flat(bin_[i])]++;
      slot_atom_[k] = static_cast<int>(i);
      slot_position_[k] = wrapped_position(static_cast<int>(i));
    }
  }

  // w_i = r_i - k_i . cell, the atom moved into the cell.
  Vec3 wrapped_position(int i) const {
    const std::array<int, 3> minus{-shift_[i][0], -shift_[i][1], -shift_[i][2]};
    return lattice(minus, Vec3{0, 0, 0}, s_.positions[i]);
  }

  // to + n . cell - from (n is zero on open axes).
  Vec3 lattice(const std::array<int, 3>& n, const Vec3& from, const Vec3& to = Vec3{0, 0, 0}) const {
    Vec3 v;
    for (int a = 0; a < 3; ++a) v[a] = to[a] + n[0] * cell_[0][a] + n[1] * cell_[1][a] + n[2] * cell_[2][a] - from[a];
    return v;
  }

  // The unwrapped bin indices within reach of bin b: all of them on a
  // periodic axis, those on the grid on an open one.
  void window(int d, int b, int& lo, int& hi) const {
    const Axis& ax = axis_[d];
    lo = b - ax.reach;
    hi = b + ax.reach;
    if (!ax.periodic) {
      lo = std::max(lo, 0);
      hi = std::min(hi, ax.bins - 1);
    }
  }

  // Splits the unwrapped bin index u into a bin of the grid, w[d], and a
  // lattice shift, m[d] (zero for u on the grid).
  void split(int d, int u, std::array<int, 3>& w, std::array<int, 3>& m) const {
    m[d] = floor_div(u, axis_[d].bins);
    w[d] = u - m[d] * axis_[d].bins;
  }

  int64_t flat(const std::array<int, 3>& b) const {
    return (static_cast<int64_t>(b[0]) * axis_[1].bins + b[1]) * axis_[2].bins + b[2];
  }

  const Structure& s_;
  Mat3 cell_;                              // lattice vectors, zero on open axes
  double cutoff2_;
  double screen2_ = 0;                     // cutoff2_ widened for the screening
  std::array<Axis, 3> axis_;
  std::vector<std::array<int, 3>> shift_;  // k_i per atom (zero on open axes)
  std::vector<std::array<int, 3>> bin_;    // bin per atom
  std::vector<int64_t> bin_start_;         // slots bin_start_[b] .. bin_start_[b+1] hold bin b
  std::vector<int> slot_atom_;             // atom in each slot
  std::vector<Vec3> slot_position_;        // its wrapped position w
};

struct Found {
  int j;
  std::array<int, 3> image;
  Vec3 vec;
  bool operator<(const Found& o) const { return std::tie(j, image) < std::tie(o.j, o.image); }
};

}  // namespace

Graph build_graph(const Structure& s, const std::vector<int>& species, double cutoff) {
  if (!(cutoff > 0) || !std::isfinite(cutoff)) throw Error("build_graph: the cutoff must be positive and finite");
  const int n = static_cast<int>(s.positions.size());
  if (species.size() != s.positions.size())
    throw Error("build_graph: " + std::to_string(species.size()) + " species for " + std::to_string(n) + " atoms");

  Graph g;
  g.num_local = g.num_nodes = n;
  g.species = species;
  g.centre_start.assign(n + 1, 0);
  if (n == 0) return g;
  const CellList cells(s, cutoff);

  // Pass 1 counts the edges of each centre, pass 2 writes them in place, each
  // centre's sorted by (neighbour, image): the same graph for any thread count,
  // and no buffer beyond the graph itself.
#pragma omp parallel for schedule(dynamic, 256)
  for (int i = 0; i < n; ++i) {
    int64_t count = 0;
    cells.for_each_neighbor(i, [&](int, const std::array<int, 3>&, const Vec3&) { ++count; });
    g.centre_start[i + 1] = count;
  }
  for (int i = 0; i < n; ++i) g.centre_start[i + 1] += g.centre_start[i];

  const int64_t edges = g.centre_start[n];
  g.center.resize(edges);
  g.neighbor.resize(edges);
  g.vec.resize(edges);
#pragma omp parallel
  {
    std::vector<Found> found;
#pragma omp for schedule(dynamic, 256)
    for (int i = 0; i < n; ++i) {
      found.clear();
      cells.for_each_neighbor(i, [&](int j, const std::array<int, 3>& image, const Vec3& vec) { found.push_back({j, image, vec}); });
      std::sort(found.begin(), found.end());
      int64_t e = g.centre_start[i];
      for (const Found& f : found) {
        g.center[e] = i;
        g.neighbor[e] = f.j;
        g.vec[e] = f.vec;
        ++e;
      }
    }
  }
  return g;
}

}  // namespace flashtp
