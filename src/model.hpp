// The engine's model: SevenNet's E3_equivariant_model (interaction "nequip"),
// every constant resolved and every e3nn normalisation folded into weights.
//
// Per atom:  one-hot species -> embedding -> layers -> readout -> scale, shift.
// Per layer: sc = self_connection(x); h = linear_1(x);
//            m_i = sum_{e=(i,j)} TP(h_j, Y(r_e), radial(|r_e|)) / denominator;
//            x' = gate(linear_2(m) + sc).
// Weights are kept in double; backends convert once to their precision.
#pragma once
#include <string>
#include <vector>

#include "irreps.hpp"
#include "so3.hpp"

namespace flashtp {

// Scalar nonlinearities SevenNet offers, each times e3nn's normalize2mom
// constant (folded into `scale`).
enum class ActivationKind { silu, tanh, abs, ssp, sigmoid, relu, elu };

struct Activation {
  ActivationKind kind = ActivationKind::silu;
  double scale = 1.0;
  std::string name() const;
};

// e3nn o3.Linear: for each pair of input and output segments of the same
// irrep, out[v, m] += sum_u x[u, m] W[u, v]; W already holds 1/sqrt(fan_in).
struct Linear {
  Irreps in, out;
  struct Path {
    int seg_in, seg_out;
    std::vector<double> weight;  // [mul_in][mul_out]
  };
  std::vector<Path> paths;
  std::vector<double> bias;  // out.dim() entries (zero off the scalars), or empty
};

// e3nn FullyConnectedNet: h <- act(h W_k) for every layer but the last; the
// 1/sqrt(fan_in) and the activation's scale are folded into the W_k.
struct Mlp {
  std::vector<int> widths;                  // [in, hidden..., out]
  std::vector<std::vector<double>> weight;  // weight[k]: [widths[k]][widths[k+1]]
  Activation act;
};

// Edge embedding: Bessel basis times a smooth cutoff envelope.
struct RadialBasis {
  double cutoff = 0;
  std::vector<double> frequency;  // trainable: basis_n(r) = (2/rc) sin(f_n r) / r
  enum class Envelope { polynomial, xplor } envelope = Envelope::polynomial;
  double poly_p = 6;   // polynomial: 1 - (p+1)(p+2)/2 u^p + p(p+2) u^(p+1) - p(p+1)/2 u^(p+2)
  double xplor_on = 0; // XPLOR switching start
};

// The edge-wise "uvu" tensor product of node features (in) with the spherical
// harmonics of the edge (sh), weighted per edge and channel by the radial MLP:
//   mid[path.seg_out][u, k] = alpha * w[offset + u] * sum_ij C[i,j,k] x[u,i] Y_l2[j]
struct Convolution {
  Irreps in, sh, mid;
  struct Path {
    int seg_in, seg_sh, seg_out;
    int weight_offset;  // first column of this path in the radial MLP output
    double alpha;       // e3nn path normalisation sqrt((2 l_out + 1) / fan_in)
    std::vector<CGEntry> cg;
  };
  std::vector<Path> paths;
  Mlp radial;
  double denominator = 1.0;
};

// e3nn Gate on the (sorted) gate input irreps:
//   out = [act(scalars) ; gated_u * act_gate(gate_u)]
struct Gate {
  Irreps in, out;
  struct Scalars {
    int in_offset, count;
    Activation act;
  };
  struct Gated {
    int in_offset, mul, dim;  // dim = 2l+1
    int gate_offset;          // input index of the gate of channel 0
    Activation act;
  };
  std::vector<Scalars> scalars;
  std::vector<Gated> gated;
};

struct Layer {
  // 'nequip' self-connection (tensor product with the one-hot) is a linear map
  // per species; 'linear' is one map shared by all species.
  std::vector<Linear> self_connection;
  Linear linear_1;
  Convolution conv;
  Linear linear_2;
  Gate gate;
  const Linear& self_connection_for(int species) const {
    return self_connection.size() == 1 ? self_connection[0] : self_connection[species];
  }
};

struct Model {
  std::vector<std::string> species;  // element symbols, model order
  RadialBasis radial;
  int lmax_sh = 0;
  // SevenNet <= 0.9 (_normalize_sph false): harmonics of the edge vector itself,
  // Y_l(r) = |r|^l Y_l(r/|r|), rather than of its direction.
  bool sh_normalized = true;
  std::vector<std::vector<double>> embedding;  // per species: the first node features
  Irreps irreps_embedding;
  std::vector<Layer> layers;
  // Readout to the atomic energy: a chain of Linears, or an MLP on scalars.
  std::vector<Linear> readout_linears;
  Mlp readout_mlp;
  std::vector<double> shift, scale;  // per species
  std::string sevenn_version;
  std::vector<std::string> legacy;  // how an older SevenNet file was read (io::ModelSource::legacy)

  int num_species() const { return static_cast<int>(species.size()); }
  double cutoff() const { return radial.cutoff; }
  int species_index(const std::string& element) const;  // -1 if absent
};

}  // namespace flashtp
