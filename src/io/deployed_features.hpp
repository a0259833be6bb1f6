// What a deployed SevenNet model's code states outright: the interface, the
// cutoff envelope, the spherical harmonics, the number of layers and every
// activation call, each recognised by the shape of the code TorchScript
// prints for SevenNet's modules.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "io/deployed_trace.hpp"

namespace flashtp::io::deployed {

struct CodeFeatures {
  bool legacy_interface = false;  // inputs pos, cell_lattice_vectors, pbc_shift (SevenNet <= 0.12.0)
  std::string envelope;           // "poly_cut" or "XPLOR"
  double envelope_cutoff = 0;     // the cutoff the envelope code divides by
  double poly_p = 0, xplor_on = 0;
  int lmax_sh = -1;
  bool normalize_sh = true;  // harmonics of r/|r|, or of r (SevenNet <= 0.8)
  int num_layers = 0;
  struct Call {
    std::string name;  // SevenNet's activation name
    int statement;
    double scale;  // the normalize2mom constant it is multiplied by (1 if none)
  };
  std::vector<Call> activations;  // in code order
};

// `scalar_constant(n)`: the value of the 0-d constant CONSTANTS.cn, or NaN.
CodeFeatures read_features(const Dataflow& flow, const std::function<double(int)>& scalar_constant);

}  // namespace flashtp::io::deployed
