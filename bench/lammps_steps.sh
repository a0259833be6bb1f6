#!/usr/bin/env bash
# MD steps per second of pair_style flashtp (float64 and float32) against the
# LibTorch reference mode (pair_style flashtp/torch: the deployed TorchScript
# file, as SevenNet's pair_e3gnn runs it), on this machine, one MPI rank.
#
# Usage: bench/lammps_steps.sh [MODEL [STRUCTURE [STEPS]]]
#   MODEL      tiny_parity | sevennet0_arch | l3i5_arch   (default sevennet0_arch)
#   STRUCTURE  a file in ../shared/reference/structures    (default hfo2_96)
#   STEPS      NVE steps timed after 2 warm-up steps         (default 20)
# Threads: OMP_NUM_THREADS (default: all cores), used by both engines.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lmp="${FLASHTP_LMP:-$root/build/lmp_flashtp}"
model="${1:-sevennet0_arch}"
structure="${2:-hfo2_96}"
steps="${3:-20}"
ref="$root/../shared/reference"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# steps/s of one pair style: LAMMPS's own "Performance: ... timesteps/s" of
# the timed run (the warm-up run absorbs model loading and first allocations).
steps_per_second() {
  local style="$1" file="$2"
  cat > "$work/in.bench" <<IN
units metal
atom_style atomic
boundary p p p
newton on
read_data $ref/structures/$structure.data
mass 1 178.49
mass 2 15.999
mass 3 91.224
pair_style $style
pair_coeff * * $file Hf O Zr
velocity all create 300.0 4928459 mom yes rot yes
timestep 0.001
fix nve all nve
thermo 1000
run 2
run $steps
IN
  "$lmp" -in "$work/in.bench" -log none -screen "$work/out" >/dev/null 2>"$work/err" || { cat "$work/out" "$work/err" >&2; exit 1; }
  grep "^Performance:" "$work/out" | tail -1 | sed -E 's/.* ([0-9.eE+-]+) timesteps\/s.*/\1/'
}

atoms="$(awk '/ atoms$/ {print $1; exit}' "$ref/structures/$structure.data")"
echo "model $model, $structure ($atoms atoms), $steps NVE steps, $OMP_NUM_THREADS threads, 1 MPI rank"
echo "$(lscpu | sed -n 's/^Model name: *//p')"
native64="$(steps_per_second "flashtp precision float64" "$ref/models/$model.pth")"
native32="$(steps_per_second "flashtp precision float32" "$ref/models/$model.pth")"
torch="$(steps_per_second "flashtp/torch" "$ref/models/$model.pt")"
printf '%-34s %10s %8s\n' "pair style" "steps/s" "vs torch"
for row in "flashtp precision float64:$native64" "flashtp precision float32:$native32" "flashtp/torch (LibTorch, float32):$torch"; do
  name="${row%:*}" value="${row##*:}"
  awk -v n="$name" -v v="$value" -v t="$torch" 'BEGIN { printf "%-34s %10.3f %7.2fx\n", n, v, v / t }'
done
