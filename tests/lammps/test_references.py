"""pair_style flashtp `run 0` on every reference structure against the
upstream float64 references: energy (<= 1e-9 eV/atom), forces from a dump
sorted by id (<= 1e-8 eV/A), and the global virial (<= 1e-9 eV/atom) from the
virial part of the pressure. With --precision float32 (on the GPU: --device
cuda) the engine's float32 against the same float64 references: 2e-6 eV/atom
in energy and virial, 5e-5 eV/A in forces."""
import os

import lammps_harness as h

args = h.options({"--model": dict(required=True, help="a model of references.json")})
ref = h.references(args.reference)
checkpoint = os.path.join(args.reference, ref["models"][args.model]["checkpoint"])
checks = h.Checks()
energy_tol, force_tol = (1e-9, 1e-8) if args.precision == "float64" else (2e-6, 5e-5)

cases = [c for c in ref["cases"] if c["model"] == args.model and "float64" in c]
checks.true(f"{args.model} has float64 references", len(cases) > 0)
for case in cases:
    name, want = case["structure"], case["float64"]
    r = h.run(args, h.setup(args, name, checkpoint, boundary_flags=h.boundary(ref, name)) + h.PRINT_RESULTS)
    n = int(r.value("atoms"))
    checks.close(f"{name} energy/atom", r.value("pe") / n, want["energy"] / n, energy_tol)
    forces = r.dump("forces.dump", ["fx", "fy", "fz"])
    worst = h.worst(abs(forces[i + 1][a] - want["forces"][i][a]) for i in range(n) for a in range(3))
    checks.close(f"{name} max force error", worst, 0.0, force_tol)
    for k, (got, exp) in enumerate(zip(h.virial(r), want["virial"])):
        checks.close(f"{name} virial[{k}]/atom", got / n, exp / n, energy_tol)
    print(f"{args.model} {name} ({args.device}, {args.precision}): E {r.value('pe'):.12f} (ref {want['energy']:.12f}), max |dF| {worst:.2e}")

checks.finish()
