#!/usr/bin/env python3
"""Nsight Compute's measure of every kernel of one evaluation, per kernel.

    python3 bench/ncu_kernels.py ncu_all.csv

reads `ncu --csv --page raw` output (one row per launch; the metrics of
bench/gpu_run.sh's ncu stage) and prints, per kernel function, its launches,
its time, and the fractions of the device's peaks it achieved, each launch
weighted by its time: the multiprocessors' throughput (the busiest of their
pipes and their memory units), the tensor pipe's, and DRAM's, with the DRAM
bytes moved: the roofline's achieved side (flashtp_bench_cuda --profile prints
the modelled side, the FLOPs and bytes each kernel needs).
"""
import csv
import re
import sys
from collections import defaultdict

TIME = "gpu__time_duration.sum"
FRACTIONS = {
    "sm": "sm__throughput.avg.pct_of_peak_sustained_elapsed",
    "tensor": "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_elapsed",
    "dram": "dram__throughput.avg.pct_of_peak_sustained_elapsed",
}
BYTES = "dram__bytes.sum"
# the units as ncu spells them (versions differ: "nsecond" or "ns"), in ms and GB
TIME_UNITS = {"nsecond": 1e-6, "ns": 1e-6, "usecond": 1e-3, "us": 1e-3, "msecond": 1.0, "ms": 1.0, "second": 1e3, "s": 1e3}
BYTE_UNITS = {"byte": 1e-9, "Kbyte": 1e-6, "KB": 1e-6, "Mbyte": 1e-3, "MB": 1e-3, "Gbyte": 1.0, "GB": 1.0}


def number(text):
    return float(text.replace(",", "")) if text not in ("", "n/a") else 0.0


def main(path):
    with open(path, newline="") as f:
        lines = [line for line in f if line.startswith('"')]  # ncu's own messages are not quoted
    rows = list(csv.reader(lines))
    header, units, launches = rows[0], rows[1], rows[2:]
    column = {name: i for i, name in enumerate(header)}
    time_scale = TIME_UNITS[units[column[TIME]]]
    bytes_scale = BYTE_UNITS[units[column[BYTES]]]
    total = defaultdict(lambda: defaultdict(float))
    for row in launches:
        name = re.sub(r"[<(].*", "", row[column["Kernel Name"]]).split("::")[-1]
        ms = number(row[column[TIME]]) * time_scale
        k = total[name]
        k["launches"] += 1
        k["ms"] += ms
        k["GB"] += number(row[column[BYTES]]) * bytes_scale
        for key, metric in FRACTIONS.items():
            k[key] += ms * number(row[column[metric]])
    print(f"{'kernel':24} {'launches':>8} {'ms':>9} {'SM %':>6} {'tensor %':>8} {'DRAM %':>7} {'DRAM GB':>8}")
    for name, k in sorted(total.items(), key=lambda item: -item[1]["ms"]):
        ms = k["ms"]
        print(f"{name:24} {int(k['launches']):8d} {ms:9.3f} {k['sm'] / ms:6.1f} {k['tensor'] / ms:8.1f} "
              f"{k['dram'] / ms:7.1f} {k['GB']:8.3f}")
    print(f"{'all':24} {sum(int(k['launches']) for k in total.values()):8d} "
          f"{sum(k['ms'] for k in total.values()):9.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
