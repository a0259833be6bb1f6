"""pair_style flashtp `run 0` on every reference structure against the
upstream float64 references: energy (<= 1e-9 eV/atom), forces from a dump
sorted by id (<= 1e-8 eV/A), and the global virial (<= 1e-9 eV/atom) from the
virial part of the pressure."""
import os

import lammps_harness as h

args = h.options({"--model": dict(required=True, help="tiny_parity, sevennet0_arch or l3i5_arch")})
ref = h.references(args.reference)
checkpoint = os.path.join(args.reference, ref["models"][args.model]["checkpoint"])
checks = h.Checks()

for case in ref["cases"]:
    if case["model"] != args.model or "float64" not in case:
        continue
    name, want = case["structure"], case["float64"]
    r = h.run(args, h.setup(args, name, checkpoint, boundary_flags=h.boundary(ref, name)) + h.PRINT_RESULTS)
    n = int(r.value("atoms"))
    checks.close(f"{name} energy/atom", r.value("pe") / n, want["energy"] / n, 1e-9)
    forces = r.dump("forces.dump", ["fx", "fy", "fz"])
    worst = max(abs(forces[i + 1][a] - want["forces"][i][a]) for i in range(n) for a in range(3))
    checks.close(f"{name} max force error", worst, 0.0, 1e-8)
    for k, (got, exp) in enumerate(zip(h.virial(r), want["virial"])):
        checks.close(f"{name} virial[{k}]/atom", got / n, exp / n, 1e-9)
    print(f"{args.model} {name}: E {r.value('pe'):.12f} (ref {want['energy']:.12f}), max |dF| {worst:.2e}")

checks.finish()
