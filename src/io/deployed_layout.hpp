// The weights a SevenNet architecture has, in the order a deployed model's
// code consumes them, each split into the pieces e3nn's generated code uses
// separately (one per path of a Linear or tensor product).
//
// The irreps algebra follows sevenn/model_build.py (and src/model_build.cpp,
// which turns the same config into the engine's Model): a layout computed
// here names exactly the tensors, with exactly the sizes, that the builder
// asks for.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/deployed_trace.hpp"
#include "irreps.hpp"

namespace flashtp::io::deployed {

// An architecture as the deployed code shows it: explicit irreps per layer.
struct Architecture {
  int num_species = 0;
  int num_basis = 0;
  int lmax_sh = 0;
  bool parity = false;
  std::vector<Irreps> node;                  // x_0 (after the embedding) .. x_T
  std::vector<std::string> self_connection;  // per layer: "nequip" or "linear"
  std::vector<int> radial_hidden;            // weight_nn_hidden_neurons
  bool bias = false;                         // use_bias_in_linear
  bool reduce_last = true;  // SevenNet >= 0.9 (optimize_by_reduce): last layer even scalars
  bool readout_fcn = false;
  std::vector<int> readout_hidden;
  int channel = 0;  // SevenNet <= 0.8 readout width: channel // 2

  int num_layers() const { return static_cast<int>(node.size()) - 1; }
  Irreps sh() const;
};

struct ExpectedPiece {
  Piece::Role role;
  int64_t numel;               // -1: one value, or one per species (scale and shift)
  std::vector<int64_t> shape;  // as e3nn's code reshapes it; empty if free
  double alpha = 1;            // contract: e3nn's path normalisation 1/sqrt(fan_in)
};

struct ExpectedTensor {
  std::string name;            // SevenNet state-dict name
  std::vector<int64_t> shape;  // state-dict shape; empty: flat
  std::vector<ExpectedPiece> pieces;
};

// One "uvu" path of a layer's convolution: its degrees and its columns
// [offset, offset + mul) of the radial MLP's output.
struct ConvPath {
  int l_in, l_sh, l_out;
  int offset, mul;
};

// In SevenNet's instruction order: (input, harmonic, output) loops, and since
// SevenNet 0.11 stably sorted by output irrep (`sorted`).
std::vector<ConvPath> convolution_paths(const Architecture& a, int layer, bool sorted);

// Irreps algebra of SevenNet's builder (infer_irreps_out is in irreps.hpp).
Irreps gate_irreps_in(const Irreps& out);  // e3nn Gate input for output irreps `out`
Irreps tp_irreps_out(const Architecture& a, int layer);  // the convolution's output irreps

// The weights before the first layer, of layer t, and after the last.
std::vector<ExpectedTensor> head_tensors(const Architecture& a);
std::vector<ExpectedTensor> layer_tensors(const Architecture& a, int t);
std::vector<ExpectedTensor> tail_tensors(const Architecture& a);

}  // namespace flashtp::io::deployed
