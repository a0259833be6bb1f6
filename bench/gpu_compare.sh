#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: source trees of flashtp side by side (a base and one
# or more changes to it, each unpacked with `git archive REV | tar -x -C DIR`), built at
# once on this machine. Are each change's energies, forces and virials the base's byte
# for byte (`flashtp eval --json`, hfo2_768, both models, both precisions), and if not,
# by how much do they differ; how fast is each (`flashtp_bench_cuda --profile` at the
# anchor sizes, every kernel, the trees in turn, ROUNDS rounds: the machine's drift hits
# them all)?
#
#   bench/gpu_compare.sh [--rounds N] BASE CHANGE [CHANGE ...]      (N: 2)
#
# A tree may also be a pack of gpu_prebuild.sh (NAME.tar.xz, built elsewhere for this
# GPU): unpacked to OUT/packs/NAME/build-compare and not built.
#
# Environment: FLASHTP_REFERENCE_DIR (default ../shared/reference), OUT (logs, default
# gpu-compare-logs), CMAKE_PREFIX_PATH for dependencies not installed.
set -euo pipefail
rounds=2
if [ "${1:-}" = --rounds ]; then
  rounds=$2
  shift 2
fi
[ $# -ge 2 ] || { sed -n 2,15p "$0" >&2; exit 2; }
out="$(cd "$(dirname "$0")/.." && realpath -m "${OUT:-gpu-compare-logs}")"  # OUT relative: to the repository
mkdir -p "$out"
trees=() packed=()
for tree in "$@"; do
  if [[ $tree == *.tar.xz ]]; then
    dir="$out/packs/$(basename "$tree" .tar.xz)"
    mkdir -p "$dir/build-compare"
    tar -xJf "$tree" -C "$dir/build-compare"
    trees+=("$dir") packed+=(1)
  else
    trees+=("$(cd "$tree" && pwd)") packed+=("")
  fi
done
cd "$(dirname "$0")/.."
ref="${FLASHTP_REFERENCE_DIR:-$(cd .. && pwd)/shared/reference}"
jobs=$(($(nproc) / ${#trees[@]} > 0 ? $(nproc) / ${#trees[@]} : 1))
name() { echo "$1_$(basename "${trees[$1]}")"; }
for i in "${!trees[@]}"; do
  [ -z "${packed[$i]}" ] || continue
  dir=${trees[$i]}
  (cmake -S "$dir" -B "$dir/build-compare" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DFLASHTP_CUDA=ON \
    -DFLASHTP_TORCH=OFF -DFLASHTP_TESTS=OFF -DFLASHTP_LAMMPS=OFF >"$out/configure_$(name "$i").log" &&
    cmake --build "$dir/build-compare" -j"$jobs" --target flashtp_cli flashtp_bench_cuda \
      >"$out/build_$(name "$i").log" 2>&1) &
done
wait
for i in "${!trees[@]}"; do
  [ -x "${trees[$i]}/build-compare/flashtp" ] || { echo "build failed: $out/build_$(name "$i").log" >&2; exit 1; }
done
for model in sevennet0_arch l3i5_arch; do
  for precision in float32 float64; do
    for i in "${!trees[@]}"; do
      "${trees[$i]}/build-compare/flashtp" eval --model "$ref/models/$model.pth" \
        --data "$ref/structures/hfo2_768.data" --species Hf,O,Zr --precision "$precision" --device cuda --json \
        >"$out/$(name "$i")_${model}_$precision.json"
    done
    base="$out/$(name 0)_${model}_$precision.json"
    for ((i = 1; i < ${#trees[@]}; ++i)); do
      change="$out/$(name "$i")_${model}_$precision.json"
      if cmp -s "$base" "$change"; then
        echo "$(basename "${trees[$i]}") $model $precision: identical"
      else
        python3 - "$base" "$change" "$(basename "${trees[$i]}") $model $precision" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def flat(x):
    return [v for r in x for v in flat(r)] if isinstance(x, list) else [x]
diff = {k: max(abs(p - q) for p, q in zip(flat(a[k]), flat(b[k]))) for k in a if k in b}
print(sys.argv[3] + ": differ, max |base - change| " + ", ".join("%s %.3g" % kv for kv in sorted(diff.items())))
PY
      fi
    done
  done
done
for round in $(seq "$rounds"); do
  for i in "${!trees[@]}"; do
    for case in "sevennet0_arch 5" "l3i5_arch 4"; do
      set -- $case
      echo "== $(basename "${trees[$i]}") $1, round $round"
      "${trees[$i]}/build-compare/bench/flashtp_bench_cuda" --model "$ref/models/$1.pth" --name "$1" \
        --data "$ref/structures/hfo2_96.data" --replicate "$2" --anchors "$ref/anchors.json" --profile |
        grep -E "^ +[0-9]+ +[0-9]+ | ms +[0-9]+ (launches|spans)"
    done
  done
done 2>&1 | tee "$out/profile.log"
