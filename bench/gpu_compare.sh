#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: two source trees of flashtp, side by side (a change
# and the code before it, each unpacked with `git archive REV | tar -x -C DIR`), built
# at once on this machine. Are their energies, forces and virials the same byte for
# byte (`flashtp eval --json`, hfo2_768, both models, both precisions), and if not, by
# how much do they differ; how fast is each (`flashtp_bench_cuda --profile` at the
# anchor sizes, A and B alternating, ROUNDS rounds: the machine's drift hits both)?
#
#   bench/gpu_compare.sh DIR_A DIR_B [ROUNDS]
#
# Environment: FLASHTP_REFERENCE_DIR (default ../shared/reference), OUT (logs, default
# gpu-compare-logs), CMAKE_PREFIX_PATH for dependencies not installed.
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,12p "$0" >&2; exit 2; }
a=$(cd "$1" && pwd) b=$(cd "$2" && pwd) rounds=${3:-2}
cd "$(dirname "$0")/.."
ref="${FLASHTP_REFERENCE_DIR:-$(cd .. && pwd)/shared/reference}"
out="${OUT:-gpu-compare-logs}"
mkdir -p "$out"
jobs=$(($(nproc) / 2 > 0 ? $(nproc) / 2 : 1))
for side in a b; do
  dir=${!side}
  (cmake -S "$dir" -B "$dir/build-compare" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DFLASHTP_CUDA=ON \
    -DFLASHTP_TORCH=OFF -DFLASHTP_TESTS=OFF -DFLASHTP_LAMMPS=OFF >"$out/configure_$side.log" &&
    cmake --build "$dir/build-compare" -j"$jobs" --target flashtp_cli flashtp_bench_cuda >"$out/build_$side.log" 2>&1) &
done
wait
for side in a b; do
  [ -x "${!side}/build-compare/flashtp" ] || { echo "build $side failed: $out/build_$side.log" >&2; exit 1; }
done
for model in sevennet0_arch l3i5_arch; do
  for precision in float32 float64; do
    for side in a b; do
      "${!side}/build-compare/flashtp" eval --model "$ref/models/$model.pth" --data "$ref/structures/hfo2_768.data" \
        --species Hf,O,Zr --precision "$precision" --device cuda --json >"$out/${side}_${model}_$precision.json"
    done
    if cmp -s "$out/a_${model}_$precision.json" "$out/b_${model}_$precision.json"; then
      echo "$model $precision: identical"
    else
      python3 - "$out/a_${model}_$precision.json" "$out/b_${model}_$precision.json" "$model $precision" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def flat(x):
    return [v for r in x for v in flat(r)] if isinstance(x, list) else [x]
diff = {k: max(abs(p - q) for p, q in zip(flat(a[k]), flat(b[k]))) for k in a if k in b}
print(sys.argv[3] + ": differ, max |A - B| " + ", ".join("%s %.3g" % kv for kv in sorted(diff.items())))
PY
    fi
  done
done
for round in $(seq "$rounds"); do
  for side in a b; do
    for case in "sevennet0_arch 5" "l3i5_arch 4"; do
      set -- $case
      echo "== $side ($(basename "${!side}")) $1, round $round"
      "${!side}/build-compare/bench/flashtp_bench_cuda" --model "$ref/models/$1.pth" --name "$1" \
        --data "$ref/structures/hfo2_96.data" --replicate "$2" --anchors "$ref/anchors.json" --profile |
        grep -E "^ +[0-9]+ +[0-9]+ |convolution|linear_rows"
    done
  done
done 2>&1 | tee "$out/profile.log"
