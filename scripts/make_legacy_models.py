#!/usr/bin/env python3
"""Write SevenNet <= 0.9 checkpoints with the old SevenNet code itself, and the
energies, forces and virials that code computes with them in float64, as test
data for flashtp's reader of legacy checkpoints (tests/test_legacy_checkpoints.cpp).

Each run writes the models of the SevenNet version it imports and merges their
results into OUT/references.json, so run it once per version. Nothing is
trained: each model is built and checkpointed by the old training pipeline
(read_config_yaml -> processing_dataset -> build_E3_equivariant_model ->
Trainer -> processing_epoch's write_checkpoint), with random parameters.

SevenNet 0.9.0 and 0.9.1 were released as git tags only, and their users had
e3nn < 0.5, whose Wigner 3j tables have the opposite sign for some (l1, l2, l3);
SevenNet 0.9.3.post1 is on PyPI and ran with e3nn 0.5. Debian's python3-torch
(1.13, CPU) serves all three:

    apt-get install python3-torch python3-venv
    python3 -m venv --system-site-packages /opt/sevenn09-venv
    /opt/sevenn09-venv/bin/pip install e3nn==0.4.4 ase==3.22.1 torch_geometric==2.3.1 \
        braceexpand pyyaml tqdm scikit-learn 'numpy<2'
    /opt/sevenn09-venv/bin/pip install --no-build-isolation torch-scatter==2.1.2
    # the sources of the tags v0.9.0 and v0.9.1 of MDIL-SNU/SevenNet, e.g.
    #   git archive --prefix=sevenn-v0.9.1/ v0.9.1 | tar -x -C /opt/sevenn-src
    PYTHONPATH=/opt/sevenn-src/sevenn-v0.9.0 /opt/sevenn09-venv/bin/python scripts/make_legacy_models.py tests/data/legacy
    PYTHONPATH=/opt/sevenn-src/sevenn-v0.9.1 /opt/sevenn09-venv/bin/python scripts/make_legacy_models.py tests/data/legacy

    python3 -m venv --system-site-packages /opt/sevenn093-venv
    /opt/sevenn093-venv/bin/pip install sevenn==0.9.3.post1 e3nn==0.5.1 torch_geometric==2.5.3 \
        ase==3.23.0 'numpy<2'
    /opt/sevenn093-venv/bin/python scripts/make_legacy_models.py tests/data/legacy

Each model is also deployed (.pt) by that version's sevenn_get_model. The
structures are four of ../shared/reference/references.json, copied into
references.json so that the tests need nothing else.
"""
import copy
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import yaml
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

import e3nn
import sevenn._const as _const
import sevenn._keys as KEY
from sevenn.atom_graph_data import AtomGraphData
from sevenn.model_build import build_E3_equivariant_model
from sevenn.parse_input import read_config_yaml
from sevenn.scripts.processing_dataset import processing_dataset
from sevenn.sevenn_logger import Logger
from sevenn.train.dataload import atoms_to_graph
from sevenn.train.trainer import Trainer

SEVENN_VERSION = _const.SEVENN_VERSION
TRAIN = {'random_seed': 3, 'epoch': 1, 'is_train_stress': True, 'optimizer': 'adam', 'optim_param': {'lr': 0.005},
         'scheduler': 'exponentiallr', 'scheduler_param': {'gamma': 0.99}}

# Per SevenNet version: model name -> (model section, data section) of input.yaml.
MODELS = {
    '0.9.0': {
        # before act_radial existed: act_scalar and act_gate differ, which this
        # version swapped, and its radial MLP took act_gate's 'e'
        'v090_swapped_acts': (
            dict(cutoff=4.0, channel=4, lmax=2, is_parity=True, num_convolution_layer=2,
                 weight_nn_hidden_neurons=[8], radial_basis={'radial_basis_name': 'bessel', 'bessel_basis_num': 6},
                 cutoff_function={'cutoff_function_name': 'poly_cut', 'poly_cut_p_value': 6},
                 act_scalar={'e': 'silu', 'o': 'tanh'}, act_gate={'e': 'ssp', 'o': 'abs'},
                 optimize_by_reduce=False),
            dict(use_species_wise_shift_scale=True)),
    },
    '0.9.1': {
        # 'MACE' (today 'linear') self-connection, XPLOR envelope, biases,
        # reduced last layer, one shift and scale for all species
        'v091_mace_xplor': (
            dict(cutoff=4.5, channel=4, lmax=2, is_parity=True, num_convolution_layer=3,
                 weight_nn_hidden_neurons=[8, 8], act_radial='ssp',
                 cutoff_function={'cutoff_function_name': 'XPLOR', 'cutoff_on': 3.5},
                 self_connection_type='MACE', optimize_by_reduce=True, use_bias_in_linear=True),
            dict(use_species_wise_shift_scale=False)),
        # lmax 3 without parity, a fixed avg_num_neigh, unreduced last layer
        'v091_noparity_l3': (
            dict(cutoff=4.0, channel=3, lmax=3, is_parity=False, num_convolution_layer=2,
                 weight_nn_hidden_neurons=[10], radial_basis={'radial_basis_name': 'bessel', 'bessel_basis_num': 7},
                 cutoff_function={'cutoff_function_name': 'poly_cut', 'poly_cut_p_value': 5},
                 avg_num_neigh=9.0, optimize_by_reduce=False),
            dict(use_species_wise_shift_scale=True)),
    },
    '0.9.3.post1': {
        # today's module names, conv_denominator, normalised harmonics, unsorted paths
        'v093_parity_l2': (
            dict(cutoff=4.2, channel=4, lmax=2, is_parity=True, num_convolution_layer=2,
                 weight_nn_hidden_neurons=[8], conv_denominator='avg_num_neigh'),
            dict(shift='elemwise_reference_energies', scale='elemwise_force_rms')),
    },
}
STRUCTURES = ['bulk_rand_40', 'tiny_triclinic', 'cluster_20', 'isolated']


def training_set(path):
    """Random labelled Hf/O/Zr cells, only for the statistics SevenNet takes
    from its training set (shift, scale, avg_num_neigh, species)."""
    rng = np.random.default_rng(11)
    frames = []
    for k in range(10):
        n = int(rng.integers(4, 9))
        atoms = Atoms(symbols=rng.choice(['Hf', 'O', 'Zr'], n), cell=np.eye(3) * 4.6, pbc=True,
                      positions=rng.uniform(0, 4.6, (n, 3)))
        atoms.calc = SinglePointCalculator(atoms, energy=-6.0 * n + rng.normal(), forces=rng.normal(size=(n, 3)),
                                           stress=rng.normal(scale=0.01, size=6))
        frames.append(atoms)
    write(path, frames, format='extxyz')


def checkpoint(name, model_section, data_section, work, out):
    """The old `sevenn input.yaml` up to its first checkpoint, without the epochs."""
    from sevenn.main.sevenn import global_config as main_config

    training_set(work / 'train.extxyz')
    model = dict(chemical_species='auto', **model_section)
    data = dict(data_format='ase', load_dataset_path=[str(work / 'train.extxyz')], data_divide_ratio=0.2,
                batch_size=2, **data_section)
    with open(work / 'input.yaml', 'w') as f:
        yaml.safe_dump({'model': model, 'train': TRAIN, 'data': data}, f)
    Logger(filename=str(work / 'log.sevenn'), screen=False, rank=0)

    # sevenn.main.sevenn.main
    model_config, train_config, data_config = read_config_yaml(str(work / 'input.yaml'))
    train_config.update({KEY.IS_DDP: False, KEY.LOCAL_RANK: 0, KEY.RANK: 0, KEY.WORLD_SIZE: 1})
    config = copy.deepcopy(main_config)
    config.update(model_config)
    config.update(train_config)
    config.update(data_config)

    # sevenn.scripts.train.train
    torch.manual_seed(config[KEY.RANDOM_SEED])
    processing_dataset(config, str(work))
    model = build_E3_equivariant_model(config)
    trainer = Trainer(model, config)

    # Random parameters, so that each one matters (zero biases, n pi / r_c
    # Bessel frequencies); the denominators, shift and scale stay SevenNet's.
    gen = torch.Generator().manual_seed(sum(map(ord, name)))
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if 'denumerator' in pname or 'denominator' in pname or 'rescale' in pname:
                continue
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))

    # sevenn.scripts.processing_epoch.write_checkpoint
    state = trainer.get_checkpoint_dict()
    state.update({'config': config, 'epoch': 1})
    torch.save(state, out / f'{name}.pth')
    return config, state['model_state_dict']


def deploy(name, out):
    """The checkpoint as `sevenn_get_model` of that version deploys it (.pt)."""
    from sevenn.main.sevenn_get_model import main as sevenn_get_model

    argv = sys.argv
    sys.argv = ['sevenn_get_model', str(out / f'{name}.pth'), '-o', str(out / f'{name}.pt')]
    try:
        sevenn_get_model()
    finally:
        sys.argv = argv


def double_onehot(module, inputs, output):
    # OnehotEmbedding casts with .float(); the float64 model needs doubles.
    # (Its attributes were KEY_X, KEY_ADDITIONAL before 0.9.3, key_x,
    # key_additional_output from then on.)
    for attr in ('KEY_X', 'KEY_ADDITIONAL', 'key_x', 'key_additional_output'):
        key = getattr(module, attr, None)
        if key is not None and output[key].dtype == torch.float32:
            output[key] = output[key].to(torch.float64)
    return output


def float64_model(config, state):
    """The same model built in float64. e3nn computes its Wigner 3j buffers at
    build time in the default dtype; the file holds float32 copies of them
    (checked to be the same numbers), which would round the float64 model."""
    torch.set_default_dtype(torch.float64)
    model = build_E3_equivariant_model(copy.deepcopy(config))
    torch.set_default_dtype(torch.float32)
    own = model.state_dict()
    weights = {}
    for key, value in state.items():
        if '_w3j_' in key:
            assert torch.allclose(value.double(), own[key], atol=1e-7), key
        else:
            weights[key] = value
    missing, unexpected = model.load_state_dict(weights, strict=False)
    assert not unexpected and all('_w3j_' in k for k in missing), (missing, unexpected)
    for module in model.modules():
        if type(module).__name__ == 'OnehotEmbedding':
            module.register_forward_hook(double_onehot)
    model.set_is_batch_data(True)
    return model


def evaluate(model, config, structure):
    """As SevenNet's training loop sees a structure: a batch of one graph,
    forces and stress from the gradients with respect to positions and strain."""
    from torch_geometric.data import Batch

    atoms = Atoms(symbols=structure['species'], positions=structure['positions'],
                  cell=structure['cell'], pbc=structure['pbc'])
    periodic = all(structure['pbc'])
    n = len(atoms)
    atoms.calc = SinglePointCalculator(atoms, energy=0.0, forces=np.zeros((n, 3)),
                                       **({'stress': np.zeros(6)} if periodic else {}))
    graph = atoms_to_graph(atoms, config[KEY.CUTOFF], transfer_info=False)
    data = AtomGraphData.from_numpy_dict(copy.deepcopy(graph))  # it turns the arrays into float32 tensors
    for key, value in data.items():
        if torch.is_tensor(value) and value.is_floating_point():
            # from the float64 numpy arrays, not the float32 tensors made of them
            data[key] = torch.as_tensor(np.asarray(graph[key]), dtype=torch.float64).reshape(value.shape)
    type_map = config[KEY.TYPE_MAP]
    data[KEY.NODE_FEATURE] = torch.tensor([type_map[z] for z in graph[KEY.ATOMIC_NUMBERS]])
    data[KEY.POS].requires_grad_(True)
    out = model(Batch.from_data_list([data]))
    virial = None
    if periodic:
        # inferred_stress is -dE/dstrain / volume, Voigt xx yy zz xy yz zx
        s = out[KEY.PRED_STRESS].reshape(-1).tolist()
        volume = abs(np.linalg.det(np.array(structure['cell'])))
        virial = [v * volume for v in (s[0], s[1], s[2], s[3], s[5], s[4])]
    return dict(energy=out[KEY.PRED_TOTAL_ENERGY].item(), atomic_energy=out[KEY.ATOMIC_ENERGY].reshape(-1).tolist(),
                forces=out[KEY.PRED_FORCE].tolist(), virial=virial, num_edges=int(graph[KEY.EDGE_IDX].shape[1]))


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    refs_path = out / 'references.json'
    refs = json.loads(refs_path.read_text()) if refs_path.exists() else {'structures': {}, 'models': {}}
    shared = json.loads((Path(__file__).resolve().parents[2] / 'shared/reference/references.json').read_text())
    for s in STRUCTURES:
        refs['structures'][s] = {k: shared['structures'][s][k] for k in ('species', 'positions', 'cell', 'pbc')}

    torch.set_default_dtype(torch.float32)
    generator = {'sevenn': SEVENN_VERSION, 'e3nn': e3nn.__version__, 'torch': torch.__version__}
    for name, (model_section, data_section) in MODELS[SEVENN_VERSION].items():
        with tempfile.TemporaryDirectory() as work:
            config, state = checkpoint(name, model_section, data_section, Path(work), out)
        deploy(name, out)
        model = float64_model(config, state)
        cases = {s: evaluate(model, config, refs['structures'][s]) for s in STRUCTURES}
        refs['models'][name] = {'generator': generator, 'cases': cases}
    refs_path.write_text(json.dumps(refs, indent=1))


if __name__ == '__main__':
    os.environ.setdefault('CUDA_VISIBLE_DEVICES', '')
    main(sys.argv[1])
