#include "cuda/device_model.hpp"

#include <algorithm>
#include <type_traits>

#include "cpu/dense.hpp"
#include "cuda/coupling_generated.hpp"
#include "cuda/tensor_cores.cuh"
#include "error.hpp"
#include "so3.hpp"

namespace flashtp::cuda {

template <class R>
template <class V>
const V* DeviceModel<R>::upload(const std::vector<V>& values) {
  if (values.empty()) return nullptr;
  const size_t bytes = values.size() * sizeof(V);
  V* p = static_cast<V*>(device_malloc(bytes));
  copy_to_device(p, values.data(), bytes);
  store_.emplace_back(p, [bytes](void* q) { device_free(q, bytes); });
  return p;
}

namespace {
// A row-major rows x cols matrix as PackedB (rows a multiple of 8, cols of 16).
std::vector<float> pack_b(const std::vector<float>& m, int rows, int cols) {
  std::vector<float> packed(PackedB::kParts * m.size());
  for (int k = 0; k < rows; ++k)
    for (int n = 0; n < cols; ++n) PackedB::store(m[static_cast<size_t>(k) * cols + n], k, n, rows, packed.data());
  return packed;
}
}  // namespace

// Forward: one entry per output segment, listing the paths into it (model
// order, as the CPU sums them). Transposed (dL/dx from dL/dy): the roles of
// the input and output segments swap and each W becomes W^T.
template <class R>
LinearView<R> DeviceModel<R>::linear(const std::vector<const Linear*>& variants, bool transpose) {
  const Linear& def = *variants.front();
  const Irreps& in = transpose ? def.out : def.in;
  const Irreps& out = transpose ? def.in : def.out;
  std::vector<int> segments, paths;
  std::vector<size_t> order;  // model path index of each entry of `paths`
  int widest_path = 0, widest_segment = 0, tensor_items = 0;
  for (int o = 0; o < out.size(); ++o) {
    const int begin = static_cast<int>(order.size());
    for (size_t p = 0; p < def.paths.size(); ++p) {
      const auto& path = def.paths[p];
      const int seg_out = transpose ? path.seg_in : path.seg_out;
      const int seg_in = transpose ? path.seg_out : path.seg_in;
      if (seg_out != o) continue;
      order.push_back(p);
      paths.insert(paths.end(), {in.offset(seg_in), in[seg_in].mul, 0, 0});
      widest_path = std::max(widest_path, in[seg_in].dim());
    }
    segments.insert(segments.end(), {out.offset(o), out[o].mul, out[o].ir.dim(), begin, static_cast<int>(order.size())});
    widest_segment = std::max(widest_segment, out[o].dim());
    tensor_items += (out[o].mul + kLinearTile - 1) / kLinearTile * out[o].ir.dim();
  }
  std::vector<R> weights;
  for (const Linear* v : variants) {
    if (v->paths.size() != def.paths.size()) throw Error("CUDA engine: per-species linears differ in shape");
    for (size_t n = 0; n < order.size(); ++n) {
      const auto& path = v->paths[order[n]];
      const int mul_in = def.in[path.seg_in].mul, mul_out = def.out[path.seg_out].mul;
      if (v == variants.front()) paths[n * kPathFields + 2] = static_cast<int>(weights.size());
      for (int a = 0; a < (transpose ? mul_out : mul_in); ++a)
        for (int b = 0; b < (transpose ? mul_in : mul_out); ++b)
          weights.push_back(R(transpose ? path.weight[static_cast<size_t>(b) * mul_out + a]
                                        : path.weight[static_cast<size_t>(a) * mul_out + b]));
    }
  }
  LinearView<R> view;
  view.in_dim = in.dim();
  view.out_dim = out.dim();
  view.num_segments = out.size();
  view.widest_path = widest_path;
  view.widest_segment = widest_segment;
  view.tensor_items = tensor_items;
  view.variant_stride = variants.size() > 1 ? static_cast<int>(weights.size() / variants.size()) : 0;
  if constexpr (std::is_same_v<R, float>) {
    if (view.variant_stride == 0) {  // W, zero-padded to rows of 8 and kLinearTile columns, split and packed
      std::vector<float> packed;
      for (size_t o = 0; o < segments.size() / kSegmentFields; ++o) {
        const int* seg = &segments[o * kSegmentFields];
        const int cols = seg[1], padded_cols = (cols + kLinearTile - 1) / kLinearTile * kLinearTile;
        for (int n = seg[3]; n < seg[4]; ++n) {
          int* path = &paths[static_cast<size_t>(n) * kPathFields];
          const int rows = path[1], padded_rows = (rows + kMmaDepth - 1) / kMmaDepth * kMmaDepth;
          std::vector<float> w(static_cast<size_t>(padded_rows) * padded_cols, 0.0f);
          for (int u = 0; u < rows; ++u)
            for (int v = 0; v < cols; ++v)
              w[static_cast<size_t>(u) * padded_cols + v] = weights[path[2] + static_cast<size_t>(u) * cols + v];
          path[3] = static_cast<int>(packed.size());
          const std::vector<float> p = pack_b(w, padded_rows, padded_cols);
          packed.insert(packed.end(), p.begin(), p.end());
        }
      }
      view.packed = upload(packed);
    }
  }
  if (!view.packed) view.weight = upload(weights);  // linear_rows's
  view.segments = upload(segments);
  view.paths = upload(paths);
  if (!transpose && !def.bias.empty()) view.bias = upload(std::vector<R>(def.bias.begin(), def.bias.end()));
  return view;
}

// The first `layers` weight matrices of an MLP, and their transposes.
template <class R>
MlpView<R> DeviceModel<R>::mlp(const Mlp& def, int layers) {
  if (layers > kMaxMlpLayers) throw Error("CUDA engine: MLP deeper than " + std::to_string(kMaxMlpLayers));
  MlpView<R> view;
  view.depth = layers;
  view.act = def.act.kind;
  for (int k = 0; k <= layers; ++k) view.widths[k] = def.widths[k];
  for (int k = 0; k < layers; ++k) {
    const int rows = def.widths[k], cols = def.widths[k + 1];
    std::vector<R> w(def.weight[k].begin(), def.weight[k].end()), t(w.size());
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) t[static_cast<size_t>(c) * rows + r] = w[static_cast<size_t>(r) * cols + c];
    view.weight[k] = upload(w);
    view.transpose[k] = upload(t);
    if constexpr (std::is_same_v<R, float>) {
      if (rows % kMmaDepth == 0 && cols % 16 == 0) view.packed[k] = upload(pack_b(w, rows, cols));
      if (cols % kMmaDepth == 0 && rows % 16 == 0) view.packed_transpose[k] = upload(pack_b(t, cols, rows));
    }
    if (k + 1 < layers) view.max_hidden = std::max(view.max_hidden, cols);
  }
  if (layers > 0) view.max_hidden = std::max(view.max_hidden, def.widths[layers]);
  return view;
}

// Each task's shares in the backward pass (views.hpp), in task order (a
// pass's slots are then one range), for scalars of scalar_words_ registers.
// (Ordered dearest first, by an estimate of a lane's instructions per edge,
// the passes were no faster on an H200: sevennet0_arch's backward ~4% slower.)
template <class R>
std::vector<int> DeviceModel<R>::plan_shares(const std::vector<int>& tasks) const {
  std::vector<int> shares;
  for (size_t t = 0; t < tasks.size() / kTaskFields; ++t) {
    const int* task = &tasks[t * kTaskFields];
    const CouplingShape c = coupling_shape(task[kTaskCoupling]);
    const int most = lane_channels(scalar_words_, c, true);
    const int width = kShareLanes * task_lane_channels(most, task[kTaskLaneChannels]);
    for (int first = 0; first < kTaskSlots; first += width)
      shares.insert(shares.end(), {static_cast<int>(t), first, width});
  }
  return shares;
}

template <class R>
ConvView<R> DeviceModel<R>::convolution(const Convolution& conv) {
  ConvView<R> view;
  const int depth = static_cast<int>(conv.radial.weight.size());
  view.hidden = mlp(conv.radial, depth - 1);
  view.K = conv.radial.widths[depth - 1];
  view.x_dim = conv.in.dim();
  view.mid_dim = conv.mid.dim();
  const int n_w = conv.radial.widths[depth];
  const auto& last = conv.radial.weight[depth - 1];  // [K][n_w]

  // The most channels a lane may load at once: every row offset and stride
  // of the path divisible by it.
  auto aligned_channels = [&](std::initializer_list<int> offsets) {
    for (int u : {4, 2}) {
      bool aligned = view.x_dim % u == 0 && view.mid_dim % u == 0;
      for (int o : offsets) aligned = aligned && o % u == 0;
      if (aligned) return u;
    }
    return 1;
  };
  std::vector<int> tasks, path_offset;
  std::vector<std::pair<int, int>> column;  // per slot: model column (-1: padding) and path
  int partial = 0;
  for (const auto& p : conv.paths) {
    const int l1 = conv.in[p.seg_in].ir.l, l2 = conv.sh[p.seg_sh].ir.l, l3 = conv.mid[p.seg_out].ir.l;
    const int coupling = coupling_index(l1, l2, l3);
    if (coupling < 0 || l2 * l2 != conv.sh.offset(p.seg_sh))
      throw Error("CUDA engine: unsupported path " + conv.in[p.seg_in].ir.str() + " x " + conv.sh[p.seg_sh].ir.str() +
                  " -> " + conv.mid[p.seg_out].ir.str() + " (degrees up to " + std::to_string(kMaxL) + ")");
    const int mul = conv.in[p.seg_in].mul, d1 = 2 * l1 + 1, d3 = 2 * l3 + 1;
    const int x0 = conv.in.offset(p.seg_in), m0 = conv.mid.offset(p.seg_out);
    const int per_lane = aligned_channels({mul, x0, m0, partial});
    path_offset.push_back(partial);
    for (int u0 = 0; u0 < mul; u0 += kTaskSlots) {
      int* task = &*tasks.insert(tasks.end(), kTaskFields, 0);
      task[kTaskCoupling] = coupling;
      task[kTaskLaneChannels] = per_lane;
      task[kTaskChannels] = std::min(kTaskSlots, mul - u0);
      task[kTaskX] = x0 + u0 * d1;
      task[kTaskMessage] = m0 + u0 * d3;
      task[kTaskPartial] = partial + u0 * d1;
      for (int u = u0; u < u0 + kTaskSlots; ++u)
        column.emplace_back(u < mul ? p.weight_offset + u : -1, static_cast<int>(&p - conv.paths.data()));
    }
    partial += mul * d1;
  }
  view.partial_dim = partial_row_width(partial);
  view.num_slots = static_cast<int>(column.size());
  view.tasks = upload(tasks);
  const auto shares = plan_shares(tasks);
  view.shares = upload(shares);
  view.num_shares = static_cast<int>(shares.size()) / kShareFields;

  // last layer per slot, with alpha / denominator folded in
  const int K = view.K, S = view.num_slots;
  std::vector<R> w(static_cast<size_t>(K) * S, R(0)), t(w.size(), R(0));
  for (int s = 0; s < S; ++s) {
    const auto [col, path] = column[s];
    if (col < 0) continue;
    const double factor = conv.paths[path].alpha / conv.denominator;
    for (int k = 0; k < K; ++k) {
      const R v = R(last[static_cast<size_t>(k) * n_w + col] * factor);
      w[static_cast<size_t>(k) * S + s] = v;
      t[static_cast<size_t>(s) * K + k] = v;
    }
  }
  view.last = upload(w);
  view.last_transpose = upload(t);
  if constexpr (std::is_same_v<R, float>) {
    if (K % 16 == 0) {
      view.last_packed_split = upload(pack_b(w, K, S));
      view.last_transpose_packed_split = upload(pack_b(t, S, K));
    }
  }

  // dL/dh[seg][u][i] = sum over the paths reading segment seg of partial[path][u][i]
  std::vector<int> start = {0}, index;
  for (int seg = 0; seg < conv.in.size(); ++seg) {
    const int mul = conv.in[seg].mul, d = conv.in[seg].ir.dim();
    for (int u = 0; u < mul; ++u)
      for (int i = 0; i < d; ++i) {
        for (size_t p = 0; p < conv.paths.size(); ++p)
          if (conv.paths[p].seg_in == seg) index.push_back(path_offset[p] + u * d + i);
        start.push_back(static_cast<int>(index.size()));
      }
  }
  view.path_sum_start = upload(start);
  view.path_sum_index = upload(index);
  return view;
}

// device_model.hpp's density of the first layer: Wt for every species, or
// nothing where a path couples a channel that is not a scalar (or the
// coupling is not diagonal).
template <class R>
void DeviceModel<R>::plan_first_layer_density(const Model& model) {
  const Layer& layer = model.layers.front();
  const Convolution& conv = layer.conv;
  std::vector<double> c;
  for (const auto& path : conv.paths) {
    const int l1 = conv.in[path.seg_in].ir.l, l2 = conv.sh[path.seg_sh].ir.l, l3 = conv.mid[path.seg_out].ir.l;
    if (l1 != 0 || l2 != l3) return;
    const auto cg = wigner_3j_sparse(0, l2, l3);
    if (static_cast<int>(cg.size()) != 2 * l2 + 1) return;
    for (const auto& e : cg)
      if (e.j != e.k || e.c != cg.front().c) return;
    c.push_back(cg.front().c);
  }
  // h_s: the first layer's input for each species
  const cpu::DenseLinear<double> linear_1(layer.linear_1);
  std::vector<std::vector<double>> h(model.num_species(), std::vector<double>(conv.in.dim()));
  for (int s = 0; s < model.num_species(); ++s) linear_1.forward(model.embedding[s].data(), h[s].data());

  const int depth = static_cast<int>(conv.radial.weight.size());
  auto& d = density_;
  d.sh = conv.sh;
  d.mid = conv.mid;
  d.K = conv.radial.widths[depth - 1];
  d.slots = conv.radial.widths[depth];
  d.paths = conv.paths;
  const auto& last = conv.radial.weight[depth - 1];  // [K][slots]
  std::vector<double> w(static_cast<size_t>(model.num_species()) * d.K * d.slots, 0.0);
  for (size_t p = 0; p < conv.paths.size(); ++p) {
    const auto& path = conv.paths[p];
    const int mul = conv.in[path.seg_in].mul, x0 = conv.in.offset(path.seg_in);
    d.mul.push_back(mul);
    const double factor = path.alpha / conv.denominator * c[p];
    for (int s = 0; s < model.num_species(); ++s)
      for (int k = 0; k < d.K; ++k)
        for (int u = 0; u < mul; ++u) {
          const size_t col = static_cast<size_t>(path.weight_offset + u);
          w[(static_cast<size_t>(s) * d.K + k) * d.slots + col] = last[k * d.slots + col] * factor * h[s][x0 + u];
        }
  }
  d.weight = std::move(w);
}

template <class R>
const typename DeviceModel<R>::DensityLinears& DeviceModel<R>::density_linears(const std::vector<int>& slot_species) {
  const auto known = density_linears_.find(slot_species);
  if (known != density_linears_.end()) return known->second;
  const auto& d = density_;
  const int S = static_cast<int>(slot_species.size());
  std::vector<MulIrrep> in;
  for (const auto& segment : d.sh) in.push_back({S * d.K, segment.ir});
  Linear def;
  def.in = Irreps(in);
  def.out = d.mid;
  for (size_t p = 0; p < d.paths.size(); ++p) {
    const int col0 = d.paths[p].weight_offset, mul = d.mul[p];
    Linear::Path path{d.paths[p].seg_sh, d.paths[p].seg_out, std::vector<double>(static_cast<size_t>(S) * d.K * mul)};
    for (int s = 0; s < S; ++s)
      for (int k = 0; k < d.K; ++k)
        for (int u = 0; u < mul; ++u)
          path.weight[(static_cast<size_t>(s) * d.K + k) * mul + u] =
              d.weight[(static_cast<size_t>(slot_species[s]) * d.K + k) * d.slots + col0 + u];
    def.paths.push_back(std::move(path));
  }
  return density_linears_[slot_species] = DensityLinears{linear({&def}, false), linear({&def}, true)};
}

template <class R>
GateView<R> DeviceModel<R>::gate(const Gate& def) {
  GateView<R> view;
  view.in_dim = def.in.dim();
  view.out_dim = def.out.dim();
  std::vector<int> forward, backward(static_cast<size_t>(view.in_dim) * kGateFields, -1), kinds;
  std::vector<R> scales;
  auto add_act = [&](const Activation& a) {
    kinds.push_back(static_cast<int>(a.kind));
    scales.push_back(R(a.scale));
    return static_cast<int>(kinds.size()) - 1;
  };
  auto set_backward = [&](int k, std::initializer_list<int> fields) {
    std::copy(fields.begin(), fields.end(), backward.begin() + static_cast<size_t>(k) * kGateFields);
  };
  int o = 0;
  for (const auto& s : def.scalars) {
    const int act = add_act(s.act);
    for (int c = 0; c < s.count; ++c, ++o) {
      forward.insert(forward.end(), {kGateScalar, s.in_offset + c, 0, 0, act});
      set_backward(s.in_offset + c, {kGateScalar, o, 0, 0, act});
    }
  }
  for (const auto& g : def.gated) {
    const int act = add_act(g.act);
    for (int u = 0; u < g.mul; ++u) {
      set_backward(g.gate_offset + u, {kGateGate, o, g.in_offset + u * g.dim, g.dim, act});
      for (int m = 0; m < g.dim; ++m, ++o) {
        const int k = g.in_offset + u * g.dim + m;
        forward.insert(forward.end(), {kGateGated, k, g.gate_offset + u, 0, act});
        set_backward(k, {kGateGated, o, g.gate_offset + u, 0, act});
      }
    }
  }
  if (o != view.out_dim) throw Error("CUDA engine: gate output size mismatch");
  for (int k = 0; k < view.in_dim; ++k)
    if (backward[static_cast<size_t>(k) * kGateFields] < 0) throw Error("CUDA engine: gate input not used");
  view.forward = upload(forward);
  view.backward = upload(backward);
  view.act_kind = upload(kinds);
  view.act_scale = upload(scales);
  return view;
}

template <class R>
DeviceModel<R>::DeviceModel(const Model& model, int scalar_words) : scalar_words_(scalar_words) {
  if (model.lmax_sh > kMaxL) throw Error("CUDA engine: spherical harmonics up to l = " + std::to_string(kMaxL));
  embedding.num_basis = static_cast<int>(model.radial.frequency.size());
  embedding.frequency = upload(std::vector<R>(model.radial.frequency.begin(), model.radial.frequency.end()));
  embedding.cutoff = R(model.radial.cutoff);
  embedding.polynomial = model.radial.envelope == RadialBasis::Envelope::polynomial;
  embedding.poly_p = R(model.radial.poly_p);
  embedding.xplor_on = R(model.radial.xplor_on);
  embedding.lmax = model.lmax_sh;
  embedding.sh_normalized = model.sh_normalized;
  max_sh_size = embedding.sh_size();

  dim0 = model.irreps_embedding.dim();
  std::vector<R> table;
  for (const auto& row : model.embedding) table.insert(table.end(), row.begin(), row.end());
  species_embedding = upload(table);

  dim_last = dim0;
  for (const auto& l : model.layers) {
    LayerViews v;
    v.linear_1 = linear({&l.linear_1}, false);
    v.linear_1_t = linear({&l.linear_1}, true);
    v.linear_2 = linear({&l.linear_2}, false);
    v.linear_2_t = linear({&l.linear_2}, true);
    std::vector<const Linear*> sc;
    for (const auto& s : l.self_connection) sc.push_back(&s);
    v.self_connection = linear(sc, false);
    v.self_connection_t = linear(sc, true);
    v.conv = convolution(l.conv);
    v.gate = gate(l.gate);
    v.dim_x = l.conv.in.dim();
    v.dim_mid = l.conv.mid.dim();
    v.dim_gate = l.gate.in.dim();
    v.dim_out = l.gate.out.dim();
    dim_last = v.dim_out;
    layers.push_back(v);
  }
  if (!model.layers.empty()) plan_first_layer_density(model);
  for (const auto& r : model.readout_linears) {
    readout.push_back(linear({&r}, false));
    readout_t.push_back(linear({&r}, true));
  }
  if (!model.readout_mlp.weight.empty())
    readout_mlp = mlp(model.readout_mlp, static_cast<int>(model.readout_mlp.weight.size()));
  scale = upload(std::vector<R>(model.scale.begin(), model.scale.end()));
  shift = upload(std::vector<R>(model.shift.begin(), model.shift.end()));
}

template class DeviceModel<float>;
template class DeviceModel<double>;

}  // namespace flashtp::cuda
