// The CUDA engines: Engine (float32, float64) and HessianVectorEngine (dual
// float64), each over one device pipeline.
#include "cuda/cuda_engine.hpp"

#include "cuda/pipeline.hpp"
#include "cuda/roofline.hpp"
#include "cuda/runtime.hpp"
#include "error.hpp"
#include "graph.hpp"

namespace flashtp {
namespace cuda {
namespace {

// Energies, forces and virials of a pipeline's output, in float64, into r
// (its arrays resized, not reallocated when their size is the same); the
// sums over atoms run in atom order on the host, as the CPU engine's.
template <class T>
void to_result(const PipelineOutput<T>& out, int nodes, Result& r) {
  r.atomic_energy.resize(out.local);
  r.energy = 0.0;
  for (int i = 0; i < out.local; ++i) r.energy += r.atomic_energy[i] = double(value(out.energy[i]));
  r.forces.resize(nodes);
  r.atomic_virial.resize(nodes);
  for (int n = 0; n < nodes; ++n) {
    for (int a = 0; a < 3; ++a) r.forces[n][a] = double(value(out.forces[3 * size_t(n) + a]));
    for (int k = 0; k < 6; ++k) r.atomic_virial[n][k] = double(value(out.virial[6 * size_t(n) + k]));
  }
  r.virial = {};
  for (const auto& w : r.atomic_virial)
    for (int k = 0; k < 6; ++k) r.virial[k] += w[k];
}

template <class T>
class CudaEngine final : public Engine {
 public:
  CudaEngine(const Model& model, Precision precision) : pipeline_(make_evaluation<T>(model)), precision_(precision) {}

  Result compute(const Graph& graph, GhostExchange* ghosts) override {
    Result r;
    compute(graph, r, ghosts);
    return r;
  }
  void compute(const Graph& graph, Result& result, GhostExchange* ghosts) override {
    T* vec = vec_.reserve(3 * size_t(graph.num_edges()));
    {
      HostSpan span("edge vectors");
      edge_vectors(graph, vec);
    }
    const auto out = pipeline_->run(graph, vec, ghosts);
    HostSpan span("results in float64");
    to_result<T>(out, graph.num_nodes, result);
  }
  Precision precision() const override { return precision_; }
  std::string backend() const override { return "cuda"; }

 private:
  std::unique_ptr<Evaluation<T>> pipeline_;
  Precision precision_;
  PinnedArray<T> vec_;  // edge vectors in T, kept from step to step
};

class CudaHessianEngine final : public HessianVectorEngine {
 public:
  using D = Dual<double>;
  explicit CudaHessianEngine(const Model& model) : pipeline_(make_evaluation<D>(model)) {}

  HessianVectorProduct compute(const Graph& graph, const std::vector<Vec3>& displacement,
                               GhostExchange* ghosts) override {
    if (static_cast<int>(displacement.size()) != graph.num_nodes)
      throw Error("Hessian-vector product: one displacement per node expected");
    check_edge_vectors(graph);
    // r_e = r_j - r_i moves by d_j - d_i
    std::vector<D> vec(3 * size_t(graph.num_edges()));
    for (int64_t e = 0; e < graph.num_edges(); ++e)
      for (int a = 0; a < 3; ++a)
        vec[3 * e + a] = D(graph.vec[e][a], displacement[graph.neighbor[e]][a] - displacement[graph.center[e]][a]);
    const auto out = pipeline_->run(graph, vec.data(), ghosts);
    HessianVectorProduct p;
    to_result<D>(out, graph.num_nodes, p.result);
    p.force_derivative.resize(graph.num_nodes);
    for (int n = 0; n < graph.num_nodes; ++n)
      for (int a = 0; a < 3; ++a) p.force_derivative[n][a] = out.forces[3 * size_t(n) + a].d;
    for (int n = 0; n < graph.num_nodes; ++n)
      for (int k = 0; k < 6; ++k) p.virial_derivative[k] += out.virial[6 * size_t(n) + k].d;
    return p;
  }

 private:
  std::unique_ptr<Evaluation<D>> pipeline_;
};

}  // namespace
}  // namespace cuda

bool cuda_device_available() { return cuda::device_available(); }
int cuda_device_count() { return cuda::device_count(); }
void use_cuda_device(int index) { cuda::select_device(index); }

std::unique_ptr<Engine> make_cuda_engine(const Model& model, Precision precision) {
  if (!cuda::device_available()) throw Error("CUDA engine: no CUDA device is available");
  if (precision == Precision::float64) return std::make_unique<cuda::CudaEngine<double>>(model, precision);
  return std::make_unique<cuda::CudaEngine<float>>(model, precision);
}

std::unique_ptr<HessianVectorEngine> make_cuda_hessian_engine(const Model& model) {
  if (!cuda::device_available()) throw Error("CUDA engine: no CUDA device is available");
  return std::make_unique<cuda::CudaHessianEngine>(model);
}

size_t cuda_memory_in_use() { return cuda::memory_in_use(); }
size_t cuda_memory_peak() { return cuda::memory_peak(); }
void reset_cuda_memory_peak() { cuda::reset_memory_peak(); }
void set_cuda_kernel_profiling(bool on) { cuda::set_profiling(on); }
std::string cuda_kernel_profile(bool reset) { return cuda::profile_report(reset); }

std::string cuda_roofline(const Model& model, const Graph& graph, Precision precision) {
  const auto measured = cuda::profile_kernels();
  const int bytes = precision == Precision::float64 ? 8 : 4;
  return cuda::roofline_report(cuda::evaluation_work(model, cuda::evaluation_shape(graph, measured, bytes)), measured,
                               cuda::device_peaks(), bytes);
}

}  // namespace flashtp
