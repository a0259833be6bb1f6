"""Bad input stops LAMMPS with a clear error, never a crash or silent garbage."""
import os

import lammps_harness as h

args = h.options()
ref = h.references(args.reference)
model = os.path.join(args.reference, ref["models"]["tiny_parity"]["checkpoint"])
checks = h.Checks()
good = h.setup(args, "bulk_rand_40", model) + "run 0\n"

cases = {
    "unknown element": (good.replace(h.TYPE_ELEMENTS, "Hf O Xe"), "Xe not in the model"),
    "too few elements": (good.replace(h.TYPE_ELEMENTS, "Hf O"), "3 atom types but 2 element(s) given"),
    "too many elements": (good.replace(h.TYPE_ELEMENTS, "Hf O Zr O"), "3 atom types but 4 element(s) given"),
    "units real": (good.replace("units metal", "units real"), "requires 'units metal'"),
    "newton off": (good.replace("newton on", "newton off"), "requires 'newton on'"),
    "missing model file": (good.replace(model, "/nonexistent/model.pth"), "cannot open model file '/nonexistent/model.pth'"),
    "bad precision": (h.restyle(good, precision="half"), "unknown precision 'half'"),
    "bad pair_coeff": (good.replace("pair_coeff * *", "pair_coeff 1 1"), "Incorrect args for pair coefficients"),
    "bad device": (h.restyle(good, device="tpu"), "unknown device 'tpu'"),
    # a second atom where atom 2 of bulk_rand_40.data sits
    "atoms on top of each other": (good.replace("run 0", "create_atoms 2 single 4.6716970124 1.1927716208 1.5782006587 "
                                                "units box\nrun 0"), "sit on top of each other"),
}
if not os.path.exists("/dev/nvidia0"):  # no GPU here: insisting on one is an error, in CUDA builds or not
    cases["device cuda without a GPU"] = (h.restyle(good, device="cuda"),
                                          "flashtp: device cuda: ")
for label, (script, message) in cases.items():
    r = h.run(args, script, check=False)
    errors = [l for l in r.output.splitlines() if "ERROR" in l]
    shown = errors[0] if errors else r.output[-500:]
    checks.true(f"{label}: exits with an error", r.returncode != 0, f"(exit code {r.returncode})")
    checks.true(f"{label}: says '{message}'", any(message in l for l in errors), f"(got: {shown})")
    print(f"{label}: {shown}")
checks.finish()
