// Irreducible representations of O(3), with e3nn's conventions.
//
// An Irrep is (l, p): degree l >= 0 and parity p = +1 (even, "e") or -1 (odd,
// "o"). Irreps is a list of (mul, irrep) segments; a feature vector stores the
// segments one after another, each as [mul][2l+1] (channel-major).
// Ordering is e3nn's: (l, p) as a tuple, so 0o < 0e < 1o < 1e < ...
#pragma once
#include <string>
#include <vector>

namespace flashtp {

struct Irrep {
  int l = 0;
  int p = 1;
  int dim() const { return 2 * l + 1; }
  bool operator==(const Irrep& o) const { return l == o.l && p == o.p; }
  bool operator!=(const Irrep& o) const { return !(*this == o); }
  bool operator<(const Irrep& o) const { return l != o.l ? l < o.l : p < o.p; }
  std::string str() const;
};

struct MulIrrep {
  int mul = 0;
  Irrep ir;
  int dim() const { return mul * ir.dim(); }
  bool operator==(const MulIrrep& o) const { return mul == o.mul && ir == o.ir; }
};

class Irreps {
 public:
  Irreps() = default;
  Irreps(std::vector<MulIrrep> segments) : segments_(std::move(segments)) {}
  static Irreps parse(const std::string& text);  // "128x0e+64x1e+32x2e"

  int size() const { return static_cast<int>(segments_.size()); }
  const MulIrrep& operator[](int i) const { return segments_[i]; }
  auto begin() const { return segments_.begin(); }
  auto end() const { return segments_.end(); }
  bool operator==(const Irreps& o) const { return segments_ == o.segments_; }

  int dim() const;
  int offset(int segment) const;  // start of the segment in a feature vector
  int lmax() const;
  bool contains(const Irrep& ir) const;  // e3nn `ir in irreps`
  Irreps operator+(const Irreps& o) const;
  Irreps simplify() const;  // merge neighbouring equal irreps, drop mul 0

  // Stable sort by irrep. permutation[k] = new position of old segment k.
  struct Sorted;
  Sorted sort() const;

  std::string str() const;

 private:
  std::vector<MulIrrep> segments_;
};

struct Irreps::Sorted {
  Irreps irreps;
  std::vector<int> permutation;
};

// The irreps l = |l1-l2| .. l1+l2 with parity p1 p2 (e3nn `ir1 * ir2`).
std::vector<Irrep> product(const Irrep& a, const Irrep& b);

// e3nn FullTensorProduct(a, b).irreps_out: every product irrep, sorted, then simplified.
Irreps full_tensor_product(const Irreps& a, const Irreps& b);

// sevenn.util.infer_irreps_out: the irreps of x (x) filter, without l > drop_l,
// without odd irreps if even_only, each with multiplicity fix_mul if > 0.
Irreps infer_irreps_out(const Irreps& x, const Irreps& filter, int drop_l, bool even_only, int fix_mul);

// SevenNet's EquivariantGate(irreps_out) as e3nn's Gate sees it: the scalars,
// one gate scalar per gated irrep (even if the scalars include an even one,
// else odd), and the gated irreps, each group simplified. Its input is the
// three groups concatenated and sorted (e3nn's _Sortcut): gate_input().
struct GateGroups {
  Irreps scalars, gates, gated;
  int gate_parity;
  Irreps gate_input() const;
};
GateGroups gate_groups(const Irreps& irreps_out);

}  // namespace flashtp
