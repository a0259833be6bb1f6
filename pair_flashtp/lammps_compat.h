// Every difference between the LAMMPS versions we build against, in one place.
//
// FLASHTP_LAMMPS_VERSION (YYYYMMDD) comes from CMake: Debian's LAMMPS is
// 29Sep2021 (20210929); the plugin is built for current releases. LAMMPS
// 24Mar2022 renamed forward_comm_pair/reverse_comm_pair to forward_comm/
// reverse_comm (PR #3148) and replaced direct edits of NeighRequest flags by
// Neighbor::add_request (PR #3159).
#pragma once

#include "comm.h"
#include "lammps.h"
#include "neighbor.h"
#include "pair.h"

#ifndef FLASHTP_LAMMPS_VERSION
#error "FLASHTP_LAMMPS_VERSION (YYYYMMDD) must be defined by the build"
#endif

#if FLASHTP_LAMMPS_VERSION < 20220324
#include "neigh_request.h"
#endif

namespace flashtp_lammps {

// A full neighbour list (every pair i-j listed for both i and j) of owned
// atoms, with ghosts as neighbours but not as centres. instance_me is the
// pair's (protected) Pair::instance_me.
inline void request_full_neighbor_list(LAMMPS_NS::LAMMPS* lmp, LAMMPS_NS::Pair* pair, int instance_me) {
#if FLASHTP_LAMMPS_VERSION >= 20220324
  (void)instance_me;
  lmp->neighbor->add_request(pair, LAMMPS_NS::NeighConst::REQ_FULL);
#else
  const int irequest = lmp->neighbor->request(pair, instance_me);
  lmp->neighbor->requests[irequest]->half = 0;
  lmp->neighbor->requests[irequest]->full = 1;
#endif
}

// The pair's pack/unpack_forward_comm over all swaps: owners -> ghosts.
inline void forward_comm(LAMMPS_NS::LAMMPS* lmp, LAMMPS_NS::Pair* pair) {
#if FLASHTP_LAMMPS_VERSION >= 20220324
  lmp->comm->forward_comm(pair);
#else
  lmp->comm->forward_comm_pair(pair);
#endif
}

// The pair's pack/unpack_reverse_comm over all swaps in reverse: ghosts -> owners.
inline void reverse_comm(LAMMPS_NS::LAMMPS* lmp, LAMMPS_NS::Pair* pair) {
#if FLASHTP_LAMMPS_VERSION >= 20220324
  lmp->comm->reverse_comm(pair);
#else
  lmp->comm->reverse_comm_pair(pair);
#endif
}

}  // namespace flashtp_lammps
