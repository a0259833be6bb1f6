// Checkpoints written with e3nn < 0.5 (SevenNet <= 0.9 at the time): e3nn's
// convolution kept wigner_3j(l1, l2, l3) as buffers (`_w3j_{l1}_{l2}_{l3}`,
// for l1, l2, l3 > 0), and e3nn 0.4's tables had the opposite sign for some
// (l1, l2, l3) ((1,2,2), (2,1,2), (2,2,1), (1,3,3), (3,1,3), (3,3,1), ...).
// The model computed each such path with -C. The path's message is linear in
// its radial weights,
//   m[u, k] = alpha * w[offset + u] * sum_ij C[i,j,k] x[u,i] Y[j],
// so with today's C it is the same model once the path's columns of the
// radial MLP's last layer are negated: what SevenNet itself does to such files
// (sort_old_convolution in sevenn/scripts/backward_compatibility.py), which
// also negates the buffer. Done for every checkpoint whatever its version,
// since a model computes with the buffers it stores.
#pragma once
#include "io/model_source.hpp"

namespace flashtp {

// Throws flashtp::Error naming a coupling buffer that is neither
// wigner_3j nor its negative, or a flipped one outside a convolution.
void undo_flipped_couplings(io::ModelSource& source);

}  // namespace flashtp
