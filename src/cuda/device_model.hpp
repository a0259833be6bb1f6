// The Model on the device: every weight uploaded once, in precision R, and
// described by the views the kernels take (views.hpp).
#pragma once
#include <memory>
#include <vector>

#include "cuda/runtime.hpp"
#include "cuda/views.hpp"
#include "model.hpp"

namespace flashtp::cuda {

template <class R>
class DeviceModel {
 public:
  struct LayerViews {
    LinearView<R> linear_1, linear_1_t, linear_2, linear_2_t, self_connection, self_connection_t;
    ConvView<R> conv;
    GateView<R> gate;
    int dim_x = 0, dim_mid = 0, dim_gate = 0, dim_out = 0;
  };

  // scalar_words: 4-byte registers of the kernels' scalar (float 1, double 2,
  // dual double 4), which sets how tasks split into shares
  DeviceModel(const Model& model, int scalar_words);

  EmbeddingView<R> embedding;
  const R* species_embedding = nullptr;  // [species][dim0]
  int dim0 = 0;
  std::vector<LayerViews> layers;
  DensityView<R> density;  // the first layer's, if it qualifies (K > 0)
  std::vector<LinearView<R>> readout, readout_t;  // chain of Linears, or
  MlpView<R> readout_mlp;                        // an MLP (depth 0 when absent)
  const R* scale = nullptr;
  const R* shift = nullptr;
  int dim_last = 0;
  int max_sh_size = 0;

 private:
  template <class V>
  const V* upload(const std::vector<V>& values);
  LinearView<R> linear(const std::vector<const Linear*>& variants, bool transpose);
  MlpView<R> mlp(const Mlp& def, int layers);
  ConvView<R> convolution(const Convolution& conv);
  DensityView<R> first_layer_density(const Model& model);
  std::vector<int> plan_shares(const std::vector<int>& tasks) const;
  GateView<R> gate(const Gate& def);

  int scalar_words_;
  std::vector<std::shared_ptr<void>> store_;  // owns every upload
};

}  // namespace flashtp::cuda
