#include "cuda/roofline.hpp"

#include <algorithm>
#include <iomanip>
#include <set>
#include <sstream>

#include "cuda/coupling_generated.hpp"
#include "cuda/views.hpp"
#include "so3.hpp"

namespace flashtp::cuda {
namespace {

// 2 x the multiply-adds of a Linear (or its transpose) on one row.
double linear_flop(const Linear& L) {
  double fma = 0;
  for (const auto& p : L.paths)
    fma += static_cast<double>(L.in[p.seg_in].mul) * L.out[p.seg_out].mul * L.in[p.seg_in].ir.dim();
  return 2 * fma;
}
double linear_weights(const Linear& L) {
  double n = 0;
  for (const auto& p : L.paths) n += static_cast<double>(p.weight.size());
  return n;
}

// 2 x the multiply-adds of an MLP's matrices [first, last) on one row.
double mlp_flop(const Mlp& mlp, int first, int last) {
  double fma = 0;
  for (int k = first; k < last; ++k) fma += static_cast<double>(mlp.widths[k]) * mlp.widths[k + 1];
  return 2 * fma;
}

// Per edge, about: |r|, the basis times its envelope, and the harmonics'
// recursion Y_l+1 from Y_l and u, forward (3 operations a term) and backward (6).
struct Geometry {
  double forward = 0, backward = 0;
};
Geometry geometry_flop(const Model& model) {
  double terms = 0;
  for (int l = 0; l < model.lmax_sh; ++l) terms += static_cast<double>(wigner_3j_sparse(l, 1, l + 1).size());
  const double nb = static_cast<double>(model.radial.frequency.size());
  return {20 + 4 * nb + 3 * terms, 30 + 8 * nb + 6 * terms};
}

// One layer's convolution, per edge: the radial MLP, the tensor product.
struct ConvolutionWork {
  int K = 0, hidden = 0;                  // last hidden width; the hidden layers' widths summed (their pre-activations)
  double hidden_flop = 0, last_flop = 0;  // the MLP up to its last hidden layer; its last layer
  TensorProductFlop tp;
  int x_dim = 0, mid_dim = 0, partial_dim = 0;
  double weights = 0;
};
ConvolutionWork convolution_work(const Convolution& conv) {
  ConvolutionWork w;
  const Mlp& mlp = conv.radial;
  const int depth = static_cast<int>(mlp.weight.size());
  w.K = mlp.widths[depth - 1];
  for (int k = 1; k < depth; ++k) w.hidden += mlp.widths[k];
  w.hidden_flop = mlp_flop(mlp, 0, depth - 1);
  w.last_flop = mlp_flop(mlp, depth - 1, depth);
  for (const auto& m : mlp.weight) w.weights += static_cast<double>(m.size());
  w.tp = tensor_product_flop(conv);
  w.x_dim = conv.in.dim();
  w.mid_dim = conv.mid.dim();
  int partial = 0;
  for (const auto& p : conv.paths) partial += conv.in[p.seg_in].dim();
  w.partial_dim = partial_row_width(partial);
  return w;
}

class Tally {
 public:
  explicit Tally(int scalar_bytes) : s_(scalar_bytes) {}
  // `numbers` of the evaluation's scalar type, `ints` of 4 bytes, `longs` of 8
  void add(const std::string& kernel, double matrix, double other, double numbers, double ints = 0, double longs = 0) {
    KernelWork& w = work_[kernel];
    w.matrix_flop += matrix;
    w.other_flop += other;
    w.bytes += s_ * numbers + 4 * ints + 8 * longs;
  }
  // y (+)= L(x) on `rows` rows; a Linear of one weight matrix for all rows
  // runs on the tensor cores, one per species (variants) on the CUDA cores
  void linear(const std::string& role, const Linear& L, bool transpose, double rows, bool accumulate,
              int variants = 1) {
    const double in = transpose ? L.out.dim() : L.in.dim(), out = transpose ? L.in.dim() : L.out.dim();
    const double flop = rows * linear_flop(L);
    add(role, variants == 1 ? flop : 0, variants == 1 ? 0 : flop,
        rows * (in + (accumulate ? 2 : 1) * out) + variants * linear_weights(L), variants > 1 ? rows : 0);
  }
  std::map<std::string, KernelWork> result() const { return work_; }

 private:
  int s_;
  std::map<std::string, KernelWork> work_;
};

}  // namespace

TensorProductFlop tensor_product_flop(const Convolution& conv) {
  // Per edge and coupling (l1, l2, l3): its matrix M[i][k] = sum_j C[i][j][k]
  // Y[j] (a term a Clebsch-Gordan entry), and backward dL/dY[j] = sum C[i][j][k]
  // P[i][k] (the generated code shares equal products of M, and so does a
  // little less). Per channel u of a path: forward m[k] += w sum_i x[i] M[i][k];
  // backward t = M g, dL/dh += w t, dL/dw = x . t, P += w x g^T.
  TensorProductFlop f;
  std::set<int> couplings;
  for (const auto& p : conv.paths) {
    const int l1 = conv.in[p.seg_in].ir.l, l2 = conv.sh[p.seg_sh].ir.l, l3 = conv.mid[p.seg_out].ir.l;
    const int index = coupling_index(l1, l2, l3);
    const CouplingShape c = coupling_shape(index);
    const double mul = conv.in[p.seg_in].mul;
    if (couplings.insert(index).second) {
      const double entries = static_cast<double>(p.cg.size());
      f.forward += 2 * entries - c.nnz;
      f.backward += 2 * entries - c.nnz + 2 * entries;
    }
    f.forward += mul * (2 * c.nnz + c.d1);
    f.backward += mul * (4 * c.nnz + 5 * c.d1);
    f.input_gradient += mul * 2 * c.d1;
  }
  return f;
}

EvaluationShape evaluation_shape(const Graph& graph, const std::map<std::string, KernelTime>& measured,
                                 int scalar_bytes) {
  EvaluationShape shape;
  shape.local = graph.num_local;
  shape.nodes = graph.num_nodes;
  shape.edges = graph.num_edges();
  shape.species = static_cast<int>(std::set<int>(graph.species.begin(), graph.species.end()).size());
  shape.first_layer_density = measured.count("density_forward") > 0;
  const auto edge_forces = measured.find("edge_forces");
  shape.one_edge_batch = edge_forces == measured.end() || edge_forces->second.launches <= 1;
  shape.scalar_bytes = scalar_bytes;
  return shape;
}

std::map<std::string, KernelWork> evaluation_work(const Model& model, const EvaluationShape& shape) {
  Tally tally(shape.scalar_bytes);
  const double E = static_cast<double>(shape.edges), N = static_cast<double>(shape.nodes),
               Lc = static_cast<double>(shape.local);
  const double nb = static_cast<double>(model.radial.frequency.size()), ns = (model.lmax_sh + 1) * (model.lmax_sh + 1);
  const Geometry geometry = geometry_flop(model);
  const double dim0 = model.irreps_embedding.dim();
  // per edge: its vector, centre and sender, (backward) its position in sender order
  const double edge_in = 3, edge_ints = 2;

  tally.add("embed", 0, 0, N * dim0, N);
  for (size_t t = 0; t < model.layers.size(); ++t) {
    const Layer& layer = model.layers[t];
    const ConvolutionWork cw = convolution_work(layer.conv);
    const bool first = t == 0;
    const int variants = static_cast<int>(layer.self_connection.size());
    const double gate_in = layer.gate.in.dim(), gate_out = layer.gate.out.dim();
    // forward
    if (first && shape.first_layer_density) {
      // D_i,s[j][k] = sum over the edges to species s of a_e[k] Y_e[j], then
      // an e3nn Linear from D (slots x K channels a degree) to the message
      const double row = shape.species * cw.K * ns, linear = 2 * shape.species * cw.K * cw.mid_dim;
      tally.add("density_forward", E * cw.hidden_flop, E * (geometry.forward + 2 * cw.K * ns),
                E * edge_in + Lc * row + cw.weights, E * (edge_ints + 1));
      tally.add("density_message", Lc * linear, 0, Lc * (row + cw.mid_dim) + shape.species * cw.K * cw.mid_dim);
      // backward: dL/dD through the transposed Linear, then per edge
      // dL/da_e = G Y_e and dL/dY_e = G^T a_e (G: the centre's dL/dD)
      tally.add("density_gradient", Lc * linear, 0, Lc * (row + cw.mid_dim) + shape.species * cw.K * cw.mid_dim);
      tally.add("density_backward", E * cw.hidden_flop, E * (geometry.forward + 4 * cw.K * ns),
                E * (edge_in + cw.hidden + cw.K + 2 * ns) + Lc * row + cw.weights, E * (edge_ints + 1), E);
    } else {
      tally.linear("linear_1", layer.linear_1, false, N, false);
      tally.add("convolution_forward", E * (cw.hidden_flop + cw.last_flop), E * (geometry.forward + cw.tp.forward),
                E * edge_in + N * cw.x_dim + Lc * cw.mid_dim + cw.weights, E * edge_ints);
      // backward: the weights again, their gradient dL/da = dL/dw W^T, and the
      // pre-activations and dL/da out for radial_backward
      tally.add("convolution_backward", E * (cw.hidden_flop + 2 * cw.last_flop),
                E * (geometry.forward + cw.tp.backward - (first ? cw.tp.input_gradient : 0)),
                E * (edge_in + cw.hidden + cw.K + 2 * ns) + N * cw.x_dim + Lc * cw.mid_dim +
                    (first ? 0 : N * cw.partial_dim) + cw.weights,
                E * edge_ints, E);
    }
    tally.linear("linear_2", layer.linear_2, false, Lc, false);
    tally.linear("self_connection", layer.self_connection.front(), false, Lc, true, variants);
    tally.add("gate_forward", 0, 0, Lc * (gate_in + gate_out));
    // backward, the rest of the layer
    tally.add("gate_backward", 0, 0, Lc * (2 * gate_in + gate_out));
    if (!first) tally.linear("self_connection_t", layer.self_connection.front(), true, Lc, true, variants);
    tally.linear("linear_2_t", layer.linear_2, true, Lc, false);
    // dL/da back through the hidden layers to dL/demb, added
    tally.add("radial_backward", E * cw.hidden_flop, 0, E * (cw.hidden + cw.K + 2 * nb));
    if (!first) {
      tally.add("path_sum", 0, 0, N * (cw.partial_dim + cw.x_dim));
      tally.linear("linear_1_t", layer.linear_1, true, N, true);
    }
  }

  const double last = model.layers.empty() ? dim0 : model.layers.back().gate.out.dim();
  if (!model.readout_mlp.weight.empty()) {
    const Mlp& mlp = model.readout_mlp;
    const double flop = mlp_flop(mlp, 0, static_cast<int>(mlp.weight.size()));
    tally.add("readout_mlp", 2 * Lc * flop, 0, Lc * (2 * last + 1), Lc);
  } else {
    for (const auto& L : model.readout_linears) {
      tally.linear("readout", L, false, Lc, false);
      tally.linear("readout_t", L, true, Lc, false);
    }
    tally.add("scale_shift", 0, 0, Lc * 3, Lc);
  }

  // dL/demb and dL/dY back through the geometry to dL/dr_e: once, or per
  // layer where the edges went through the backward in batches
  const double passes = shape.one_edge_batch ? 1 : static_cast<double>(model.layers.size());
  tally.add("edge_forces", 0, passes * E * geometry.backward, passes * E * (edge_in + nb + ns + 6), 0, passes * E);
  // forces and virials per node, from its edges as centre and as sender
  tally.add("forces_and_virial", 0, 48 * E, 6 * E + 9 * N, 0, E + 2 * N);
  return tally.result();
}

std::string roofline_report(const std::map<std::string, KernelWork>& work,
                            const std::map<std::string, KernelTime>& measured, const DevicePeaks& peaks,
                            int scalar_bytes) {
  const bool single = scalar_bytes == 4;
  const double matrix_rate = single ? peaks.tf32 / 3 : peaks.fp64, other_rate = single ? peaks.fp32 : peaks.fp64;
  const bool roof = matrix_rate > 0 && other_rate > 0 && peaks.bandwidth > 0;
  std::ostringstream out;
  out << std::fixed;
  if (roof)
    out << "  roofline: matrix products " << std::setprecision(1) << matrix_rate / 1e12 << " TFLOP/s"
        << (single ? " (3xTF32)" : "") << ", other " << other_rate / 1e12 << " TFLOP/s, memory "
        << peaks.bandwidth / 1e12 << std::setprecision(2) << " TB/s\n";
  out << "  " << std::left << std::setw(24) << "kernel" << std::right << std::setw(9) << "launches" << std::setw(10)
      << "ms" << std::setw(10) << "GFLOP mm" << std::setw(10) << "GFLOP" << std::setw(9) << "GB";
  if (roof) out << std::setw(10) << "roof ms" << std::setw(8) << "bound" << std::setw(9) << "of roof";
  out << "\n";
  double total_ms = 0, total_roof = 0;
  for (const auto& [name, w] : work) {
    const auto m = measured.find(name);
    const double ms = m == measured.end() ? 0 : m->second.ms;
    const int launches = m == measured.end() ? 0 : m->second.launches;
    out << "  " << std::left << std::setw(24) << name << std::right << std::setw(9) << launches << std::setprecision(3)
        << std::setw(10) << ms << std::setprecision(2) << std::setw(10) << w.matrix_flop / 1e9 << std::setw(10)
        << w.other_flop / 1e9 << std::setprecision(3) << std::setw(9) << w.bytes / 1e9;
    if (roof) {
      const double compute = 1e3 * (w.matrix_flop / matrix_rate + w.other_flop / other_rate);
      const double memory = 1e3 * w.bytes / peaks.bandwidth;
      const double roof_ms = std::max(compute, memory);
      total_ms += ms;
      total_roof += roof_ms;
      out << std::setw(10) << roof_ms << std::setw(8) << (compute >= memory ? "compute" : "memory")
          << std::setprecision(1) << std::setw(8) << (ms > 0 ? 100 * roof_ms / ms : 0.0) << "%";
    }
    out << "\n";
  }
  if (roof)
    out << "  " << std::left << std::setw(24) << "all" << std::right << std::setw(9) << "" << std::setprecision(3)
        << std::setw(10) << total_ms << std::setw(39) << "" << std::setw(10) << total_roof << std::setw(8) << ""
        << std::setprecision(1) << std::setw(8) << (total_ms > 0 ? 100 * total_roof / total_ms : 0.0) << "%\n";
  return out.str();
}

}  // namespace flashtp::cuda
