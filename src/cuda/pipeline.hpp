// One energy + forces evaluation on the device, in number type T: float,
// double, or Dual<double> (the Hessian-vector product). The kernels behind it
// are compiled once per T, each in its own file (pipeline_float.cu, ...).
#pragma once
#include <memory>

#include "cuda/scalar.hpp"
#include "engine.hpp"

namespace flashtp::cuda {

// Views of the pipeline's page-locked host arrays, valid until its next run.
template <class T>
struct PipelineOutput {
  const T* energy;  // per local atom
  int local;
  const T* forces;  // nodes x 3
  const T* virial;  // nodes x 6 (atomic virials, Voigt xx yy zz xy xz yz)
};

template <class T>
class Evaluation {
 public:
  virtual ~Evaluation() = default;
  // vec: the graph's edge vectors in T (3 per edge), best in page-locked
  // memory, checked by the caller (finite, nonzero: edge_vectors).
  virtual PipelineOutput<T> run(const Graph& graph, const T* vec, GhostExchange* ghosts) = 0;
};

template <class T>
std::unique_ptr<Evaluation<T>> make_evaluation(const Model& model);
template <>
std::unique_ptr<Evaluation<float>> make_evaluation<float>(const Model& model);
template <>
std::unique_ptr<Evaluation<double>> make_evaluation<double>(const Model& model);
template <>
std::unique_ptr<Evaluation<Dual<double>>> make_evaluation<Dual<double>>(const Model& model);

}  // namespace flashtp::cuda
