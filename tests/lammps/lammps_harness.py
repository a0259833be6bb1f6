"""Runs lmp_flashtp on generated inputs and reads back what the tests compare.

Python standard library only. Every test script takes the same options:
  --lmp PATH        the lmp_flashtp driver
  --reference DIR   shared/reference (models/, structures/, references.json)
  --mpirun PATH     mpirun, for the MPI tests (Open MPI or MPICH)
  --plugin PATH     run through a LAMMPS with the PLUGIN package (--lmp) that
                    loads this flashtpplugin.so first
  --device, --precision   of `pair_style flashtp` (default cpu, float64); with
                    --device cuda a test exits 77 (skipped) when there is no GPU
"""
import argparse
import atexit
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

# LAMMPS metal units: pressure (bar) = virial (eV) / volume (A^3) * NKTV2P.
NKTV2P = 1.6021765e6
TYPE_ELEMENTS = "Hf O Zr"  # types 1, 2, 3 of the reference data files
MASSES = "mass 1 178.49\nmass 2 15.999\nmass 3 91.224\n"
NO_GPU = "no CUDA device is visible"  # pair_style flashtp's error for device cuda without a GPU
SKIPPED = 77  # ctest's SKIP_RETURN_CODE of the GPU tests


def options(extra=None):
    p = argparse.ArgumentParser()
    p.add_argument("--lmp", required=True)
    p.add_argument("--reference", required=True)
    p.add_argument("--mpirun", default="mpirun")
    p.add_argument("--plugin")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--precision", choices=("float64", "float32"), default="float64")
    for name, kw in (extra or {}).items():
        p.add_argument(name, **kw)
    return p.parse_args()


def references(reference_dir):
    with open(os.path.join(reference_dir, "references.json")) as f:
        return json.load(f)


def boundary(ref, structure):
    return " ".join("p" if periodic else "f" for periodic in ref["structures"][structure]["pbc"])


class Run:
    """One finished LAMMPS run: its output, its printed values and dumps."""

    def __init__(self, workdir, output, returncode):
        self.workdir, self.output, self.returncode = workdir, output, returncode

    def value(self, name):
        """A number printed by the input as 'FLASHTP name value'."""
        m = re.findall(r"^FLASHTP %s (\S+)$" % re.escape(name), self.output, re.M)
        if not m:
            raise AssertionError("no '%s' in the LAMMPS output:\n%s" % (name, self.output[-3000:]))
        return float(m[-1])

    def dump(self, name, columns):
        """The last frame of a custom dump sorted by id: {id: [columns...]}."""
        with open(os.path.join(self.workdir, name)) as f:
            lines = f.read().splitlines()
        start = max(i for i, l in enumerate(lines) if l.startswith("ITEM: ATOMS"))
        header = lines[start].split()[2:]
        idx = [header.index(c) for c in columns]
        out = {}
        for line in lines[start + 1:]:
            if line.startswith("ITEM:"):
                break
            v = line.split()
            out[int(v[header.index("id")])] = [float(v[i]) for i in idx]
        return out

    def thermo(self):
        """Rows of the last thermo table as dicts of floats."""
        lines = self.output.splitlines()
        heads = [i for i, l in enumerate(lines) if l.split()[:1] == ["Step"]]
        if not heads:
            raise AssertionError("no thermo output:\n" + self.output[-3000:])
        keys = lines[heads[-1]].split()
        rows = []
        for line in lines[heads[-1] + 1:]:
            v = line.split()
            if len(v) != len(keys) or not re.match(r"^-?\d", v[0]):
                break
            rows.append(dict(zip(keys, map(float, v))))
        return rows


_workdirs = []  # removed when the test exits, but for a failed run's
atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True) for d in _workdirs])


def run(args, script, np=1, extra_args=(), threads=None, timeout=600, check=True):
    """Runs `script` (input text) with lmp_flashtp, on np MPI ranks if np > 1,
    in a directory of its own."""
    workdir = tempfile.mkdtemp(prefix="flashtp_lammps_")
    _workdirs.append(workdir)
    with open(os.path.join(workdir, "in.test"), "w") as f:
        f.write((f"plugin load {args.plugin}\n" if args.plugin else "") + script)
    cmd = [args.lmp, "-in", "in.test", "-log", "log.lammps", "-echo", "screen", *extra_args]
    env = dict(os.environ)
    if np > 1:
        cmd = [args.mpirun, "-np", str(np), *_oversubscribe(args.mpirun), *cmd]
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    p = subprocess.run(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=timeout)
    r = Run(workdir, p.stdout, p.returncode)
    if args.device == "cuda" and NO_GPU in p.stdout:
        print("SKIP: no GPU:", next(l for l in p.stdout.splitlines() if NO_GPU in l))
        sys.exit(SKIPPED)
    if check and p.returncode != 0:
        _workdirs.remove(workdir)
        raise AssertionError("lmp_flashtp failed (%d, in %s):\n%s" % (p.returncode, workdir, p.stdout[-4000:]))
    return r


def _oversubscribe(mpirun):
    """More ranks than cores: Open MPI must be told; MPICH's hydra allows it."""
    version = subprocess.run([mpirun, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True).stdout
    return ["--oversubscribe"] if "Open MPI" in version else []


def setup(args, structure, model, pair_style=None, boundary_flags="p p p", data=None):
    """The start of an input: metal units, a reference structure, the model
    (pair_style flashtp on the device and in the precision of the options)."""
    pair_style = pair_style or f"flashtp precision {args.precision} device {args.device}"
    data = data or os.path.join(args.reference, "structures", structure + ".data")
    return f"""units metal
atom_style atomic
boundary {boundary_flags}
newton on
read_data {data}
{MASSES}pair_style {pair_style}
pair_coeff * * {model} {TYPE_ELEMENTS}
"""


def restyle(script, **keywords):
    """`script` with keywords of its `pair_style flashtp` line set: restyle(s, precision="float32")."""
    def rewrite(line):
        words = line.group(0).split()
        settings = dict(zip(words[2::2], words[3::2]))
        settings.update(keywords)
        return " ".join(words[:2] + [w for pair in settings.items() for w in pair])
    return re.sub(r"^pair_style flashtp( .*)?$", rewrite, script, count=1, flags=re.M)


# Prints energy, virial (eV, from the virial part of the pressure) and volume.
PRINT_RESULTS = """compute vir all pressure NULL virial
thermo_style custom step pe press c_vir[1] c_vir[2] c_vir[3] c_vir[4] c_vir[5] c_vir[6] vol
dump forces all custom 1 forces.dump id fx fy fz
dump_modify forces sort id format float %.17g
run 0
print "FLASHTP pe $(pe:%.17g)"
print "FLASHTP atoms $(atoms)"
print "FLASHTP vol $(vol:%.17g)"
""" + "".join(f'print "FLASHTP vir{k} $(c_vir[{k}]:%.17g)"\n' for k in range(1, 7))


def virial(run):
    """Global virial (eV) xx yy zz xy xz yz from a run of PRINT_RESULTS."""
    vol = run.value("vol")
    return [run.value(f"vir{k}") * vol / NKTV2P for k in range(1, 7)]


class Checks:
    """Collects failures so one test reports all of them."""

    def __init__(self):
        self.failures, self.passed = [], 0

    def close(self, what, got, want, tol):
        if abs(got - want) <= tol:
            self.passed += 1
        else:
            self.failures.append(f"{what}: got {got!r}, want {want!r} (|diff| {abs(got - want):.3g} > {tol:.3g})")

    def true(self, what, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failures.append(f"{what} {detail}")

    def finish(self):
        for f in self.failures:
            print("FAIL", f)
        print(f"{self.passed} passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)


def worst(deviations):
    """The largest deviation, or NaN if any is NaN (max() keeps a NaN only when it comes first)."""
    out = 0.0
    for d in deviations:
        if math.isnan(d):
            return d
        out = max(out, d)
    return out


def max_force_diff(a, b):
    assert a.keys() == b.keys(), "different atom ids"
    return worst(abs(x - y) for i in a for x, y in zip(a[i], b[i]))
