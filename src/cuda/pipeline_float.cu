// The kernels and pipeline in float.
#include "cuda/pipeline.cuh"

namespace flashtp::cuda {

template <>
std::unique_ptr<Evaluation<float>> make_evaluation<float>(const Model& model) {
  return std::make_unique<Pipeline<float>>(model);
}

}  // namespace flashtp::cuda
