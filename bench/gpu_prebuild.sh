#!/usr/bin/env bash
# On a machine with the CUDA toolkit and no GPU: builds source trees of flashtp (each
# unpacked with `git archive REV | tar -x -C DIR`) for one GPU architecture, SASS only,
# and packs each tree's `flashtp` and `flashtp_bench_cuda`, stripped, as OUTDIR/NAME.tar.xz
# (NAME the tree's folder; about 4 MB), and with --tests its GPU test binary as
# OUTDIR/NAME-tests.tar.xz. A GPU machine then spends its time measuring, not compiling:
# `bench/gpu_compare.sh OUTDIR/base.tar.xz OUTDIR/change.tar.xz` compares the packs as it
# does trees it builds, and a test pack unpacked runs as `flashtp_gpu_tests` with
# FLASHTP_REFERENCE_DIR and FLASHTP_TEST_DATA_DIR (a checkout's tests/data) set.
#
#   bench/gpu_prebuild.sh [--tests] [--arch 90] OUTDIR TREE [TREE ...]
#
# Environment: FLASHTP_REFERENCE_DIR (default ../shared/reference: the test build lists
# the reference cases), CMAKE_PREFIX_PATH for dependencies not installed; BUILD (the
# build folders' parent, default a temporary one, removed after).
set -euo pipefail
tests=OFF arch=90
while [ $# -gt 0 ]; do
  case $1 in
    --tests) tests=ON; shift ;;
    --arch) arch=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || { sed -n 2,15p "$0" >&2; exit 2; }
ref="$(realpath -m "${FLASHTP_REFERENCE_DIR:-$(dirname "$0")/../../shared/reference}")"
packs="$(realpath -m "$1")"
shift
mkdir -p "$packs"
build="${BUILD:-$(mktemp -d)}"
[ -n "${BUILD:-}" ] || trap 'rm -rf "$build"' EXIT
for tree in "$@"; do
  src="$(cd "$tree" && pwd)" name="$(basename "$tree")"
  b="$build/$name"
  targets=(flashtp_cli flashtp_bench_cuda)
  [ $tests = OFF ] || targets+=(flashtp_gpu_tests)
  cmake -S "$src" -B "$b" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch-real" -DFLASHTP_CUDA=ON \
    -DFLASHTP_TORCH=OFF -DFLASHTP_TESTS=$tests -DFLASHTP_LAMMPS=OFF -DFLASHTP_REFERENCE_DIR="$ref" \
    >"$b.configure.log" 2>&1 ||
    { echo "$name: configure failed, $b.configure.log" >&2; exit 1; }
  cmake --build "$b" -j"$(nproc)" --target "${targets[@]}" >"$b.build.log" 2>&1 ||
    { tail -20 "$b.build.log" >&2; echo "$name: build failed, $b.build.log" >&2; exit 1; }
  strip "$b/flashtp" "$b/bench/flashtp_bench_cuda"
  tar -c -C "$b" flashtp bench/flashtp_bench_cuda | xz -9e >"$packs/$name.tar.xz"
  if [ $tests = ON ]; then
    strip "$b/tests/gpu/flashtp_gpu_tests"
    tar -c -C "$b/tests/gpu" flashtp_gpu_tests | xz -9e >"$packs/$name-tests.tar.xz"
  fi
  echo "$name: $(ls "$packs/$name"*.tar.xz | tr '\n' ' ')"
done
