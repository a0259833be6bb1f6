#include "io/deployed_match.hpp"

#include <cmath>
#include <sstream>

namespace flashtp::io::deployed {
namespace {

std::vector<int64_t> squeezed(const std::vector<int64_t>& shape) {
  std::vector<int64_t> out;
  for (auto d : shape)
    if (d != 1) out.push_back(d);
  return out;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << "[";
  for (size_t k = 0; k < shape.size(); ++k) s << (k ? ", " : "") << shape[k];
  s << "]";
  return s.str();
}

std::string describe(const Piece& p) {
  std::ostringstream s;
  s << "CONSTANTS.c" << p.constant << "[" << p.offset << ":" << p.offset + p.numel << "] " << shape_str(p.shape)
    << " in a " << role_name(p.role) << " (" << p.consumer << ") at code line " << p.line;
  if (p.role == Piece::Role::contract) s << " scaled by " << p.factor;
  return s.str();
}

std::string describe(const ExpectedPiece& e) {
  std::ostringstream s;
  s << role_name(e.role) << " of ";
  if (e.numel < 0)
    s << "one value or one per species";
  else
    s << e.numel << " values " << shape_str(e.shape);
  if (e.role == Piece::Role::contract) s << " scaled by " << e.alpha;
  return s.str();
}

}  // namespace

Match match(const std::vector<Piece>& pieces, size_t begin, const std::vector<ExpectedTensor>& tensors,
            int num_species) {
  Match m;
  size_t k = begin;
  for (const auto& t : tensors) {
    Assignment a{t.name, t.shape, {}};
    for (size_t j = 0; j < t.pieces.size(); ++j) {
      const ExpectedPiece& e = t.pieces[j];
      auto fail = [&](const std::string& found) {
        std::ostringstream s;
        s << "'" << t.name << "'";
        if (t.pieces.size() > 1) s << " (part " << j + 1 << " of " << t.pieces.size() << ")";
        s << " should be a " << describe(e) << "; " << found;
        m.reason = s.str();
        m.end = k;
        return m;
      };
      if (k >= pieces.size()) return fail("the code has no more weights");
      const Piece& p = pieces[k];
      const bool numel_ok = e.numel >= 0 ? p.numel == e.numel : (p.numel == 1 || p.numel == num_species);
      const bool shape_ok = e.shape.empty() || p.shape.empty() || squeezed(p.shape) == squeezed(e.shape);
      if (p.role != e.role || !numel_ok || !shape_ok) return fail("found " + describe(p));
      double scale = 1;
      if (e.role == Piece::Role::contract) {
        if (std::abs(p.factor / e.alpha - 1) < 1e-5) {
          scale = 1;
        } else if (std::abs(p.factor - 1) < 1e-9) {
          scale = 1 / e.alpha;  // the constant is weight * alpha
        } else {
          return fail("found " + describe(p));
        }
      }
      a.parts.push_back({k, scale});
      ++k;
    }
    m.assigned.push_back(std::move(a));
  }
  m.ok = true;
  m.end = k;
  return m;
}

}  // namespace flashtp::io::deployed
