#include "backend.hpp"

#include <iostream>

#include "error.hpp"
#if defined(FLASHTP_HAVE_CUDA)
#include "cuda/cuda_engine.hpp"
#endif

namespace flashtp {

Device parse_device(const std::string& name) {
  if (name == "auto") return Device::automatic;
  if (name == "cpu") return Device::cpu;
  if (name == "cuda" || name == "gpu") return Device::cuda;
  throw Error("unknown device '" + name + "' (expected auto, cpu or cuda)");
}

#if defined(FLASHTP_HAVE_CUDA)
int gpu_count() { return cuda_device_count(); }
size_t gpu_memory_peak() { return cuda_memory_peak(); }
void reset_gpu_memory_peak() { reset_cuda_memory_peak(); }
#else
int gpu_count() { return 0; }
size_t gpu_memory_peak() { return 0; }
void reset_gpu_memory_peak() {}
#endif

bool gpu_available() { return gpu_count() > 0; }

std::unique_ptr<Engine> make_engine(const Model& model, Precision precision, Device device, int gpu) {
  if (device == Device::cpu || (device == Device::automatic && !gpu_available()))
    return make_cpu_engine(model, precision);
#if defined(FLASHTP_HAVE_CUDA)
  if (!gpu_available()) throw Error("device cuda: no CUDA device is visible to this process");
  use_cuda_device(gpu % gpu_count());
  try {
    return make_cuda_engine(model, precision);
  } catch (const Error& e) {
    // auto: a model the CUDA engine cannot take (a radial MLP wider than a
    // block, a layer beyond the device's shared memory) still runs, on the CPU.
    if (device == Device::cuda) throw;
    std::cerr << "flashtp: " << e.what() << "; running the CPU engine instead\n";
    return make_cpu_engine(model, precision);
  }
#else
  (void)gpu;
  throw Error("device cuda: this flashtp was built without CUDA (configure with -DFLASHTP_CUDA=ON)");
#endif
}

}  // namespace flashtp
