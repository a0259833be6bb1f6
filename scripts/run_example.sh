#!/usr/bin/env bash
# Runs the HfO2 example (examples/hfo2: 96 atoms, 300 K NVT then NVE) with the
# built lmp_flashtp driver and prints its thermo output.
# Usage: scripts/run_example.sh [extra lmp arguments, e.g. -var nve_steps 1000]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lmp="${FLASHTP_LMP:-$root/build/lmp_flashtp}"
if [ ! -x "$lmp" ]; then
  echo "run_example.sh: $lmp not found: build first (scripts/install.sh --no-run)" >&2
  exit 1
fi
cd "$root/examples/hfo2"
exec "$lmp" -in in.hfo2 -log none -var model "$root/potentials/tiny_parity.flashtp" "$@"
