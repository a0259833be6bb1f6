// The exact CPU backend: the reference every other backend is checked against.
//
// Forward keeps only node-level tensors per layer; per-edge quantities (the
// radial MLP output, spherical harmonics) are recomputed in the backward
// pass, so memory is O(nodes x features + edges). The forward pass loops over
// centre atoms and the backward pass over sender atoms, so every sum has one
// writer: no atomics, and results are identical run to run.
#include <cmath>
#include <numeric>

#include <omp.h>

#include "cpu/dense.hpp"
#include "cpu/edge_embedding.hpp"
#include "cpu/gate.hpp"
#include "cpu/module_trace.hpp"
#include "cpu/tensor_product.hpp"
#include "engine.hpp"
#include "error.hpp"

namespace flashtp {
namespace cpu {
namespace {

template <typename T>
struct DenseLayer {
  std::vector<DenseLinear<T>> self_connection;
  DenseLinear<T> linear_1, linear_2;
  UvuTensorProduct<T> tp;
  DenseMlp<T> radial;
  T inv_denominator;
  const Gate* gate;
  int dim_x, dim_mid, dim_gate, dim_out;

  explicit DenseLayer(const Layer& l)
      : linear_1(l.linear_1), linear_2(l.linear_2), tp(l.conv), radial(l.conv.radial),
        inv_denominator(T(1.0 / l.conv.denominator)), gate(&l.gate), dim_x(l.conv.in.dim()),
        dim_mid(l.conv.mid.dim()), dim_gate(l.gate.in.dim()), dim_out(l.gate.out.dim()) {
    for (const auto& sc : l.self_connection) self_connection.emplace_back(sc);
  }
  const DenseLinear<T>& self_connection_for(int s) const {
    return self_connection.size() == 1 ? self_connection[0] : self_connection[s];
  }
};

// Edges grouped by sender: reverse_edges[reverse_start[j] .. reverse_start[j+1]).
struct SenderIndex {
  std::vector<int64_t> start;
  std::vector<int64_t> edges;
  SenderIndex(const Graph& g) : start(g.num_nodes + 1, 0), edges(g.num_edges()) {
    for (int j : g.neighbor) ++start[j + 1];
    std::partial_sum(start.begin(), start.end(), start.begin());
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t e = 0; e < g.num_edges(); ++e) edges[fill[g.neighbor[e]]++] = e;
  }
};

template <typename T>
class CpuEngine final : public Engine {
 public:
  CpuEngine(const Model& model, Precision precision) : model_(model), precision_(precision), embedding_(model) {
    for (const auto& l : model_.layers) layers_.emplace_back(l);
    for (const auto& r : model_.readout_linears) readout_.emplace_back(r);
    if (!model_.readout_mlp.weight.empty()) readout_mlp_ = DenseMlp<T>(model_.readout_mlp);
  }

  Precision precision() const override { return precision_; }
  std::string backend() const override { return "cpu"; }
  using Engine::compute;

  // While set, compute() also records each module's output (local rows).
  void set_trace(ModuleOutputs* trace) { trace_ = trace; }

  Result compute(const Graph& g, GhostExchange* ghosts) override {
    validate(g, ghosts);
    const int N = g.num_nodes, L = g.num_local;
    const int64_t E = g.num_edges();
    const SenderIndex senders(g);
    std::vector<T> vec(3 * E);
    for (int64_t e = 0; e < E; ++e)
      for (int a = 0; a < 3; ++a) vec[3 * e + a] = T(g.vec[e][a]);

    // ---- forward ----
    const int T_layers = static_cast<int>(layers_.size());
    std::vector<std::vector<T>> x(T_layers + 1), h(T_layers), y(T_layers);
    const int dim0 = model_.irreps_embedding.dim();
    x[0].resize(static_cast<size_t>(N) * dim0);
    for (int n = 0; n < N; ++n)
      std::copy(model_.embedding[g.species[n]].begin(), model_.embedding[g.species[n]].end(), x[0].begin() + static_cast<size_t>(n) * dim0);
    record("onehot_to_feature_x", x[0], size_t(L) * dim0);

    for (int t = 0; t < T_layers; ++t) {
      const auto& layer = layers_[t];
      if (t > 0 && ghosts) ghosts->forward(x[t].data(), layer.dim_x);
      h[t].resize(static_cast<size_t>(N) * layer.dim_x);
#pragma omp parallel for schedule(static)
      for (int n = 0; n < N; ++n) layer.linear_1.forward(&x[t][size_t(n) * layer.dim_x], &h[t][size_t(n) * layer.dim_x]);
      const std::string name = std::to_string(t) + "_";
      record(name + "self_interaction_1", h[t], size_t(L) * layer.dim_x);

      std::vector<T> message(static_cast<size_t>(L) * layer.dim_mid, T(0));
      convolve(g, layer, h[t], vec, message);
      record(name + "convolution", message, message.size());

      y[t].resize(static_cast<size_t>(L) * layer.dim_gate);
      std::vector<T> linear_2_out(trace_ ? y[t].size() : 0);
      x[t + 1].assign(static_cast<size_t>(N) * layer.dim_out, T(0));
#pragma omp parallel
      {
        std::vector<T> sc(layer.dim_gate);
#pragma omp for schedule(static)
        for (int i = 0; i < L; ++i) {
          T* yi = &y[t][size_t(i) * layer.dim_gate];
          layer.linear_2.forward(&message[size_t(i) * layer.dim_mid], yi);
          if (trace_) std::copy(yi, yi + layer.dim_gate, &linear_2_out[size_t(i) * layer.dim_gate]);
          layer.self_connection_for(g.species[i]).forward(&x[t][size_t(i) * layer.dim_x], sc.data());
          for (int k = 0; k < layer.dim_gate; ++k) yi[k] += sc[k];
          gate_forward(*layer.gate, yi, &x[t + 1][size_t(i) * layer.dim_out]);
        }
      }
      record(name + "self_interaction_2", linear_2_out, linear_2_out.size());
      record(name + "self_connection_outro", y[t], y[t].size());
      record(name + "equivariant_gate", x[t + 1], size_t(L) * layer.dim_out);
    }

    Result result;
    result.atomic_energy.resize(L);
    const int dim_last = model_.layers.empty() ? dim0 : layers_.back().dim_out;
    std::vector<T> grad(static_cast<size_t>(N) * dim_last, T(0));
    readout(g, x[T_layers], dim_last, result, grad);

    // ---- backward ----
    std::vector<T> grad_vec(3 * E, T(0));
    for (int t = T_layers - 1; t >= 0; --t) {
      const auto& layer = layers_[t];
      std::vector<T> grad_message(static_cast<size_t>(L) * layer.dim_mid);
      std::vector<T> grad_x(static_cast<size_t>(N) * layer.dim_x, T(0));
#pragma omp parallel
      {
        std::vector<T> grad_y(layer.dim_gate);
#pragma omp for schedule(static)
        for (int i = 0; i < L; ++i) {
          gate_backward(*layer.gate, &y[t][size_t(i) * layer.dim_gate], &grad[size_t(i) * layer.dim_out], grad_y.data());
          layer.self_connection_for(g.species[i]).backward(grad_y.data(), &grad_x[size_t(i) * layer.dim_x]);
          T* gm = &grad_message[size_t(i) * layer.dim_mid];
          std::fill(gm, gm + layer.dim_mid, T(0));
          layer.linear_2.backward(grad_y.data(), gm);
        }
      }
      std::vector<T> grad_h(static_cast<size_t>(N) * layer.dim_x, T(0));
      convolve_backward(g, senders, layer, h[t], vec, grad_message, grad_h, grad_vec);
#pragma omp parallel for schedule(static)
      for (int n = 0; n < N; ++n) layer.linear_1.backward(&grad_h[size_t(n) * layer.dim_x], &grad_x[size_t(n) * layer.dim_x]);
      if (ghosts) ghosts->reverse(grad_x.data(), layer.dim_x);
      grad.swap(grad_x);
    }

    accumulate_forces(g, senders, grad_vec, result);
    return result;
  }

 private:
  void validate(const Graph& g, GhostExchange* ghosts) const {
    if (g.num_nodes > g.num_local && !ghosts)
      throw Error("graph has ghost nodes but no ghost exchange was given");
    if (static_cast<int>(g.species.size()) != g.num_nodes) throw Error("graph: one species per node expected");
    for (int s : g.species)
      if (s < 0 || s >= model_.num_species()) throw Error("graph: species index out of range");
    check_edge_vectors(g);
  }

  // message_i = (1/denominator) sum over edges (i, j) of TP(h_j, Y_e, radial(emb_e))
  void convolve(const Graph& g, const DenseLayer<T>& layer, const std::vector<T>& h, const std::vector<T>& vec,
                std::vector<T>& message) const {
    const int nb = embedding_.num_basis(), ns = embedding_.sh_size(), nw = layer.radial.out_width();
#pragma omp parallel
    {
      std::vector<T> emb, Y, w;
      typename DenseMlp<T>::Tape tape;
#pragma omp for schedule(dynamic, 8)
      for (int i = 0; i < g.num_local; ++i) {
        const int64_t e0 = g.centre_start[i], count = g.centre_start[i + 1] - e0;
        if (count == 0) continue;
        emb.resize(count * nb);
        Y.resize(count * ns);
        w.resize(count * nw);
        for (int64_t b = 0; b < count; ++b) embedding_.forward(&vec[3 * (e0 + b)], &emb[b * nb], &Y[b * ns]);
        layer.radial.forward(static_cast<int>(count), emb.data(), w.data(), tape);
        T* m = &message[size_t(i) * layer.dim_mid];
        for (int64_t b = 0; b < count; ++b)
          layer.tp.forward(&h[size_t(g.neighbor[e0 + b]) * layer.dim_x], &Y[b * ns], &w[b * nw], m);
        for (int k = 0; k < layer.dim_mid; ++k) m[k] *= layer.inv_denominator;
      }
    }
  }

  // Backward of convolve, edges grouped by sender j: grad_h[j] and the edge
  // vector gradients each have a single writer.
  void convolve_backward(const Graph& g, const SenderIndex& senders, const DenseLayer<T>& layer,
                         const std::vector<T>& h, const std::vector<T>& vec, const std::vector<T>& grad_message,
                         std::vector<T>& grad_h, std::vector<T>& grad_vec) const {
    const int nb = embedding_.num_basis(), ns = embedding_.sh_size(), nw = layer.radial.out_width();
#pragma omp parallel
    {
      std::vector<T> emb, Y, w, grad_w, grad_emb, grad_Y, grad_m(layer.dim_mid);
      typename DenseMlp<T>::Tape tape;
#pragma omp for schedule(dynamic, 8)
      for (int j = 0; j < g.num_nodes; ++j) {
        const int64_t s0 = senders.start[j], count = senders.start[j + 1] - s0;
        if (count == 0) continue;
        emb.resize(count * nb);
        Y.resize(count * ns);
        w.resize(count * nw);
        grad_w.resize(count * nw);
        grad_emb.resize(count * nb);
        grad_Y.assign(count * ns, T(0));
        for (int64_t b = 0; b < count; ++b)
          embedding_.forward(&vec[3 * senders.edges[s0 + b]], &emb[b * nb], &Y[b * ns]);
        layer.radial.forward(static_cast<int>(count), emb.data(), w.data(), tape);
        const T* hj = &h[size_t(j) * layer.dim_x];
        T* ghj = &grad_h[size_t(j) * layer.dim_x];
        for (int64_t b = 0; b < count; ++b) {
          const int i = g.center[senders.edges[s0 + b]];
          const T* gm = &grad_message[size_t(i) * layer.dim_mid];
          for (int k = 0; k < layer.dim_mid; ++k) grad_m[k] = gm[k] * layer.inv_denominator;
          layer.tp.backward(hj, &Y[b * ns], &w[b * nw], grad_m.data(), ghj, &grad_w[b * nw], &grad_Y[b * ns]);
        }
        layer.radial.backward(static_cast<int>(count), grad_w.data(), grad_emb.data(), tape);
        for (int64_t b = 0; b < count; ++b) {
          const int64_t e = senders.edges[s0 + b];
          embedding_.backward(&vec[3 * e], &Y[b * ns], &grad_emb[b * nb], &grad_Y[b * ns], &grad_vec[3 * e]);
        }
      }
    }
  }

  // Atomic energy = scale_s * readout(x) + shift_s; seeds grad with dE/dx.
  void readout(const Graph& g, const std::vector<T>& x, int dim, Result& result, std::vector<T>& grad) const {
    std::vector<T> hidden, scaled(trace_ ? g.num_local : 0);
    if (trace_ && !readout_.empty()) hidden.resize(size_t(g.num_local) * readout_[0].out_dim);
#pragma omp parallel
    {
      std::vector<T> a, b;
      typename DenseMlp<T>::Tape tape;
#pragma omp for schedule(static)
      for (int i = 0; i < g.num_local; ++i) {
        const int s = g.species[i];
        const T* xi = &x[size_t(i) * dim];
        T* gi = &grad[size_t(i) * dim];
        const T scale = T(model_.scale[s]);
        T energy;
        if (!readout_.empty()) {
          // chain of Linears; the last one has a single output
          a.assign(xi, xi + dim);
          for (const auto& lin : readout_) {
            b.resize(lin.out_dim);
            lin.forward(a.data(), b.data());
            a.swap(b);
            if (trace_ && &lin == &readout_[0]) std::copy(a.begin(), a.end(), &hidden[size_t(i) * lin.out_dim]);
          }
          energy = a[0];
          a.assign(1, scale);
          for (auto it = readout_.rbegin(); it != readout_.rend(); ++it) {
            b.assign(it->in_dim, T(0));
            it->backward(a.data(), b.data());
            a.swap(b);
          }
          std::copy(a.begin(), a.end(), gi);
        } else {
          T out;
          readout_mlp_.forward(1, xi, &out, tape);
          energy = out;
          readout_mlp_.backward(1, &scale, gi, tape);
        }
        result.atomic_energy[i] = double(scale * energy + T(model_.shift[s]));
        if (trace_) scaled[i] = energy;
      }
    }
    record("reduce_input_to_hidden", hidden, hidden.size());
    record("scaled_atomic_energy", scaled, scaled.size());
    if (trace_) (*trace_)["atomic_energy"] = result.atomic_energy;
    // Summed in a fixed order so the energy is the same run to run.
    result.energy = 0;
    for (double e : result.atomic_energy) result.energy += e;
  }

  // F_i += g_e, F_j -= g_e for edge e = (i, j) with g_e = dE/d(r_j - r_i);
  // W_ab = -sum_e (r_e)_a (g_e)_b, half of each edge's to each end.
  void accumulate_forces(const Graph& g, const SenderIndex& senders, const std::vector<T>& grad_vec,
                         Result& result) const {
    const int N = g.num_nodes;
    result.forces.assign(N, Vec3{0, 0, 0});
    result.atomic_virial.assign(N, Virial{});
    auto add_virial = [&](Virial& w, const Vec3& r, const T* ge) {
      const double half = -0.5;
      w[0] += half * r[0] * ge[0];
      w[1] += half * r[1] * ge[1];
      w[2] += half * r[2] * ge[2];
      w[3] += half * r[0] * ge[1];
      w[4] += half * r[0] * ge[2];
      w[5] += half * r[1] * ge[2];
    };
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; ++n) {
      if (n < g.num_local)
        for (int64_t e = g.centre_start[n]; e < g.centre_start[n + 1]; ++e) {
          for (int a = 0; a < 3; ++a) result.forces[n][a] += grad_vec[3 * e + a];
          add_virial(result.atomic_virial[n], g.vec[e], &grad_vec[3 * e]);
        }
      for (int64_t s = senders.start[n]; s < senders.start[n + 1]; ++s) {
        const int64_t e = senders.edges[s];
        for (int a = 0; a < 3; ++a) result.forces[n][a] -= grad_vec[3 * e + a];
        add_virial(result.atomic_virial[n], g.vec[e], &grad_vec[3 * e]);
      }
    }
    result.virial = Virial{};
    for (const auto& w : result.atomic_virial)
      for (int k = 0; k < 6; ++k) result.virial[k] += w[k];
  }

  void record(const std::string& module, const std::vector<T>& values, size_t count) const {
    if (trace_ && count > 0) (*trace_)[module].assign(values.begin(), values.begin() + count);
  }

  const Model model_;  // layers_ point into it
  Precision precision_;
  EdgeEmbedding<T> embedding_;
  std::vector<DenseLayer<T>> layers_;
  std::vector<DenseLinear<T>> readout_;
  DenseMlp<T> readout_mlp_;
  ModuleOutputs* trace_ = nullptr;
};

}  // namespace
}  // namespace cpu

Precision parse_precision(const std::string& name) {
  if (name == "float64" || name == "double") return Precision::float64;
  if (name == "float32" || name == "float") return Precision::float32;
  throw Error("unknown precision '" + name + "' (float32 or float64)");
}

ModuleOutputs trace_modules(const Model& model, const Graph& graph) {
  ModuleOutputs out;
  cpu::CpuEngine<double> engine(model, Precision::float64);
  engine.set_trace(&out);
  engine.compute(graph, nullptr);
  return out;
}

std::unique_ptr<Engine> make_cpu_engine(const Model& model, Precision precision) {
  if (precision == Precision::float64) return std::make_unique<cpu::CpuEngine<double>>(model, precision);
  return std::make_unique<cpu::CpuEngine<float>>(model, precision);
}

}  // namespace flashtp
