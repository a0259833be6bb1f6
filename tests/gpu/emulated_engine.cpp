// The CUDA engine compiled by the host compiler: its kernels run on the
// emulator (src/cuda/emulator.hpp) for the tests of flashtp_cuda_emulated_tests.
#include "cuda/cuda_engine.cu"
#include "cuda/pipeline_double.cu"
#include "cuda/pipeline_dual.cu"
#include "cuda/pipeline_float.cu"
