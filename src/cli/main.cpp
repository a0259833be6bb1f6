// flashtp: evaluate, inspect and benchmark SevenNet models without LAMMPS.
#include <cstring>
#include <iostream>

#include "cli/commands.hpp"
#include "error.hpp"

namespace {

const char* kUsage = R"(usage: flashtp <command> [options]

commands:
  eval   --model FILE --data LAMMPS_DATA --species Hf,O,Zr [--boundary "p p p"]
         [--precision float64|float32] [--device auto|cpu|cuda] [--json]
         energy, per-atom energy, forces and virial of one structure
         (--device auto: the CUDA engine when built with it and a GPU is seen)
  bench  --model FILE --data LAMMPS_DATA --species Hf,O,Zr [--replicate "n n n"]
         [--precision float32|float64] [--device auto|cpu|cuda] [--repeat N]
         [--torch DEPLOYED.pt]
         time one energy + forces evaluation (and LibTorch's, with --torch)
  info   FILE
         print the model's architecture
  convert IN -o OUT [--oracle DEPLOYED.pt] [--float32-check-only]
         any SevenNet model file (deployed .pt, checkpoint .pth, native) to a
         native file, written only once the engine reproduces the original
         (run through LibTorch) on generated structures
  convert IN --verify NATIVE [--oracle DEPLOYED.pt] [--float32-check-only]
         prove an existing native file against IN; writes nothing
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  try {
    if (command == "eval") return flashtp::cli::eval(argc, argv);
    if (command == "bench") return flashtp::cli::bench(argc, argv);
    if (command == "info") return flashtp::cli::info(argc, argv);
    if (command == "convert") return flashtp::cli::convert(argc, argv);
    std::cerr << "flashtp: unknown command '" << command << "'\n" << kUsage;
    return 2;
  } catch (const flashtp::Error& e) {
    std::cerr << "flashtp " << command << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "flashtp " << command << ": internal error: " << e.what() << "\n";
    return 3;
  }
}
