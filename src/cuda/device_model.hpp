// The Model on the device: every weight uploaded once, in precision R, and
// described by the views the kernels take (views.hpp).
#pragma once
#include <map>
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

  // The first layer as a species-resolved density (density.cuh), where every
  // path couples a scalar channel u of its input h = linear_1(embedding) with
  // Y_l (C[0][j][k] = c_p delta_jk): for the species in slot s of a graph,
  //   m_i[p, u, m] = sum_{s, k} Wt_s[k][p, u] D_i,s[l_p^2 + m][k],
  //   Wt_s[k][p, u] = W[k][slot(p, u)] alpha_p / denominator c_p h_s[u],
  // an e3nn Linear from D (a segment per degree l of the harmonics, slots K
  // channels) to the message, and its transpose from dL/dm to dL/dD.
  struct DensityLinears {
    LinearView<R> message, gradient;
  };
  bool has_density() const { return !density_.weight.empty(); }
  int density_K() const { return density_.K; }
  // The linears for the species of a graph's slots (built once per list).
  const DensityLinears& density_linears(const std::vector<int>& slot_species);
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
  void plan_first_layer_density(const Model& model);
  std::vector<int> plan_shares(const std::vector<int>& tasks) const;
  GateView<R> gate(const Gate& def);

  struct DensityPlan {
    Irreps sh, mid;
    int K = 0, slots = 0;  // the radial MLP's last hidden width and output columns
    std::vector<Convolution::Path> paths;
    std::vector<int> mul;
    std::vector<double> weight;  // Wt per model species, [species][K][slots]
  } density_;
  std::map<std::vector<int>, DensityLinears> density_linears_;
  int scalar_words_;
  std::vector<std::shared_ptr<void>> store_;  // owns every upload
};

}  // namespace flashtp::cuda
