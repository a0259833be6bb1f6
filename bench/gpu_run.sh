#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: build flashtp with CUDA, run the GPU tests
# and the benchmark against the upstream anchors (shared/reference/anchors.json).
#
#   bench/gpu_run.sh [build] [test] [bench] [scale] [profile] [ncu] [lammps] [cpu]
#
# build    configure build-gpu/ (sm_90, no LibTorch) and build the GPU tests,
#          the CLI and flashtp_bench_cuda
# test     ctest -L gpu (the engine's): every reference case in float64 and float32, run to
#          run identity, ghosts, the Hessian-vector product against FD
# bench    HfO2 96 x n^3 for n = 2..7 (768 to 32,928 atoms), both models
# scale    HfO2 96 x n^3 up to the largest one GPU takes: sevennet0_arch n = 24 (80 GB of
#          an H100), l3i5_arch n = 17 (at n = 18 a node array of 7,776-number rows would
#          reach 2^32 numbers, the fused kernels' 32-bit offsets)
# profile  per-kernel device time at the anchor sizes, and each kernel's roofline (its FLOPs
#          and bytes, the least time they allow, the fraction of it achieved)
# ncu      Nsight Compute: every kernel's fractions of the device's peaks (one evaluation), and
#          counters of the fused convolution kernels and the first layer's density kernels
#          (the reports, CSVs per SASS instruction, and the fused kernels' instructions and
#          stalls by the call sites of their bodies: bench/ncu_regions.py)
# lammps   pair_style flashtp on the GPU inside LAMMPS: flashtpplugin.so built
#          against the LAMMPS in LAMMPS_BUNDLE (an unpacked bench/lammps_bundle.sh),
#          the LAMMPS GPU tests (references, MPI ranks sharing the GPU, NVE), and
#          MD at the anchor sizes with LAMMPS's timing breakdown (lammps-md: MD only)
# cpu      the CPU engine against LibTorch on 2 cores (needs LibTorch: Torch_DIR)
#
# Environment: FLASHTP_REFERENCE_DIR (default ../shared/reference), OUT (logs,
# default build-gpu/logs), CMAKE_PREFIX_PATH for dependencies not installed,
# LAMMPS_BUNDLE for the lammps stage.
set -euo pipefail
cd "$(dirname "$0")/.."
ref="${FLASHTP_REFERENCE_DIR:-$(cd .. && pwd)/shared/reference}"
export FLASHTP_REFERENCE_DIR="$ref"
out="${OUT:-build-gpu/logs}"
mkdir -p "$out"
bench_model() {  # model, comma-separated n, extra args...
  local model=$1 sizes=$2
  shift 2
  build-gpu/bench/flashtp_bench_cuda --model "$ref/models/$model.pth" --name "$model" \
    --data "$ref/structures/hfo2_96.data" --replicate "$sizes" --anchors "$ref/anchors.json" "$@"
}
# NVE MD of HfO2 96 x n^3 with pair_style flashtp on the GPU (float32), through
# the plugin: LAMMPS's loop time per step and where it goes (Pair is the engine
# with the graph and ghost exchanges, Neigh LAMMPS's neighbour lists on the host);
# then 50 steps with the atoms at rest, where the engine reuses the graph's
# layout on the device (in MD edges cross the cutoff every step).
lammps_md() {  # model, n, MPI ranks (sharing the GPU)
  local input="$out/md_$1_$3.in" run=()
  [ "$3" -gt 1 ] && run=("$LAMMPS_BUNDLE/bin/mpiexec" -np "$3")
  cat >"$input" <<IN
plugin load $PWD/build-gpu/flashtpplugin.so
units metal
atom_style atomic
boundary p p p
newton on
read_data $ref/structures/hfo2_96.data
replicate $2 $2 $2
mass 1 178.49
mass 2 15.999
mass 3 91.224
pair_style flashtp precision float32 device cuda
pair_coeff * * $ref/models/$1.pth Hf O Zr
velocity all create 600.0 4928459 mom yes rot yes dist gaussian
timestep 0.002
fix nve all nve
thermo 50
run 10
run 100
unfix nve
run 50
IN
  # LAMMPS sets OpenMP to 1 thread unless OMP_NUM_THREADS says otherwise: the
  # graph is built on the cores each rank has
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(($(nproc) / $3))}" \
    "${run[@]}" "$LAMMPS_BUNDLE/bin/lmp" -in "$input" -log none >"$out/md_$1_$3.log" 2>&1
  echo "MD $1 HfO2 x $2^3 on $3 rank(s):"
  grep -E "^(Loop time|Pair|Neigh) " "$out/md_$1_$3.log" | tail -6
}
# build-gpu: sm_90, no LibTorch; the plugin for the LAMMPS in LAMMPS_BUNDLE, if set
configure() {
  local lammps=()
  if [ -n "${LAMMPS_BUNDLE:-}" ]; then
    local b="$LAMMPS_BUNDLE"
    lammps=(-DLAMMPS_SOURCE_DIR="$b/include/lammps" -DFLASHTP_PLUGIN_LAMMPS_VERSION="$(cat "$b/version")"
            -DLAMMPS_MPI_INCLUDE_DIR="$b/include" -DFLASHTP_PLUGIN_LMP="$b/bin/lmp" -DFLASHTP_PLUGIN_MPIRUN="$b/bin/mpiexec")
  fi
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DFLASHTP_CUDA=ON \
    -DFLASHTP_TORCH=OFF -DFLASHTP_TESTS=ON -DFLASHTP_REFERENCE_DIR="$ref" "${lammps[@]}" >"$out/configure.log"
}
stages=("$@")
[ $# -gt 0 ] || stages=(build test bench)
for stage in "${stages[@]}"; do
  case "$stage" in
    build)
      configure
      cmake --build build-gpu -j"$(nproc)" --target flashtp_gpu_tests flashtp_cli flashtp_bench_cuda 2>&1 |
        tee "$out/build.log" | grep -E "error|warning|spill" || true
      ;;
    test) (cd build-gpu && ctest -L gpu -LE lammps -V -j1) 2>&1 | tee "$out/gpu_tests.log" |
      grep -E "tests passed|tests failed|Failed|FAILED|\*\*\*" ;;
    bench) for m in sevennet0_arch l3i5_arch; do bench_model $m 2,3,4,5,6,7 | tee -a "$out/bench.log"; done ;;
    scale)
      bench_model sevennet0_arch 10,16,24 --repeat 1 --warmup 1 | tee -a "$out/scale.log"
      bench_model l3i5_arch 10,16,17,18 --repeat 1 --warmup 1 | tee -a "$out/scale.log"
      ;;
    profile)
      bench_model sevennet0_arch 5 --profile | tee -a "$out/profile.log"
      bench_model l3i5_arch 4 --profile | tee -a "$out/profile.log"
      ;;
    ncu)  # every kernel of one evaluation (sevennet0_arch, 12,000 atoms): time and fractions of the
          # device's peaks (bench/ncu_kernels.py: the roofline's achieved side); then hardware counters of
          # one forward and one backward convolution (a middle layer: the second launch) and of the first
          # layer's density kernels
      ncu --clock-control none --print-kernel-base function --csv --page raw --metrics \
        gpu__time_duration.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed,dram__bytes.sum \
        build-gpu/bench/flashtp_bench_cuda --model "$ref/models/sevennet0_arch.pth" --name sevennet0_arch \
        --data "$ref/structures/hfo2_96.data" --replicate 5 --repeat 1 --warmup 0 >"$out/ncu_all.csv" 2>&1 || true
      python3 bench/ncu_kernels.py "$out/ncu_all.csv" | tee "$out/ncu_kernels.log" || true
      for k in convolution_forward:1 convolution_backward:1 density_forward:0 density_backward:0; do
        skip=${k#*:}
        k=${k%:*}
        ncu --clock-control none -k "regex:$k" --launch-skip "$skip" -c 1 --section SpeedOfLight --section Occupancy \
          --section LaunchStats --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis \
          --section WarpStateStats --section InstructionStats --section SourceCounters --metrics \
          sm__sass_thread_inst_executed_op_ffma_pred_on.sum,sm__sass_thread_inst_executed_op_fadd_pred_on.sum,sm__sass_thread_inst_executed_op_fmul_pred_on.sum,dram__bytes.sum,lts__t_bytes.sum,gpu__time_duration.sum \
          -f -o "$out/ncu_$k" build-gpu/bench/flashtp_bench_cuda --model "$ref/models/sevennet0_arch.pth" \
          --name sevennet0_arch --data "$ref/structures/hfo2_96.data" --replicate 5 --repeat 1 --warmup 0 \
          >"$out/ncu_$k.run.log" 2>&1 || true
        ncu --import "$out/ncu_$k.ncu-rep" --page details >"$out/ncu_$k.log" 2>&1 || true
        # per SASS instruction: executed instructions and stall samples
        ncu --import "$out/ncu_$k.ncu-rep" --page source --csv --print-source sass >"$out/ncu_${k}_sass.csv" 2>&1 || true
      done
      # the fused kernels' SASS with its inlined source lines, to charge each instruction to
      # the statement of the kernel's body that runs it
      rm -rf "$out/cubin" && mkdir -p "$out/cubin"
      (cd "$out/cubin" && cuobjdump -xelf all "$OLDPWD/build-gpu/bench/flashtp_bench_cuda" >/dev/null)
      for cubin in "$out"/cubin/*.cubin; do nvdisasm -gi -c "$cubin"; done >"$out/sass_lines.txt" 2>/dev/null || true
      for k in convolution_forward convolution_backward; do
        python3 bench/ncu_regions.py "$out/sass_lines.txt" "$out/ncu_${k}_sass.csv" "${k}IfLi" |
          tee "$out/ncu_${k}_regions.log" || true
      done ;;
    lammps | lammps-md)
      [ -n "${LAMMPS_BUNDLE:-}" ] || { echo "lammps: set LAMMPS_BUNDLE (see bench/lammps_bundle.sh)" >&2; exit 2; }
      export LD_LIBRARY_PATH="$LAMMPS_BUNDLE/lib:${LD_LIBRARY_PATH:-}"
      configure
      cmake --build build-gpu -j"$(nproc)" --target flashtpplugin 2>&1 | tee -a "$out/build.log" | grep -E "error" || true
      if [ "$stage" = lammps ]; then
        (cd build-gpu && ctest -L lammps -L gpu -V -j1) 2>&1 | tee "$out/lammps_tests.log" |
          grep -E "tests passed|tests failed|Failed|FAILED|\*\*\*|^[0-9]+: (tiny|sev|l3).*\(cuda"
      fi
      lammps_md sevennet0_arch 5 1 && lammps_md l3i5_arch 4 1 && lammps_md sevennet0_arch 5 2
      ;;
    cpu)  # the CPU engine against the deployed .pt through LibTorch, both on the same 2 cores
      cmake -S . -B build-cpu -DCMAKE_BUILD_TYPE=Release -DFLASHTP_CUDA=OFF -DFLASHTP_TORCH=ON -DFLASHTP_LAMMPS=OFF \
        -DFLASHTP_TESTS=OFF >"$out/configure_cpu.log"
      cmake --build build-cpu -j"$(nproc)" --target flashtp_cli >>"$out/configure_cpu.log" 2>&1
      for m in sevennet0_arch l3i5_arch; do
        OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 taskset -c 0,1 build-cpu/flashtp bench --device cpu --model "$ref/models/$m.pth" \
          --torch "$ref/models/$m.pt" --data "$ref/structures/hfo2_768.data" --species Hf,O,Zr --repeat 3 |
          tee -a "$out/cpu_bench.log"
      done ;;
    *) echo "unknown stage '$stage'" >&2; exit 2 ;;
  esac
done
