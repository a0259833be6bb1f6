#!/usr/bin/env bash
# Installs every dependency from Debian's package registry, builds flashtp
# (library, CLI, tests, LAMMPS driver), then runs the shipped example.
# Usage: scripts/install.sh [--no-run]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake git pkg-config
  nlohmann-json3-dev zlib1g-dev
  libgtest-dev libbenchmark-dev
  libtorch-dev                        # reads/runs upstream TorchScript files (oracle, converter)
  lammps liblammps-dev                # Debian's LAMMPS for pair_style flashtp
  libopenmpi-dev openmpi-bin          # MPI domain decomposition
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"

if [ "${1:-}" != "--no-run" ]; then
  scripts/run_example.sh
fi
