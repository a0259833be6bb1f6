// Checkpoints of SevenNet 0.9.x in today's terms: tensor names and config
// keys as SevenNet 0.10 and later write them, each old behaviour spelled as
// today's model builder reads it, and one line per change in source.legacy.
//
// What 0.9.x wrote differently, each checked against the SevenNet source of
// that time (MDIL-SNU/SevenNet; today's SevenNet migrates such files in
// sevenn/scripts/backward_compatibility.py):
//  - module names before 2024-04-14 (commit 1c93016): 'EdgeEmbedding',
//    '{i} self connection intro', '{i} convolution' (its parameter
//    'denumerator'), '{i} self interaction 2', '{i} equivariant gate',
//    'reducing nn input to hidden', 'reducing nn hidden to energy',
//    'rescale atomic energy' (map_old_model);
//  - no '_normalize_sph' before 2024-05-21 (2ad07de): the harmonics were
//    e3nn's SphericalHarmonics(normalize=False), of the edge vector itself;
//  - no 'conv_denominator' before 2024-07-10 (d6172f6): the convolution divided by
//    its parameter, initialised to sqrt(avg_num_neigh) (patch_old_config);
//  - self_connection_type 'MACE' until 2024-04-11 (4c0e040) is today's
//    'linear' (an e3nn Linear of the node features);
//  - until 2024-04-11 (4c0e040) model_build called XPLORCutoff(cutoff,
//    cutoff_on) against its signature (cutoff_on, cutoff_length), so r_on was
//    the cutoff and the envelope 1 on every edge. Today's SevenNet reads such
//    a file with the corrected order, which is not the model that was trained;
//  - until act_radial existed (2023-12-07, b58c396, still version 0.9.0)
//    model_build swapped act_scalar and act_gate, and the radial MLP used the
//    config's act_gate['e'].
// Older files (SevenNet 0.8.x) changed layout within one version number and
// are refused. Convolution paths before 0.11 are unsorted (model_build reads
// the version), and e3nn < 0.5 coupling signs are undone with the model's
// layout (coupling_signs.hpp).
#pragma once
#include "io/model_source.hpp"

namespace flashtp::io {

// Throws flashtp::Error for a SevenNet version whose files are not supported.
ModelSource upgrade_legacy_checkpoint(ModelSource source);

}  // namespace flashtp::io
