"""The native pair style against the upstream model inside LAMMPS: the
deployed TorchScript files (float32) run by pair_style flashtp/torch, the way
SevenNet's pair_e3gnn runs them.
- run 0 on hfo2_96, every model: flashtp/torch equals the upstream float32
  references, and native float64 agrees with it within float32 noise;
- SevenNet's legacy example model (upstream_example_hfo2.pt) runs too;
- 100 steps of NVE (tiny_parity, 1 fs, 600 K): both trajectories stay
  together within float32 noise."""
import os

import lammps_harness as h

args = h.options()
ref = h.references(args.reference)
checks = h.Checks()
n = 96


def pt(model):
    return os.path.join(args.reference, ref["models"][model]["file"])


def pth(model):
    return os.path.join(args.reference, ref["models"][model]["checkpoint"])


for model in ("tiny_parity", "sevennet0_arch", "l3i5_arch"):
    want = next(c["float32"] for c in ref["cases"] if c["model"] == model and c["structure"] == "hfo2_96")
    torch = h.run(args, h.setup(args, "hfo2_96", pt(model), pair_style="flashtp/torch") + h.PRINT_RESULTS)
    native = h.run(args, h.setup(args, "hfo2_96", pth(model)) + h.PRINT_RESULTS)
    checks.close(f"{model}: flashtp/torch energy/atom vs upstream float32", torch.value("pe") / n, want["energy"] / n, 1e-6)
    ft = torch.dump("forces.dump", ["fx", "fy", "fz"])
    worst = h.worst(abs(ft[i + 1][a] - want["forces"][i][a]) for i in range(n) for a in range(3))
    checks.close(f"{model}: flashtp/torch forces vs upstream float32", worst, 0.0, 1e-4)
    checks.close(f"{model}: native vs flashtp/torch energy/atom", native.value("pe") / n, torch.value("pe") / n, 1e-5)
    dF = h.max_force_diff(native.dump("forces.dump", ["fx", "fy", "fz"]), ft)
    checks.close(f"{model}: native vs flashtp/torch forces", dF, 0.0, 1e-3)
    print(f"{model}: E native {native.value('pe'):.8f}, torch {torch.value('pe'):.8f}, upstream float32 "
          f"{want['energy']:.8f}; max |dF| native-torch {dF:.2e}")

# SevenNet's own example model, deployed by SevenNet 0.8.6 (legacy interface:
# the model computes forces and stress itself). Hf and O only: the data
# file's type 3 (no atoms in hfo2_96) is mapped to Hf.
want = next(c["float32"] for c in ref["cases"] if c["model"] == "upstream_example_hfo2" and c["structure"] == "hfo2_96")
legacy = h.run(args, h.setup(args, "hfo2_96", pt("upstream_example_hfo2"), pair_style="flashtp/torch")
               .replace(h.TYPE_ELEMENTS, "Hf O Hf") + h.PRINT_RESULTS)
checks.close("upstream_example_hfo2: energy/atom vs upstream float32", legacy.value("pe") / n, want["energy"] / n, 1e-6)
fl = legacy.dump("forces.dump", ["fx", "fy", "fz"])
worst = h.worst(abs(fl[i + 1][a] - want["forces"][i][a]) for i in range(n) for a in range(3))
checks.close("upstream_example_hfo2: forces vs upstream float32", worst, 0.0, 1e-4)
for k, (got, exp) in enumerate(zip(h.virial(legacy), want["virial"])):
    checks.close(f"upstream_example_hfo2: virial[{k}]/atom", got / n, exp / n, 1e-6)
print(f"upstream_example_hfo2 (legacy .pt): E {legacy.value('pe'):.8f}, upstream float32 {want['energy']:.8f}, "
      f"max |dF| {worst:.2e}")

md = """velocity all create 600.0 4928459 mom yes rot yes dist gaussian
timestep 0.001
fix nve all nve
thermo_style custom step temp pe etotal
thermo_modify format float %.15g
thermo 10
dump pos all custom 100 positions.dump id x y z
dump_modify pos sort id format float %.17g
run 100
"""
torch = h.run(args, h.setup(args, "hfo2_96", pt("tiny_parity"), pair_style="flashtp/torch") + md)
native = h.run(args, h.setup(args, "hfo2_96", pth("tiny_parity")) + md)
worst_pe = h.worst(abs(a["PotEng"] - b["PotEng"]) / n for a, b in zip(torch.thermo(), native.thermo()))
worst_x = h.max_force_diff(torch.dump("positions.dump", ["x", "y", "z"]), native.dump("positions.dump", ["x", "y", "z"]))
checks.true("both ran 100 steps", torch.thermo()[-1]["Step"] == native.thermo()[-1]["Step"] == 100)
checks.close("NVE: max |pe difference| per atom over 100 steps", worst_pe, 0.0, 1e-5)
checks.close("NVE: max position difference after 100 steps (A)", worst_x, 0.0, 1e-4)
print(f"NVE 100 steps: max |dE_pot|/atom {worst_pe:.2e} eV, max |dx| {worst_x:.2e} A")
checks.finish()
