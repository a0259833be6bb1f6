#!/usr/bin/env bash
# Builds (installing dependencies if needed) and runs the whole test suite.
# GPU tests carry the ctest label "gpu" and skip themselves without a device.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --no-run
cd build
ctest --output-on-failure -j"$(nproc)"
