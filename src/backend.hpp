// Choosing the engine's backend at run time: the CUDA engine when this build
// has it and a GPU is present, else the CPU engine. Linked as flashtp_backend,
// which brings in the CUDA library only in CUDA builds.
#pragma once
#include <memory>
#include <string>

#include "engine.hpp"

namespace flashtp {

enum class Device { automatic, cpu, cuda };
Device parse_device(const std::string& name);  // "auto" | "cpu" | "cuda"

// This build has the CUDA engine and can see a GPU.
bool gpu_available();
int gpu_count();  // 0 without CUDA or without a device

// gpu: the device index for the CUDA engine (one GPU per MPI rank: the rank's
// index on its node, modulo gpu_count()); ignored by the CPU engine. With
// Device::automatic a model the CUDA engine refuses runs on the CPU, with a
// line on stderr saying why; Device::cuda throws instead.
std::unique_ptr<Engine> make_engine(const Model& model, Precision precision, Device device, int gpu = 0);

// Device memory held by the CUDA engines at most since the last reset, in
// bytes (0 without CUDA).
size_t gpu_memory_peak();
void reset_gpu_memory_peak();

}  // namespace flashtp
