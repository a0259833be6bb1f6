// What the kernels see of the model: plain structs of device pointers and
// sizes, passed to kernels by value. Built once per engine (device_model.hpp).
#pragma once
#include "cuda/coupling_generated.hpp"
#include "cuda/platform.hpp"
#include "model.hpp"

namespace flashtp::cuda {

// An e3nn Linear (or its transpose) on rows of node features:
//   y[seg_out][v, m] (+)= bias + sum_{paths into seg_out} sum_u x[in_offset + u d + m] W[u][v]
// W is [mul_in][mul_out] at weight_offset; with variant_stride > 0 each
// species has its own weights ('nequip' self-connection: a tensor product with
// the one-hot species is a linear map per species).
template <class R>
struct LinearView {
  int in_dim = 0, out_dim = 0;
  int num_segments = 0;
  int widest_path = 0, widest_segment = 0;  // the largest mul_in d of a path, mul_out d of a segment
  const int* segments = nullptr;  // per output segment: out_offset, mul_out, d, path_begin, path_end
  const int* paths = nullptr;     // per path: in_offset, mul_in, weight_offset, packed_offset
  const R* weight = nullptr;  // null where packed is set
  int variant_stride = 0;
  // float, one W for all rows (the tensor cores' linears): each path's W split
  // and packed (PackedB, zero-padded to whole k-steps and kLinearTile
  // columns) at its packed_offset; otherwise null
  const R* packed = nullptr;
  int tensor_items = 0;  // warps per tile of rows on the tensor cores: over segments, d x chunks of kLinearTile
  const R* bias = nullptr;        // out_dim values, or null
};
constexpr int kSegmentFields = 5, kPathFields = 4;
constexpr int kLinearTile = 32;  // rows and channels of a warp's block on the tensor cores

// Layers of an e3nn FullyConnectedNet, h <- act(h W_k) (the caller knows
// which layers are activated: all but the network's last); weights
// [widths[k]][widths[k+1]] with 1/sqrt(fan_in) and the activation's
// normalisation folded in, and their transposes for the backward pass.
constexpr int kMaxMlpLayers = 8;
template <class R>
struct MlpView {
  int depth = 0;  // number of weight matrices
  int widths[kMaxMlpLayers + 1] = {};
  const R* weight[kMaxMlpLayers] = {};
  const R* transpose[kMaxMlpLayers] = {};
  // float, a layer on the tensor cores' tiles (rows of 8, columns of 16):
  // the weights and their transpose as split PackedB (tensor_cores.cuh), or null
  const R* packed[kMaxMlpLayers] = {};
  const R* packed_transpose[kMaxMlpLayers] = {};
  ActivationKind act = ActivationKind::silu;
  int max_hidden = 0;  // widest hidden layer (1..depth-1), 0 if none
};

// Bessel basis x envelope of |r|, and the spherical harmonics of r/|r|.
template <class R>
struct EmbeddingView {
  int num_basis = 0;
  const R* frequency = nullptr;
  R cutoff = 0;
  bool polynomial = true;
  R poly_p = 6, xplor_on = 0;
  int lmax = 0;
  bool sh_normalized = true;  // false: Y_l carries r^l (SevenNet <= 0.9, Model::sh_normalized)
  FLASHTP_DEVICE int sh_size() const { return (lmax + 1) * (lmax + 1); }
};

// The convolution of one layer, laid out for the fused kernels. Columns of
// the radial MLP's last layer (one per path and channel u) are "slots"; each
// path is padded to whole tasks of 32 slots. Per task (channels u0 .. u0 + 31),
// the fields of TaskField. A warp works on one task at a time in the forward
// pass, and on one share of a task in the backward (so that a warp never
// mixes paths): kShareLanes lanes of U channels each, times kEdgeGroups
// groups of lanes that take every kEdgeGroups-th edge; a task of 32 channels
// is 4 / U shares. U, the channels a lane computes at once, is the most of 4,
// 2 and 1 for which the lane's arrays of the coupling stay within kLaneWords
// registers (lane_channels), so the couplings dear in registers get the
// smaller shares, and a backward pass, which waits for its slowest warp,
// waits less.
// The last layer's weights are stored per slot, [K][slots] and [slots][K],
// with each path's normalisation alpha and 1/denominator folded in.
// Backward: dL/dh_j is first summed per path into "partial" rows of width
// partial_dim (path p at its own offset), then over the paths of each input
// segment (path_sum): no two threads ever write the same number.
constexpr int kTaskSlots = 32;
enum TaskField : int {
  kTaskCoupling,      // index of (l1, l2, l3)
  kTaskLaneChannels,  // the most channels one lane may take, 4, 2 or 1 (the path's rows are aligned for them)
  kTaskChannels,      // the path's from u0 on, at most 32; the rest is padding (zero weights, writes nothing)
  kTaskX,             // offset in x: path input segment + u0 d1
  kTaskMessage,       // offset in the message: path output segment + u0 d3
  kTaskPartial,       // offset in the partial gradient rows: + u0 d1
  kTaskFields
};
constexpr int kShareLanes = 8, kEdgeGroups = 4;
enum ShareField : int {
  kShareTask,   // index of the task
  kShareFirst,  // its first channel in the task, a multiple of kShareLanes U
  kShareWidth,  // its channels (padding included) and slots: kShareLanes U
  kShareFields
};

// Channels per lane, U, in the forward or backward pass, for a scalar of
// `words` 4-byte registers: the lane's arrays of the coupling C (x, the
// message sums and M forward; x, dL/dx, dL/dm, M and its gradient backward)
// within a budget that leaves the kernels' 128 registers a thread unspilled
// (from ptxas: the rest of a lane's state takes about 40). M is counted as
// its nnz entries, although a lane holds only its distinct products: budgeted
// by products, the dear couplings took more channels a lane, and the passes
// were slower for it (measured on an H200 at 7c367d6: l3i5_arch's backward
// +2 ms, sevennet0_arch's forward +1 ms), while the same U with the products'
// fewer instructions is faster than either (README).
constexpr int kLaneWords = 72;
FLASHTP_DEVICE constexpr int lane_words(int words, CouplingShape c, int U, bool backward) {
  return words * (backward ? U * (2 * c.d1 + c.d3) + 2 * c.nnz : U * (c.d1 + c.d3) + c.nnz);
}
FLASHTP_DEVICE constexpr int lane_channels(int words, CouplingShape c, bool backward) {
  if (lane_words(words, c, 4, backward) <= kLaneWords) return 4;
  return lane_words(words, c, 2, backward) <= kLaneWords ? 2 : 1;
}
// A task's U: `most` (lane_channels) where its rows are aligned for that
// many (kTaskLaneChannels), else 1. The host plans the backward's shares with
// it (DeviceModel::plan_shares), the kernels dispatch with it (dispatch_task).
FLASHTP_DEVICE constexpr int task_lane_channels(int most, int aligned) { return aligned >= most ? most : 1; }

// A node's row of per-path partial gradients: `numbers` of them, padded so
// that rows stay aligned for loads of 4 channels.
constexpr int partial_row_width(int numbers) { return (numbers + 3) / 4 * 4; }

template <class R>
struct ConvView {
  int x_dim = 0, mid_dim = 0, partial_dim = 0;
  int num_slots = 0;             // kTaskSlots per task
  const int* tasks = nullptr;
  const int* shares = nullptr;  // the backward's, kShareFields each, in task order
  int num_shares = 0;
  MlpView<R> hidden;  // radial MLP up to its last hidden layer
  int K = 0;          // width of the last hidden layer (or the basis, if no hidden layer)
  const R* last = nullptr;            // [K][num_slots]
  const R* last_transpose = nullptr;  // [num_slots][K]
  // float, K a multiple of 16, as PackedB (tensor_cores.cuh) already split
  // into TF32 heads and tails, or null: the last layer and its transpose
  const R* last_packed_split = nullptr;
  const R* last_transpose_packed_split = nullptr;
  const int* path_sum_start = nullptr;  // x_dim + 1
  const int* path_sum_index = nullptr;  // partial offsets to add for each x element
};

// e3nn Gate, element by element. Forward, per output element:
//   scalar: out = act(y[a]);  gated: out = y[a] * act(y[b]).
// Backward, per input element k:
//   scalar: g[k] = go[a] act'(y[k]);   gated: g[k] = go[a] act(y[b]);
//   gate:   g[k] = act'(y[k]) sum_{m < c} go[a + m] y[b + m].
// act indexes act_kind / act_scale (the normalisation is applied here).
enum GateRole : int { kGateScalar = 0, kGateGated = 1, kGateGate = 2 };
constexpr int kGateFields = 5;  // role, a, b, c, act
template <class R>
struct GateView {
  int in_dim = 0, out_dim = 0;
  const int* forward = nullptr;   // out_dim x kGateFields
  const int* backward = nullptr;  // in_dim x kGateFields
  const int* act_kind = nullptr;
  const R* act_scale = nullptr;
};

}  // namespace flashtp::cuda
