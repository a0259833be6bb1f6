#!/usr/bin/env python3
"""Write SevenNet models of architectures beyond the shared references, and
their upstream energies, forces and virials, as test data for the engine.

Needs the upstream model code (`pip install sevenn`, which brings torch and
e3nn); the engine's tests only read what this writes, so CI needs neither.
    python3 scripts/make_variant_models.py tests/data/variants
Every parameter is drawn at random (seeded), so each one matters.

    python3 scripts/make_variant_models.py --references-only tests/data/variants
leaves the checkpoints (.pth) as they are and only recomputes references.json
from them. sevenn 0.13 runs on Debian's python3-torch (1.13, CPU):

    apt-get install python3-torch python3-venv
    python3 -m venv --system-site-packages /opt/sevenn13-venv
    /opt/sevenn13-venv/bin/pip install sevenn==0.13.0 e3nn==0.5.1 torch_geometric==2.5.3 \
        ase==3.23.0 'numpy<2' 'scipy<1.14'
    /opt/sevenn13-venv/bin/python scripts/make_variant_models.py --references-only tests/data/variants

The references are computed in float64 throughout, from the checkpoints as
written: the model is built again with float64 as the default dtype and given
the file's parameters and buffers except e3nn's Wigner 3j buffers (`_w3j_*`),
whose float32 copies in the file would round the float64 model (they are
checked to be the same numbers); the geometry (positions, edge vectors, cell
volume) stays float64, although AtomGraphData.from_numpy_dict turns the arrays
of the dict it is given into float32 tensors in place; and every tensor made
during the forward pass is float64 (default dtype, one-hot embedding cast).
"""
import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch
from ase import Atoms

import e3nn
import sevenn
import sevenn._const as _const
from sevenn.atom_graph_data import AtomGraphData
from sevenn.model_build import build_E3_equivariant_model
from sevenn.train.dataload import unlabeled_atoms_to_graph

SPECIES = ['Hf', 'O', 'Zr']
VARIANTS = {
    # lmax 3 with parity, biases, 'linear' self-connection, ssp radial MLP
    'l3_parity_bias_linear': dict(
        lmax=3, is_parity=True, channel=6, num_convolution_layer=3, use_bias_in_linear=True,
        self_connection_type='linear', act_radial='ssp', weight_nn_hidden_neurons=[12],
        cutoff_function={'cutoff_function_name': 'poly_cut', 'poly_cut_p_value': 5},
        radial_basis={'radial_basis_name': 'bessel', 'bessel_basis_num': 6},
        conv_denominator=11.0, cutoff=4.2),
    # lmax 4 without parity, XPLOR envelope, readout MLP, ssp gates
    'l4_xplor_fcn_readout': dict(
        lmax=4, is_parity=False, channel=5, num_convolution_layer=2, readout_as_fcn=True,
        readout_fcn_hidden_neurons=[9, 7], readout_fcn_activation='tanh',
        act_scalar={'e': 'ssp', 'o': 'tanh'}, act_gate={'e': 'ssp', 'o': 'abs'},
        cutoff_function={'cutoff_function_name': 'XPLOR', 'cutoff_on': 3.1}, cutoff=4.5,
        weight_nn_hidden_neurons=[10, 11, 9], conv_denominator=9.0),
    # manual irreps with odd scalars, per-layer self-connection and denominators,
    # global scale and shift, SH of higher degree than the nodes
    'manual_irreps_global_shift': dict(
        irreps_manual=['7x0e', '6x0e+3x0o+4x1o+2x1e+2x2e', '5x0e+2x0o+3x1o+3x1e+2x2o+2x2e', '6x0e'],
        lmax=2, lmax_edge=3, is_parity=True, channel=7, num_convolution_layer=3,
        self_connection_type=['nequip', 'linear', 'nequip'], conv_denominator=[5.0, 8.0, 13.0],
        weight_nn_hidden_neurons=[8, 8], cutoff=4.0, global_shift_scale=True),
    # lmax_node below lmax, more species than the structures use
    'lmax_node_four_species': dict(
        lmax=3, lmax_node=1, is_parity=False, channel=4, num_convolution_layer=4, cutoff=3.8,
        weight_nn_hidden_neurons=[16], conv_denominator=6.0, species=['H', 'O', 'Zr', 'Hf']),
}
STRUCTURES = ['bulk_rand_40', 'cluster_20', 'tiny_triclinic', 'isolated']


def make_config(overrides):
    over = copy.deepcopy(overrides)
    species = over.pop('species', SPECIES)
    global_shift_scale = over.pop('global_shift_scale', False)
    config = copy.deepcopy(_const.DEFAULT_E3_EQUIVARIANT_MODEL_CONFIG)
    config.update(over)
    rng = np.random.default_rng(7)
    zs = sorted(Atoms(species).get_atomic_numbers().tolist())
    config['chemical_species'] = [Atoms(numbers=[z]).get_chemical_symbols()[0] for z in zs]
    config['_number_of_species'] = len(zs)
    config['_type_map'] = {z: i for i, z in enumerate(zs)}
    if global_shift_scale:
        config['shift'], config['scale'] = -1.7, 1.3
    else:
        config['shift'] = rng.uniform(-3, -1, len(zs)).tolist()
        config['scale'] = rng.uniform(0.8, 1.3, len(zs)).tolist()
    config['train_shift_scale'] = False
    return config


def perturb(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('denominator') or 'rescale' in name:
                continue
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))


def double_onehot(module, inputs, output):
    # OnehotEmbedding casts with .float(); the float64 model needs doubles.
    for key in (module.key_output, module.key_additional_output):
        if key is not None and output[key].dtype == torch.float32:
            output[key] = output[key].to(torch.float64)
    return output


def load_checkpoint(path):
    try:
        return torch.load(path, map_location='cpu', weights_only=False)
    except TypeError:  # torch < 1.13
        return torch.load(path, map_location='cpu')


def float64_model(config, state):
    """The checkpoint's model built in float64. e3nn computes its Wigner 3j
    buffers at build time in the default dtype; the file holds float32 copies
    of them, which would round the float64 model, so those stay as built."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model = build_E3_equivariant_model(copy.deepcopy(config))
    finally:
        torch.set_default_dtype(default)
    own = model.state_dict()
    weights = {}
    for key, value in state.items():
        if '_w3j_' in key:
            assert torch.allclose(value.double(), own[key], atol=1e-7), key
        else:
            weights[key] = value
    missing, unexpected = model.load_state_dict(weights, strict=False)
    assert not unexpected and all('_w3j_' in k for k in missing), (missing, unexpected)
    model = model.double()
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        assert not t.is_floating_point() or t.dtype == torch.float64, (name, t.dtype)
    model.eval()
    for module in model.modules():
        if type(module).__name__ == 'OnehotEmbedding':
            module.register_forward_hook(double_onehot)
    model.set_is_batch_data(False)
    return model


def evaluate(model, structure):
    atoms = Atoms(symbols=structure['species'], positions=structure['positions'],
                  cell=structure['cell'], pbc=structure['pbc'])
    graph = unlabeled_atoms_to_graph(atoms, model.cutoff, with_shift=False)
    # from_numpy_dict replaces the dict's float64 arrays by float32 tensors in
    # place: give it a copy and take the floating-point values from the original
    data = AtomGraphData.from_numpy_dict(copy.deepcopy(graph))
    for key, value in data.items():
        if torch.is_tensor(value) and value.is_floating_point():
            assert isinstance(graph[key], np.ndarray) and graph[key].dtype == np.float64, key
            data[key] = torch.as_tensor(graph[key], dtype=torch.float64).reshape(value.shape)
    torch.set_default_dtype(torch.float64)  # for whatever the forward pass makes
    try:
        out = model(data)
    finally:
        torch.set_default_dtype(torch.float32)
    for key in ('inferred_total_energy', 'atomic_energy', 'inferred_force', 'inferred_stress'):
        assert key not in out or out[key].dtype == torch.float64, (key, out[key].dtype)
    energy = out['inferred_total_energy'].item()
    atomic = out['atomic_energy'].reshape(-1).tolist()
    forces = out['inferred_force'].tolist()
    # inferred_stress is the virial over the volume, Voigt xx yy zz xy yz zx
    volume = abs(np.linalg.det(np.array(structure['cell']))) if any(structure['pbc']) else None
    virial = None
    if volume:
        s = out['inferred_stress'].reshape(-1).tolist()
        virial = [v * volume for v in (s[0], s[1], s[2], s[3], s[5], s[4])]
    return dict(energy=energy, atomic_energy=atomic, forces=forces, virial=virial,
                num_edges=int(graph['edge_index'].shape[1]))


def main(out_dir, references_only=False):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    refs = json.load(open(Path(__file__).resolve().parents[2] / 'shared/reference/references.json'))
    torch.set_default_dtype(torch.float32)
    if not references_only:
        for k, (name, overrides) in enumerate(VARIANTS.items()):
            config = make_config(overrides)
            torch.manual_seed(k)
            model = build_E3_equivariant_model(copy.deepcopy(config))
            perturb(model, seed=100 + k)
            torch.save({'config': config, 'model_state_dict': model.state_dict(),
                        'version': sevenn.__version__}, out / f'{name}.pth')
    cases = {}
    for name in VARIANTS:
        checkpoint = load_checkpoint(out / f'{name}.pth')
        model = float64_model(checkpoint['config'], checkpoint['model_state_dict'])
        for sname in STRUCTURES:
            cases.setdefault(name, {})[sname] = evaluate(model, refs['structures'][sname])
    generator = {'sevenn': sevenn.__version__, 'e3nn': e3nn.__version__, 'torch': torch.__version__}
    json.dump({'generator': generator, 'structures': STRUCTURES, 'cases': cases},
              open(out / 'references.json', 'w'))


if __name__ == '__main__':
    args = sys.argv[1:]
    references_only = '--references-only' in args
    args = [a for a in args if a != '--references-only']
    if len(args) != 1:
        sys.exit(__doc__)
    main(args[0], references_only)
