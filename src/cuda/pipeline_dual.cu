// The kernels and pipeline in Dual<double>.
#include "cuda/pipeline.cuh"

namespace flashtp::cuda {

template <>
std::unique_ptr<Evaluation<Dual<double>>> make_evaluation<Dual<double>>(const Model& model) {
  return std::make_unique<Pipeline<Dual<double>>>(model);
}

}  // namespace flashtp::cuda
