// The CUDA backend of the engine, and what it adds to the engine API (the
// choice between backends is backend.hpp's make_engine).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine.hpp"

namespace flashtp {

// A CUDA device is present and usable; how many; which one the engines made
// after use_cuda_device(index) run on (the calling thread's current device).
bool cuda_device_available();
int cuda_device_count();
void use_cuda_device(int index);

// Everything stays on the device between layers; the graph is uploaded once per
// compute. A GhostExchange receives host pointers: the engine copies the local
// rows of a feature array down, the hook fills the ghost rows, and only those
// go back up (reverse: the whole gradient array, since owners change).
std::unique_ptr<Engine> make_cuda_engine(const Model& model, Precision precision);

// The derivative of the forces along a displacement d of the nodes,
//   dF/d(eps) of F(r + eps d) at eps = 0  =  -H d  (H: the Hessian of the energy),
// which is also the gradient of (F . d) with respect to the positions. It is
// forward-mode differentiation of the fused backward pass: the same kernels
// run on dual numbers (value, derivative), float64.
struct HessianVectorProduct {
  Result result;                       // energy, forces and virial at r
  std::vector<Vec3> force_derivative;  // per node
  Virial virial_derivative{};
};

class HessianVectorEngine {
 public:
  virtual ~HessianVectorEngine() = default;
  // displacement: one vector per node (a ghost's is its owner's). Ghost
  // features travel through the exchange as rows of 2 x dim doubles.
  virtual HessianVectorProduct compute(const Graph& graph, const std::vector<Vec3>& displacement,
                                       GhostExchange* ghosts = nullptr) = 0;
};

std::unique_ptr<HessianVectorEngine> make_cuda_hessian_engine(const Model& model);

// Device memory held by the CUDA engines now, and the most held since the
// last reset (bytes).
size_t cuda_memory_in_use();
size_t cuda_memory_peak();
void reset_cuda_memory_peak();

// Kernel profiling: while on (or with FLASHTP_CUDA_PROFILE=1 in the
// environment) every launch is timed and synchronised; the report gives the
// device time per kernel since the last reset.
void set_cuda_kernel_profiling(bool on);
std::string cuda_kernel_profile(bool reset);

// The roofline of the kernels profiled since the last reset, which must be
// one evaluation of `graph` in `precision` (src/cuda/roofline.hpp): per
// kernel its FLOPs and bytes, the least time they allow on this device, and
// the fraction of that achieved.
std::string cuda_roofline(const Model& model, const Graph& graph, Precision precision);

}  // namespace flashtp
