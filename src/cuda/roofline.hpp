// The work of one evaluation of the CUDA engine, kernel by kernel, for a
// roofline: the arithmetic the model asks of each kernel, in FLOPs (2 per
// multiply-add) of its matrix products and of everything else (the tensor
// product's Clebsch-Gordan products, nonzero entries only, as the generated
// couplings compute them), and the bytes it must move through device memory
// (every array it reads or writes, once; gathers that hit the caches cost
// nothing more). No kernel runs faster than its roof,
//   max(matrix / matrix peak + other / CUDA-core peak, bytes / bandwidth).
// Elementwise work (activations, the gate, the geometry's sines) counts bytes
// and, where it is more than a few operations, its multiply-adds.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "cuda/runtime.hpp"
#include "graph.hpp"
#include "model.hpp"

namespace flashtp::cuda {

struct KernelWork {
  double matrix_flop = 0;  // matrix products: on the tensor cores in float
  double other_flop = 0;   // the rest, on the CUDA cores
  double bytes = 0;
};

// What one evaluation ran on: the graph's sizes, and which way the kernels
// went (pipeline.cuh).
struct EvaluationShape {
  int64_t local = 0, nodes = 0, edges = 0;
  int species = 0;                   // present in the graph: the first layer's density slots
  bool first_layer_density = false;  // the first layer through density.cuh, not the fused kernels
  bool one_edge_batch = true;        // edge_forces once for all layers, not per layer and batch
  int scalar_bytes = 4;              // float 4, double 8
};

// The shape of an evaluation of `graph` whose kernels were `measured`.
EvaluationShape evaluation_shape(const Graph& graph, const std::map<std::string, KernelTime>& measured,
                                 int scalar_bytes);

// Work per kernel name, the names the profile gives launches (pipeline.cuh).
std::map<std::string, KernelWork> evaluation_work(const Model& model, const EvaluationShape& shape);

// A layer's tensor product per edge, in FLOPs: forward, backward (dL/dh,
// dL/dw and dL/dY), and of the backward the part for dL/dh (the first
// layer's input is a constant: its gradient is not computed).
struct TensorProductFlop {
  double forward = 0, backward = 0, input_gradient = 0;
};
TensorProductFlop tensor_product_flop(const Convolution& conv);

// Per kernel: launches, measured ms, GFLOP, GB, the roof's ms and what bounds
// it, and the fraction of the roof achieved (roof / measured); in float the
// tensor cores' useful rate is a third of their TF32 rate (3xTF32: three
// products a product), in double the matrix products run on the CUDA cores.
// Without peaks (the emulator) the roof columns are left out.
std::string roofline_report(const std::map<std::string, KernelWork>& work,
                            const std::map<std::string, KernelTime>& measured, const DevicePeaks& peaks,
                            int scalar_bytes);

}  // namespace flashtp::cuda
