// Pairs a layout's expected tensors with the pieces the code consumes.
//
// Pieces are taken in order; each must have the expected role, size and
// shape, and a contraction's literal factor must be e3nn's normalisation
// (the constant holds the raw weight) or 1 (freezing folded the
// normalisation into the constant, which is then divided back out).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "io/deployed_layout.hpp"
#include "io/deployed_trace.hpp"

namespace flashtp::io::deployed {

struct Assignment {
  std::string name;
  std::vector<int64_t> shape;  // state-dict shape; empty: flat
  struct Part {
    size_t piece;
    double scale;  // 1, or 1/alpha for a folded normalisation
  };
  std::vector<Part> parts;
};

struct Match {
  bool ok = false;
  size_t end = 0;      // the first piece after the matched ones
  std::string reason;  // why not, when !ok
  std::vector<Assignment> assigned;
};

Match match(const std::vector<Piece>& pieces, size_t begin, const std::vector<ExpectedTensor>& tensors, int num_species);

}  // namespace flashtp::io::deployed
