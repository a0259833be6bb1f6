"""Energy conservation: NVE with tiny_parity (float64), 1 fs, 2000 steps on
hfo2_96 from 600 K. The total energy may not drift by more than 1e-5 eV/atom:
forces are the exact gradient of the energy, including across the cutoff."""
import os

import lammps_harness as h

args = h.options()
ref = h.references(args.reference)
model = os.path.join(args.reference, ref["models"]["tiny_parity"]["checkpoint"])
checks = h.Checks()

r = h.run(args, h.setup(args, "hfo2_96", model) + """velocity all create 600.0 4928459 mom yes rot yes dist gaussian
timestep 0.001
fix nve all nve
thermo_style custom step temp pe ke etotal
thermo_modify format float %.15g
thermo 50
run 2000
""")
rows = r.thermo()
n = 96
e0 = rows[0]["TotEng"]
# Drift: the change of the mean total energy between the first and the last
# tenth of the run, which the bounded Verlet fluctuation does not mask.
tenth = max(1, len(rows) // 10)
first = sum(row["TotEng"] for row in rows[:tenth]) / tenth
last = sum(row["TotEng"] for row in rows[-tenth:]) / tenth
fluctuation = h.worst(abs(row["TotEng"] - e0) for row in rows) / n
print(f"{len(rows)} thermo rows to step {rows[-1]['Step']:.0f}; T {rows[-1]['Temp']:.1f} K; "
      f"drift {(last - first) / n:.3e} eV/atom, max |E - E0| {fluctuation:.3e} eV/atom")
checks.true("reached step 2000", rows[-1]["Step"] == 2000)
checks.close("total energy drift per atom", abs(last - first) / n, 0.0, 1e-5)
checks.close("max total energy deviation per atom", fluctuation, 0.0, 1e-4)
checks.finish()
