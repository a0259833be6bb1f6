// The pipeline of pipeline.hpp: the CPU engine's algorithm with the
// convolution fused per layer. Node features live on the
// device from the embedding to the forces; the host sees the graph going in
// and per-atom energies, forces and virials coming out (and ghost rows, when
// a GhostExchange needs them).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "cuda/convolution.cuh"
#include "cuda/density.cuh"
#include "cuda/device_model.hpp"
#include "cuda/edge_kernels.cuh"
#include "cuda/graph_layout.hpp"
#include "cuda/node_kernels.cuh"
#include "cuda/pipeline.hpp"
#include "cuda/runtime.hpp"
#include "error.hpp"

namespace flashtp::cuda {

// Edges per chunk (forward, backward) and threads per block of the fused
// kernels, and of radial_backward (a warp's shared memory grows with T). A
// chunk reads the radial MLP's last layer once: the float forward's chunks of
// 64 edges halve that traffic (its per-slot weights share the hidden layers'
// buffers, so two blocks still fit a multiprocessor).
template <class T> struct KernelShape;
template <> struct KernelShape<float> {
  static constexpr int forward_edges = 64, edges = 32, threads = 256, radial_threads = 128;
};
template <> struct KernelShape<double> {
  static constexpr int forward_edges = 16, edges = 16, threads = 256, radial_threads = 64;
};
template <> struct KernelShape<Dual<double>> {
  static constexpr int forward_edges = 8, edges = 8, threads = 128, radial_threads = 32;
};

// A block's tile of centre atoms holds at most this many edges; a tile of
// senders about kSenderTileEdges (FLASHTP_CUDA_SENDER_TILE_EDGES in the
// environment sets it): graph_layout.hpp.
constexpr int64_t kCentreTileEdges = 256, kSenderTileEdges = 1024;

// The first layer goes through density.cuh when the graph has at most this
// many species (FLASHTP_CUDA_DENSITY_SPECIES in the environment sets it; 0
// leaves the layer to the fused kernels): an atom's contraction costs per
// species present, as an edge's weights cost per neighbour (sevennet0_arch:
// 2 x 9 harmonics against ~44 neighbours).
constexpr int64_t kDensityMaxSpecies = 8;

// The backward's per-edge scratch (a layer's dL/da, hidden pre-activations,
// dL/demb and dL/dY: edge_kernels.cuh) holds at most this many bytes, unless
// the environment's FLASHTP_CUDA_EDGE_BATCH sets its edges: the layer's edges
// go through the fused backward and the per-edge kernels in batches of whole
// tiles that fit.
constexpr size_t kEdgeScratchBytes = size_t{1} << 30;

// Numbers an edge keeps per hidden layer of the radial MLP: its pre-activations.
template <class R>
int hidden_widths(const MlpView<R>& mlp) {
  int sum = 0;
  for (int k = 1; k <= mlp.depth; ++k) sum += mlp.widths[k];
  return sum;
}

// The whole number >= least in the environment variable `name` (`what` it
// counts, for the error), or `fallback` where it is unset.
inline int64_t environment_count(const char* name, int64_t fallback, int64_t least, const char* what) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  if (*end != '\0' || n < least) throw Error(std::string(name) + " must be " + what + ", not '" + v + "'");
  return n;
}

// Edges per batch of the backward's per-edge scratch, `per_edge` numbers of
// `bytes` each an edge.
inline int64_t edge_batch(size_t per_edge, size_t bytes) {
  return environment_count("FLASHTP_CUDA_EDGE_BATCH", std::max<int64_t>(1, kEdgeScratchBytes / (per_edge * bytes)), 1,
                           "a positive number of edges");
}

// The host hooks take float or double rows; a dual row is 2 x dim doubles.
inline void ghosts_forward(GhostExchange& g, float* p, int dim) { g.forward(p, dim); }
inline void ghosts_forward(GhostExchange& g, double* p, int dim) { g.forward(p, dim); }
inline void ghosts_forward(GhostExchange& g, Dual<double>* p, int dim) { g.forward(&p->v, 2 * dim); }
inline void ghosts_reverse(GhostExchange& g, float* p, int dim) { g.reverse(p, dim); }
inline void ghosts_reverse(GhostExchange& g, double* p, int dim) { g.reverse(p, dim); }
inline void ghosts_reverse(GhostExchange& g, Dual<double>* p, int dim) { g.reverse(&p->v, 2 * dim); }

template <class T>
class Pipeline final : public Evaluation<T> {
 public:
  using R = real_t<T>;
  using Output = PipelineOutput<T>;
  static constexpr int EC = KernelShape<T>::edges, EC_FORWARD = KernelShape<T>::forward_edges,
                       THREADS = KernelShape<T>::threads, RADIAL_THREADS = KernelShape<T>::radial_threads;

  explicit Pipeline(const Model& model)
      : num_species_(model.num_species()), dm_(model, static_cast<int>(sizeof(T) / 4)) {
    size_t backward_bytes = 0;  // the fused backward's shared memory, widest layer
    for (const auto& l : dm_.layers) {
      if (l.conv.K > THREADS)
        throw Error("CUDA engine: the radial MLP's last hidden layer is wider than " + std::to_string(THREADS));
      backward_bytes = std::max(backward_bytes, conv_bytes(l.conv, true));
      if (std::max({conv_bytes(l.conv, false), backward_bytes, radial_bytes(l.conv)}) > shared_memory_limit())
        throw Error("CUDA engine: a layer needs more shared memory than the device has");
      widest_row_ = std::max({widest_row_, l.conv.x_dim, l.conv.mid_dim, l.conv.partial_dim});
      scratch_per_edge_ = std::max(scratch_per_edge_, size_t(l.conv.K + hidden_widths(l.conv.hidden)));
    }
    scratch_per_edge_ += dm_.embedding.num_basis + dm_.embedding.sh_size();
    density_species_ = environment_count("FLASHTP_CUDA_DENSITY_SPECIES", kDensityMaxSpecies, 0, "a number of species");
    if (!dm_.has_density() || density_bytes() > shared_memory_limit()) density_species_ = 0;
    batch_edges_ = edge_batch(scratch_per_edge_, sizeof(T));
    tile_shape_ = {kCentreTileEdges, EC_FORWARD,
                   environment_count("FLASHTP_CUDA_SENDER_TILE_EDGES", kSenderTileEdges, 1, "a positive number of edges"),
                   resident_blocks(convolution_backward<T, EC, THREADS>, THREADS, backward_bytes)};
  }

  Output run(const Graph& g, const T* vec, GhostExchange* ghosts) override {
    {
      HostSpan span("topology check and upload");
      upload(g, vec, ghosts != nullptr);
    }
    forward(ghosts);
    readout();
    backward(ghosts);

    const int N = nodes_, Lc = local_;
    launch("forces_and_virial", forces_and_virial<T>, blocks_for(N), kNodeThreads, 0, N, Lc, centre_start_.data(),
           sender_rank_.data(), sender_start_.data(), sender_edges_.data(), vec_.data(), grad_vec_.data(),
           forces_.reserve(3 * size_t(N)), virial_.reserve(6 * size_t(N)));
    HostSpan span("download");  // waits for the kernels: timed alone only while profiling
    // into page-locked arrays kept from run to run: one DMA each, no fresh pages
    T* energy = energy_host_.reserve(Lc);
    T* forces = forces_host_.reserve(3 * size_t(N));
    T* virial = virial_host_.reserve(6 * size_t(N));
    energy_.download(energy, Lc);
    forces_.download(forces, 3 * size_t(N));
    virial_.download(virial, 6 * size_t(N));
    return {energy, Lc, forces, virial};
  }

 private:
  size_t conv_bytes(const ConvView<R>& cv, bool backward) const {
    const int edges = backward ? EC : EC_FORWARD;
    const ConvShared s(edges, THREADS, dm_.embedding.num_basis, dm_.embedding.sh_size(), hidden_buffer_width(cv),
                       cv.K, backward, tensor_core_gemms<T>(cv));
    return s.bytes<T>();
  }
  size_t density_bytes() const {  // density.cuh's kernels take chunks of EC_FORWARD edges
    const ConvView<R>& cv = dm_.layers.front().conv;
    const DensityShared s(EC_FORWARD, dm_.embedding.num_basis, dm_.embedding.sh_size(), hidden_buffer_width(cv), cv.K);
    return s.bytes<T>(EC_FORWARD);
  }
  size_t radial_bytes(const ConvView<R>& cv) const {
    const RadialShared s(dm_.embedding.num_basis, cv.hidden.depth, radial_width(cv.hidden, cv.K),
                         radial_backward_on_tensor_cores<T>(cv.hidden));
    return static_cast<size_t>(s.total) * (RADIAL_THREADS / kWarpSize) * sizeof(T);
  }

  // The graph's topology goes up only when it differs from the last one's
  // (MD steps between neighbour-list rebuilds move atoms, not edges).
  void upload(const Graph& g, const T* vec, bool have_ghost_exchange) {
    const bool same = g.num_local == local_ && g.num_nodes == nodes_ && g.center == topology_.center &&
                      g.neighbor == topology_.neighbor && g.species == topology_.species &&
                      g.centre_start == topology_.centre_start;
    if (same) {
      if (g.num_nodes > g.num_local && !have_ghost_exchange)
        throw Error("graph has ghost nodes but no ghost exchange was given");
    } else {
      // the fused kernels address node rows with 32-bit offsets (NodeColumns)
      if (static_cast<uint64_t>(g.num_nodes) * static_cast<uint64_t>(widest_row_) >= (uint64_t{1} << 32))
        throw Error("CUDA engine: " + std::to_string(g.num_nodes) + " atoms (ghosts included) x " +
                    std::to_string(widest_row_) + " features exceed 2^32 numbers in one array; use more MPI ranks");
      layout_graph(g, num_species_, have_ghost_exchange, tile_shape_, layout_);
      plan_density(g.species);
      nodes_ = g.num_nodes;
      local_ = g.num_local;
      edges_ = g.num_edges();
      centre_tiles_count_ = static_cast<unsigned>(layout_.centre_tiles.size() - 1);
      species_.upload(g.species);
      center_.upload(g.center);
      neighbor_.upload(g.neighbor);
      centre_start_.upload(g.centre_start);
      sender_rank_.upload(layout_.sender_rank);
      sender_start_.upload(layout_.sender_start);
      sender_edges_.upload(layout_.sender_edges);
      centre_tiles_.upload(layout_.centre_tiles);
      sender_tiles_.upload(layout_.sender_tiles);
      batches_of(layout_.sender_tiles, batch_edges_, tile_shape_.sender_slots, sender_batches_);  // whole waves
      longest_batch_ = 0;
      for (size_t b = 0; b + 1 < sender_batches_.size(); ++b)
        longest_batch_ = std::max(longest_batch_, batch_range(b).second);
      topology_.center = g.center;  // member by member: the buffers of the last step are reused
      topology_.neighbor = g.neighbor;
      topology_.species = g.species;
      topology_.centre_start = g.centre_start;
    }
    vec_.upload(vec, 3 * size_t(g.num_edges()));
  }

  // The species present in the graph, numbered as slots of the first layer's
  // density (density.cuh); none, leaving the layer to the fused kernels, where
  // the model's first layer does not qualify or the species are many.
  void plan_density(const std::vector<int>& species) {
    density_slots_ = 0;
    if (density_species_ == 0) return;
    std::vector<char> present(num_species_, 0);
    for (int s : species) present[s] = 1;
    std::vector<int> slot(num_species_, -1), of_slot;
    for (int s = 0; s < num_species_; ++s)
      if (present[s]) {
        slot[s] = static_cast<int>(of_slot.size());
        of_slot.push_back(s);
      }
    if (of_slot.empty() || static_cast<int64_t>(of_slot.size()) > density_species_) return;
    species_slot_.upload(slot);
    density_linears_ = &dm_.density_linears(of_slot);
    density_slots_ = static_cast<int>(of_slot.size());
  }
  bool density_layer(size_t t) const { return t == 0 && density_slots_ > 0; }
  int density_row() const { return density_slots_ * dm_.density_K() * dm_.embedding.sh_size(); }

  // The first layer's message through its density (partial_, which serves
  // only the later layers' backward, holds it).
  void density_message_into(const ConvView<R>& cv, T* message) {
    T* density = partial_.zeros(size_t(local_) * density_row());
    launch("density_forward", density_forward<T, EC_FORWARD, THREADS>, centre_tiles_count_, THREADS, density_bytes(),
           cv, dm_.embedding, centre_tiles_.data(), center_.data(), neighbor_.data(), species_.data(),
           species_slot_.data(), density_slots_, vec_.data(), density);
    linear("density_message", density_linears_->message, density, density_row(), message, cv.mid_dim, local_, false);
  }

  // y (+)= L(x) on `rows` rows; the launch is named (and profiled) by the
  // linear's role in the model.
  void linear(const char* role, const LinearView<R>& L, const T* x, int x_stride, T* y, int y_stride, int rows,
              bool accumulate) {
    if constexpr (std::is_same_v<T, float>) {
      if (L.packed) {
        launch(role, linear_rows_tensor<T>, linear_tensor_blocks(L, rows), kNodeThreads, 0, L, x,
               x_stride, y, y_stride, rows, accumulate ? 1 : 0);
        return;
      }
    }
    launch(role, linear_rows<T, R>, linear_blocks(L, rows), kNodeThreads, linear_shared_bytes<T>(L), L, x,
           x_stride, y, y_stride, rows, species_.data(), accumulate ? 1 : 0);
  }

  // Ghost rows of x (nodes x dim) from their owners, through the host.
  void exchange_forward(GhostExchange& ghosts, T* x, int dim) {
    T* host = host_.reserve(size_t(nodes_) * dim);
    copy_to_host(host, x, size_t(local_) * dim * sizeof(T));
    ghosts_forward(ghosts, host, dim);
    copy_to_device(x + size_t(local_) * dim, host + size_t(local_) * dim, size_t(nodes_ - local_) * dim * sizeof(T));
  }
  void exchange_reverse(GhostExchange& ghosts, T* grad, int dim) {
    const size_t bytes = size_t(nodes_) * dim * sizeof(T);
    T* host = host_.reserve(size_t(nodes_) * dim);
    copy_to_host(host, grad, bytes);
    ghosts_reverse(ghosts, host, dim);
    copy_to_device(grad, host, bytes);
  }

  void forward(GhostExchange* ghosts) {
    const int N = nodes_, Lc = local_;
    T* x = x_[0].reserve(size_t(N) * dm_.dim0);
    launch("embed", embed<T, R>, blocks_for(int64_t(N) * dm_.dim0), kNodeThreads, 0, dm_.species_embedding, dm_.dim0,
           species_.data(), N, x);
    h_.resize(dm_.layers.size());
    y_.resize(dm_.layers.size());
    for (size_t t = 0; t < dm_.layers.size(); ++t) {
      const auto& l = dm_.layers[t];
      if (t > 0 && ghosts && N > Lc) exchange_forward(*ghosts, x, l.dim_x);
      T* message;
      if (density_layer(t)) {  // h = linear_1(x) is folded into the density's Linear: not computed
        message = message_.reserve(size_t(Lc) * l.dim_mid);  // the Linear writes every element
        density_message_into(l.conv, message);
      } else {
        T* h = h_[t].reserve(size_t(N) * l.dim_x);
        linear("linear_1", l.linear_1, x, l.dim_x, h, l.dim_x, N, false);
        message = message_.zeros(size_t(Lc) * l.dim_mid);
        launch("convolution_forward", convolution_forward<T, EC_FORWARD, THREADS>, centre_tiles_count_, THREADS,
               conv_bytes(l.conv, false), l.conv, dm_.embedding, centre_tiles_.data(), center_.data(),
               neighbor_.data(), vec_.data(), h, message);
      }

      T* y = y_[t].reserve(size_t(Lc) * l.dim_gate);
      linear("linear_2", l.linear_2, message, l.dim_mid, y, l.dim_gate, Lc, false);
      linear("self_connection", l.self_connection, x, l.dim_x, y, l.dim_gate, Lc, true);
      T* next = x_[(t + 1) % 2].zeros(size_t(N) * l.dim_out);  // ghost rows: zero until exchanged
      launch("gate_forward", gate_forward<T, R>, blocks_for(int64_t(Lc) * l.dim_out), kNodeThreads, 0, l.gate, y, next,
             Lc);
      x = next;
    }
    last_x_ = x;
  }

  // Atomic energies, and dE/dx of the last features into grad_ (ghost rows zero).
  void readout() {
    const int Lc = local_, D = dm_.dim_last;
    T* energy = energy_.reserve(Lc);
    T* grad = grad_[0].zeros(size_t(nodes_) * D);
    if (dm_.readout_mlp.depth > 0) {
      launch("readout_mlp", readout_mlp<T, R>, (Lc + kReadoutRows - 1) / kReadoutRows, kNodeThreads,
             readout_mlp_shared_bytes(dm_.readout_mlp, sizeof(T)), dm_.readout_mlp, dm_.scale, dm_.shift,
             species_.data(), last_x_, Lc, energy, grad);
      return;
    }
    const T* in = last_x_;
    int in_dim = D;
    for (size_t r = 0; r < dm_.readout.size(); ++r) {
      const auto& L = dm_.readout[r];
      T* out = readout_tmp_[r % 2].reserve(size_t(Lc) * L.out_dim);
      linear("readout", L, in, in_dim, out, L.out_dim, Lc, false);
      in = out;
      in_dim = L.out_dim;
    }
    T* seed = seed_.reserve(Lc);
    launch("scale_shift", scale_shift<T, R>, blocks_for(Lc), kNodeThreads, 0, dm_.scale, dm_.shift, species_.data(), in,
           energy, seed, Lc);
    const T* g = seed;
    for (size_t r = dm_.readout.size(); r-- > 0;) {
      const auto& L = dm_.readout_t[r];
      T* out = r == 0 ? grad : readout_tmp_[r % 2].reserve(size_t(Lc) * L.out_dim);
      linear("readout_t", L, g, L.in_dim, out, L.out_dim, Lc, false);
      g = out;
    }
  }

  // Batch b of the backward's edges: its first position (sender order) and its count.
  std::pair<int64_t, int64_t> batch_range(size_t b) const {
    const auto& tiles = layout_.sender_tiles;
    const int64_t first = tiles[sender_batches_[b]];
    return {first, tiles[sender_batches_[b + 1]] - first};
  }

  // dE/dx back through the layers, and grad_vec_ = dE/dr_e through
  // edge_kernels.cuh, a batch of edges at a time: with one batch, dL/demb and
  // dL/dY summed over the layers go back through the geometry once, else each
  // layer's batch goes. The first layer's input (the species embedding) is a
  // constant: its gradient is not computed.
  void backward(GhostExchange* ghosts) {
    const int N = nodes_, Lc = local_;
    const int64_t E = edges_;
    const auto& em = dm_.embedding;
    const bool one_batch = sender_batches_.size() == 2;
    T* grad_vec = grad_vec_.zeros(3 * size_t(E));
    T* grad_emb = grad_emb_.reserve(size_t(longest_batch_) * em.num_basis);
    T* grad_Y = grad_Y_.reserve(size_t(longest_batch_) * em.sh_size());
    auto zero_edge_sums = [&](int64_t count) {
      device_zero(grad_emb, size_t(count) * em.num_basis * sizeof(T));
      device_zero(grad_Y, size_t(count) * em.sh_size() * sizeof(T));
    };
    auto edge_forces_of = [&](int64_t first_edge, int64_t count) {
      launch("edge_forces", edge_forces<T>, blocks_for(count), kNodeThreads, 0, em, count,
             sender_edges_.data() + first_edge, vec_.data(), grad_emb, grad_Y, grad_vec);
    };
    if (one_batch) zero_edge_sums(E);
    int current = 0;  // grad_[current]: dE/dx of the layer's output
    for (size_t t = dm_.layers.size(); t-- > 0;) {
      const auto& l = dm_.layers[t];
      const bool first = t == 0;
      T* grad_out = grad_[current].data();
      T* grad_y = grad_y_.reserve(size_t(Lc) * l.dim_gate);
      launch("gate_backward", gate_backward<T, R>, blocks_for(int64_t(Lc) * l.dim_gate), kNodeThreads, 0, l.gate,
             y_[t].data(), grad_out, grad_y, Lc);
      T* grad_x = first ? nullptr : grad_[1 - current].zeros(size_t(N) * l.dim_x);
      if (!first) linear("self_connection_t", l.self_connection_t, grad_y, l.dim_gate, grad_x, l.dim_x, Lc, true);
      T* grad_message = message_.reserve(size_t(Lc) * l.dim_mid);  // the forward's messages are spent
      linear("linear_2_t", l.linear_2_t, grad_y, l.dim_gate, grad_message, l.dim_mid, Lc, false);

      T* partial = first ? nullptr : partial_.zeros(size_t(N) * l.conv.partial_dim);
      T* grad_density = nullptr;  // the first layer's dL/dD, where its density takes it (partial_ is free)
      if (density_layer(t)) {
        grad_density = partial_.reserve(size_t(Lc) * density_row());
        linear("density_gradient", density_linears_->gradient, grad_message, l.dim_mid, grad_density, density_row(),
               Lc, false);
      }
      T* grad_a = grad_a_.reserve(size_t(longest_batch_) * l.conv.K);
      T* hidden_z = hidden_z_.reserve(size_t(longest_batch_) * hidden_widths(l.conv.hidden));
      for (size_t b = 0; b + 1 < sender_batches_.size(); ++b) {
        const auto [first_edge, count] = batch_range(b);
        const int64_t first_tile = sender_batches_[b];
        if (!one_batch) zero_edge_sums(count);
        const unsigned tiles = static_cast<unsigned>(sender_batches_[b + 1] - first_tile);
        if (grad_density) {
          launch("density_backward", density_backward<T, EC_FORWARD, THREADS>, tiles, THREADS, density_bytes(),
                 l.conv, em, sender_tiles_.data() + first_tile, sender_edges_.data(), center_.data(),
                 neighbor_.data(), species_.data(), species_slot_.data(), density_slots_, vec_.data(), grad_density,
                 hidden_z, grad_a, grad_Y);
        } else {
          launch("convolution_backward", convolution_backward<T, EC, THREADS>, tiles, THREADS,
                 conv_bytes(l.conv, true), l.conv, em, sender_tiles_.data() + first_tile, sender_edges_.data(),
                 center_.data(), neighbor_.data(), vec_.data(), h_[t].data(), grad_message, partial, hidden_z, grad_a,
                 grad_Y);
        }
        constexpr int radial_edges = RADIAL_THREADS / kWarpSize * RadialShared::rows;
        launch("radial_backward", radial_backward<T, RADIAL_THREADS>,
               static_cast<unsigned>((count + radial_edges - 1) / radial_edges), RADIAL_THREADS, radial_bytes(l.conv),
               l.conv.hidden, em.num_basis, l.conv.K, count, hidden_z, grad_a, grad_emb);
        if (!one_batch) edge_forces_of(first_edge, count);
      }
      if (first) break;
      T* grad_h = grad_h_.reserve(size_t(N) * l.dim_x);
      launch("path_sum", path_sum<T, R>, blocks_for(int64_t(N) * l.dim_x), kNodeThreads, 0, l.conv, partial, grad_h, N);
      linear("linear_1_t", l.linear_1_t, grad_h, l.dim_x, grad_x, l.dim_x, N, true);
      if (ghosts && N > Lc) exchange_reverse(*ghosts, grad_x, l.dim_x);
      current = 1 - current;
    }
    if (one_batch) edge_forces_of(0, E);
  }

  struct Topology {
    std::vector<int> center, neighbor, species;
    std::vector<int64_t> centre_start;
  };

  int num_species_;
  DeviceModel<R> dm_;
  int widest_row_ = 0;  // the widest node row the fused kernels address (x, message, partial)
  int64_t density_species_ = 0;  // the most species for density.cuh (0: the model does not qualify, or it is off)
  int density_slots_ = 0;         // species slots of its density (0: the fused kernels take the layer)
  DeviceArray<int> species_slot_;  // model species -> slot of the density (-1 absent)
  const typename DeviceModel<R>::DensityLinears* density_linears_ = nullptr;  // for the graph's slots
  Topology topology_;
  GraphLayout layout_;
  int nodes_ = 0, local_ = 0;
  int64_t edges_ = 0;
  TileShape tile_shape_{};
  unsigned centre_tiles_count_ = 0;
  size_t scratch_per_edge_ = 1;  // numbers of the backward's per-edge scratch, widest layer
  int64_t batch_edges_ = 0, longest_batch_ = 0;
  std::vector<int64_t> sender_batches_;  // tiles of sender_tiles, batches_of
  DeviceArray<int> species_, center_, neighbor_, sender_rank_;
  DeviceArray<int64_t> centre_start_, sender_start_, sender_edges_, centre_tiles_, sender_tiles_;
  DeviceArray<T> vec_, grad_vec_, x_[2], message_, grad_y_, grad_[2], partial_, grad_h_;
  // per edge of a batch, in the backward's order: the layer's dL/da, hidden
  // pre-activations, dL/demb and dL/dY
  DeviceArray<T> grad_a_, hidden_z_, grad_emb_, grad_Y_;
  DeviceArray<T> readout_tmp_[2], seed_, energy_, forces_, virial_;
  PinnedArray<T> energy_host_, forces_host_, virial_host_;  // the Output's
  std::vector<DeviceArray<T>> h_, y_;  // per layer, kept for the backward pass
  const T* last_x_ = nullptr;
  PinnedArray<T> host_;  // ghost exchange staging (page-locked: the copies run at the bus's speed)
};

}  // namespace flashtp::cuda
