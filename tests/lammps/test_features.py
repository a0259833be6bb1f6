"""What LAMMPS users rely on beyond energy and forces: per-atom energy and
virial summing to the global ones (compute pe/atom, stress/atom, press),
non-consecutive atom ids, several types sharing one element, float32,
minimize, and SevenNet's own legacy example model read from its deployed .pt."""
import os
import random

import lammps_harness as h

args = h.options()
ref = h.references(args.reference)
model = os.path.join(args.reference, ref["models"]["tiny_parity"]["checkpoint"])
checks = h.Checks()
want = next(c["float64"] for c in ref["cases"] if c["model"] == "tiny_parity" and c["structure"] == "bulk_rand_40")
n = 40

# Per-atom energy and virial (newton on: ghosts' shares summed into owners).
r = h.run(args, h.setup(args, "bulk_rand_40", model) + """compute pe_atom all pe/atom
compute s_atom all stress/atom NULL virial
compute pe_sum all reduce sum c_pe_atom
compute s_sum all reduce sum c_s_atom[1] c_s_atom[2] c_s_atom[3] c_s_atom[4] c_s_atom[5] c_s_atom[6]
dump peratom all custom 1 peratom.dump id c_pe_atom
dump_modify peratom sort id format float %.17g
thermo_style custom step pe press c_pe_sum
""" + h.PRINT_RESULTS.replace("thermo_style custom step", "thermo_style custom step c_pe_sum c_s_sum[1] c_s_sum[2] c_s_sum[3] c_s_sum[4] c_s_sum[5] c_s_sum[6]")
    + 'print "FLASHTP pe_sum $(c_pe_sum:%.17g)"\nprint "FLASHTP press $(press:%.17g)"\n'
    + "".join(f'print "FLASHTP s_sum{k} $(c_s_sum[{k}]:%.17g)"\n' for k in range(1, 7)))
checks.close("sum of pe/atom = pe", r.value("pe_sum"), r.value("pe"), 1e-9)
peratom = r.dump("peratom.dump", ["c_pe_atom"])
worst = h.worst(abs(peratom[i + 1][0] - want["atomic_energy"][i]) for i in range(n))
checks.close("pe/atom vs reference atomic energies", worst, 0.0, 1e-9)
W = h.virial(r)
for k in range(6):
    # stress/atom is -(per-atom virial) in pressure*volume units.
    checks.close(f"sum of stress/atom[{k}] = -virial", -r.value(f"s_sum{k + 1}") / h.NKTV2P, W[k], 1e-9)
# press = (N k T + trace(W) / 3) / V at T = 0.
checks.close("press", r.value("press"), (W[0] + W[1] + W[2]) / 3 / r.value("vol") * h.NKTV2P, 1e-6)

# Non-consecutive, shuffled atom ids, from 1000 and from 1e8: same energy and
# the same force per atom.
data = open(os.path.join(args.reference, "structures", "bulk_rand_40.data")).read()
head, atoms = data.split("Atoms # atomic\n\n")
lines = [l.split() for l in atoms.strip().splitlines()]
rng = random.Random(7)
order = list(range(n))
rng.shuffle(order)
for first, what in ((1000, "renumbered ids"), (10**8, "sparse ids")):
    new_id = {int(lines[k][0]): first + 37 * j for j, k in enumerate(order)}
    body = "\n".join(" ".join([str(new_id[int(lines[k][0])])] + lines[k][1:]) for k in order)
    renumbered = os.path.join(r.workdir, f"renumbered_{first}.data")
    open(renumbered, "w").write(head + "Atoms # atomic\n\n" + body + "\n")
    r2 = h.run(args, h.setup(args, "bulk_rand_40", model, data=renumbered) + h.PRINT_RESULTS)
    checks.close(f"{what}: energy", r2.value("pe"), want["energy"], 1e-9 * n)
    f2 = r2.dump("forces.dump", ["fx", "fy", "fz"])
    worst = h.worst(abs(f2[new_id[i + 1]][a] - want["forces"][i][a]) for i in range(n) for a in range(3))
    checks.close(f"{what}: forces", worst, 0.0, 1e-8)

# Two types with the same element are the same atoms to the model: every
# other Hf atom becomes type 4, also Hf.
four_types = os.path.join(r.workdir, "four_types.data")
head4 = head.replace("3 atom types", "4 atom types").replace("3 1.0 # Zr", "3 1.0 # Zr\n4 1.0 # Hf")
lines4 = [l[:1] + ["4" if l[1] == "1" and int(l[0]) % 2 == 0 else l[1]] + l[2:] for l in lines]
open(four_types, "w").write(head4 + "Atoms # atomic\n\n" + "\n".join(map(" ".join, lines4)) + "\n")
r3 = h.run(args, h.setup(args, "bulk_rand_40", model, data=four_types).replace(h.TYPE_ELEMENTS, "Hf O Zr Hf")
           .replace("mass 3 91.224\n", "mass 3 91.224\nmass 4 178.49\n") + h.PRINT_RESULTS)
checks.close("types 1 and 4 both Hf: energy", r3.value("pe"), want["energy"], 1e-9 * n)

# On 3 threads the graph is built in 3 uneven blocks of centres, joined in
# centre order (and the CPU engine runs on 3 threads).
r7 = h.run(args, h.setup(args, "bulk_rand_40", model) + h.PRINT_RESULTS, threads=3)
checks.close("3 threads: energy", r7.value("pe"), want["energy"], 1e-9 * n)
f7 = r7.dump("forces.dump", ["fx", "fy", "fz"])
worst = h.worst(abs(f7[i + 1][a] - want["forces"][i][a]) for i in range(n) for a in range(3))
checks.close("3 threads: forces", worst, 0.0, 1e-8)

# float32 engine: the same physics within float32 noise.
r4 = h.run(args, h.restyle(h.setup(args, "bulk_rand_40", model), precision="float32") + h.PRINT_RESULTS)
checks.close("float32: energy/atom", r4.value("pe") / n, want["energy"] / n, 1e-5)

# minimize: converges downhill with line searches on our energy and forces.
r5 = h.run(args, h.setup(args, "bulk_rand_40", model) + """thermo_style custom step pe fnorm
thermo_modify format float %.12g
min_style cg
run 0
print "FLASHTP fnorm0 $(fnorm:%.17g)"
minimize 0 1e-8 300 3000
print "FLASHTP pe $(pe:%.17g)"
print "FLASHTP fnorm $(fnorm:%.17g)"
""")
checks.true("minimize lowers the energy", r5.value("pe") < want["energy"] - 0.5,
            f"({r5.value('pe')} vs start {want['energy']})")
# The random-weight model has soft modes: CG converges, slowly.
checks.true("minimize reduces |F| 20-fold", r5.value("fnorm") < r5.value("fnorm0") / 20,
            f"(fnorm {r5.value('fnorm0')} -> {r5.value('fnorm')})")
print(f"minimize: {want['energy']:.6f} -> {r5.value('pe'):.6f} eV, |F| {r5.value('fnorm0'):.2e} -> {r5.value('fnorm'):.2e}")

# SevenNet's example model as users have it (deployed by SevenNet 0.8.6, its
# harmonics unnormalised), read natively from the .pt: upstream float32 within
# float32 noise. hfo2_96's type 3 has no atoms; it is mapped to Hf.
example = os.path.join(args.reference, ref["models"]["upstream_example_hfo2"]["file"])
want = next(c["float32"] for c in ref["cases"] if c["model"] == "upstream_example_hfo2" and c["structure"] == "hfo2_96")
r6 = h.run(args, h.setup(args, "hfo2_96", example).replace(h.TYPE_ELEMENTS, "Hf O Hf") + h.PRINT_RESULTS)
n6 = int(r6.value("atoms"))
checks.close("example .pt: energy/atom vs upstream float32", r6.value("pe") / n6, want["energy"] / n6, 1e-5)
f6 = r6.dump("forces.dump", ["fx", "fy", "fz"])
worst = h.worst(abs(f6[i + 1][a] - want["forces"][i][a]) for i in range(n6) for a in range(3))
checks.close("example .pt: forces vs upstream float32", worst, 0.0, 1e-4)
print(f"example .pt: E {r6.value('pe'):.8f} (upstream float32 {want['energy']:.8f}), max |dF| {worst:.2e}")
checks.finish()
