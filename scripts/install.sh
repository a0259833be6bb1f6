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
  python3                             # the LAMMPS tests' driver scripts (standard library only)
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

# liblammps-dev lacks some of LAMMPS's own headers (neigh_request.h, fmt/,
# lammpsplugin.h, version.h): take them from the source package of the
# installed version, from Debian's registry, into the ignored build-deps/.
lammps_headers=build-deps/lammps-src/src
if [ ! -f "$lammps_headers/neigh_request.h" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! grep -rqs "^Types:.*deb-src" /etc/apt/sources.list.d/ && ! grep -qs "^deb-src" /etc/apt/sources.list; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
      $sudo tee /etc/apt/sources.list.d/debian-src.sources >/dev/null
    $sudo apt-get update -q
  fi
  version="$(dpkg-query -W -f='${source:Version}' liblammps-dev)"
  mkdir -p build-deps/lammps-src
  (cd build-deps && apt-get source -q --download-only "lammps=$version")
  tar -xf build-deps/lammps_*.orig.tar.* -C build-deps/lammps-src --strip-components=1 \
    --wildcards '*/src/*.h' '*/src/fmt/*'
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"

if [ "${1:-}" != "--no-run" ]; then
  scripts/run_example.sh
fi
