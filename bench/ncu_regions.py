#!/usr/bin/env python3
"""Where a kernel's instructions and stalls go, by the call sites in its body.

Nsight Compute's per-instruction page (`ncu --import R --page source --csv --print-source sass`)
counts executed instructions and stall samples per SASS instruction, without source lines.
`nvdisasm -gi -c` of a cubin built from the same sources with the same flags (-lineinfo) gives
each instruction its chain of inlined source lines. Matched by position (the opcodes are
checked), each instruction is charged to the outermost line of SOURCE in the chain: for the
fused kernels, the statement of the kernel's body that called it (share_weights, backward_task,
weight_gradient_to_hidden, ...).

  bench/ncu_regions.py NVDISASM_GI.txt NCU_SASS.csv KERNEL [SOURCE] [--top N]

KERNEL: a substring of the mangled name (convolution_backward); SOURCE: default
convolution.cuh.
"""
import collections
import csv
import re
import sys


def kernel_instructions(path, kernel):
    """(opcode text, [(file, line), ...] innermost first) per instruction of the kernel."""
    text = open(path).read().split('\n')
    start = next(i for i, l in enumerate(text) if l.startswith('//----') and kernel in l)
    end = next((i for i in range(start + 1, len(text)) if text[i].startswith('//----')), len(text))
    out, chain, in_chain = [], [], False
    for line in text[start:end]:
        m = re.match(r'\s*//## File "(.*?)", line (\d+)', line)
        if m:
            if not in_chain:
                chain, in_chain = [], True
            chain.append((m.group(1).split('/')[-1], int(m.group(2))))
            continue
        m = re.match(r'\s*/\*[0-9a-f]{4,}\*/\s+(.*?);', line)
        if m:
            in_chain = False
            out.append((m.group(1).strip(), list(chain)))
    return out


def number(x):
    try:
        return float(x)
    except ValueError:
        return 0.0


def main(argv):
    top = 25
    if '--top' in argv:
        i = argv.index('--top')
        top = int(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) < 4:
        sys.exit(__doc__)
    sass, table, kernel = argv[1:4]
    source = argv[4] if len(argv) > 4 else 'convolution.cuh'
    instructions = kernel_instructions(sass, kernel)
    rows = list(csv.reader(open(table)))
    header, data = rows[1], rows[2:]
    if len(data) != len(instructions):
        sys.exit(f'{table}: {len(data)} instructions, {sass}: {len(instructions)} (not the same build?)')
    col = {h: i for i, h in enumerate(header)}
    opcode = lambda t: t.split()[1] if t.startswith('@') else t.split()[0]
    mismatched = sum(1 for (t, _), r in zip(instructions, data) if opcode(t).split('.')[0] not in r[col['Source']])
    if mismatched:
        sys.exit(f'{mismatched} opcodes differ between the two: not the same build')
    stalls = [h for h in header if h.startswith('stall_') and 'Not Issued' not in h]
    sums = collections.defaultdict(collections.Counter)
    for (_, chain), r in zip(instructions, data):
        lines = [n for f, n in chain if f == source]
        site = lines[-1] if lines else 'elsewhere'
        s = sums[site]
        s['instructions'] += number(r[col['Instructions Executed']])
        s['samples'] += number(r[col['# Samples']])
        for h in stalls:
            s[h[len('stall_'):]] += number(r[col[h]])
    total_i = sum(s['instructions'] for s in sums.values())
    total_s = sum(s['samples'] for s in sums.values())
    src = {}  # the source's lines, to print beside the sites, where the file is found
    for path in (source, f'src/cuda/{source}'):
        try:
            src = dict(enumerate(open(path).read().split('\n'), 1))
            break
        except OSError:
            pass
    print(f'{kernel}: {total_i:.4g} warp instructions, {total_s:.0f} stall samples')
    print(f'{"line":>9} {"instr":>6} {"samples":>7}  top stalls  (source)')
    for site, s in sorted(sums.items(), key=lambda kv: -kv[1]['samples'])[:top]:
        reasons = sorted(((s[h[6:]], h[6:]) for h in stalls), reverse=True)[:3]
        why = ' '.join(f'{n} {100 * v / max(s["samples"], 1):.0f}%' for v, n in reasons)
        text = src.get(site, '').strip()[:60] if isinstance(site, int) else ''
        print(f'{site!s:>9} {100 * s["instructions"] / total_i:5.1f}% {100 * s["samples"] / total_s:6.1f}%  {why}  {text}')


if __name__ == '__main__':
    main(sys.argv)
