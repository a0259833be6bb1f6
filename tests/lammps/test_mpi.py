"""Domain decomposition does not change the answer: hfo2_768 on 1, 2, 3 and 4
MPI ranks, on uneven processor grids and subdomains, and with a rank that owns
no atom, gives the energy of one rank to 1e-10 (relative) and its forces to
1e-9 eV/A (float64; float32 within its rounding). The per-layer ghost
exchange is what makes this hold."""
import os

import lammps_harness as h

args = h.options()
ref = h.references(args.reference)
model = os.path.join(args.reference, ref["models"]["tiny_parity"]["checkpoint"])
checks = h.Checks()


def compare(label, base, r):
    e0, e = base.value("pe"), r.value("pe")
    checks.close(f"{label} energy (relative)", abs(e - e0) / abs(e0), 0.0, 1e-10)
    worst = h.max_force_diff(base.dump("forces.dump", ["fx", "fy", "fz"]), r.dump("forces.dump", ["fx", "fy", "fz"]))
    checks.close(f"{label} max force difference", worst, 0.0, 1e-9)
    for k, (a, b) in enumerate(zip(h.virial(base), h.virial(r))):
        checks.close(f"{label} virial[{k}]", b, a, 1e-9 * abs(a) + 1e-9)
    print(f"{label}: E {e:.12f} (1 rank {e0:.12f}), max |dF| {worst:.2e}")


def script(decomposition=""):
    return h.setup(args, "hfo2_768", model) + decomposition + h.PRINT_RESULTS


# The processors command must come before the box is created.
def with_grid(grid, decomposition=""):
    return script(decomposition).replace("read_data", f"processors {grid}\nread_data", 1)


base = h.run(args, script(), threads=1)
for np in (2, 3, 4):
    compare(f"{np} ranks", base, h.run(args, script(), np=np, threads=1))
compare("4 ranks, grid 1x1x4", base, h.run(args, with_grid("1 1 4"), np=4, threads=1))
compare("3 ranks, grid 1x3x1, uneven cuts", base,
        h.run(args, with_grid("1 3 1", "balance 1.0 y 0.15 0.8\n"), np=3, threads=1))

# float32 engine: features cross ranks through the double buffers and back
# exactly; only the order of float32 sums may differ between decompositions.
single = h.restyle(script(), precision="float32")
base32 = h.run(args, single, threads=1)
r32 = h.run(args, single.replace("read_data", "processors 1 3 1\nread_data", 1), np=3, threads=1)
checks.close("float32, 3 ranks: energy (relative)", abs(r32.value("pe") / base32.value("pe") - 1), 0.0, 1e-6)
worst32 = h.max_force_diff(base32.dump("forces.dump", ["fx", "fy", "fz"]), r32.dump("forces.dump", ["fx", "fy", "fz"]))
checks.close("float32, 3 ranks: max force difference", worst32, 0.0, 1e-4)
print(f"float32, 3 ranks: E {r32.value('pe'):.8f} (1 rank {base32.value('pe'):.8f}), max |dF| {worst32:.2e}")

# A slab without atoms (z in [0.40, 0.50) of the box) and a subdomain inside
# it: rank 1 owns no atom but must still join every per-layer exchange.
hole = "region hole block INF INF INF INF {lo} {hi} units box\ndelete_atoms region hole compress no\n"
zhi = float(open(os.path.join(args.reference, "structures", "hfo2_768.data")).read().split("zlo zhi")[0].split()[-1])
hole = hole.format(lo=0.40 * zhi, hi=0.50 * zhi)
base_hole = h.run(args, script(hole), threads=1)
empty = h.run(args, with_grid("1 1 4", hole + "balance 1.0 z 0.42 0.48 0.7\n"), np=4, threads=1)
compare("4 ranks, rank 1 empty", base_hole, empty)
nlocal_min = [l for l in empty.output.splitlines() if l.startswith("Nlocal:")][-1]
checks.true("a rank owns no atom", nlocal_min.split()[-2] == "0", f"({nlocal_min})")

checks.finish()
