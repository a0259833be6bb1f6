// The pair styles this project adds to LAMMPS, for the lmp_flashtp driver and
// the plugin alike.
#pragma once
#include <vector>

#include "lammps.h"
#include "pair.h"

namespace flashtp_lammps {

struct PairStyleEntry {
  const char* name;
  const char* info;
  LAMMPS_NS::Pair* (*create)(LAMMPS_NS::LAMMPS*);
};

// flashtp, and flashtp/torch when built with LibTorch.
const std::vector<PairStyleEntry>& pair_styles();

}  // namespace flashtp_lammps
