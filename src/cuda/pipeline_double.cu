// The kernels and pipeline in double.
#include "cuda/pipeline.cuh"

namespace flashtp::cuda {

template <>
std::unique_ptr<Evaluation<double>> make_evaluation<double>(const Model& model) {
  return std::make_unique<Pipeline<double>>(model);
}

}  // namespace flashtp::cuda
