#include "styles.h"

#include "pair_flashtp.h"
#ifdef FLASHTP_HAVE_TORCH
#include "pair_flashtp_torch.h"
#endif

namespace flashtp_lammps {
namespace {

template <typename P>
LAMMPS_NS::Pair* create(LAMMPS_NS::LAMMPS* lmp) {
  return new P(lmp);
}

}  // namespace

const std::vector<PairStyleEntry>& pair_styles() {
  static const std::vector<PairStyleEntry> styles{
      {"flashtp", "SevenNet equivariant potentials, native flashtp engine", &create<PairFlashTP>},
#ifdef FLASHTP_HAVE_TORCH
      {"flashtp/torch", "SevenNet deployed TorchScript model through LibTorch (reference, serial)",
       &create<PairFlashTPTorch>},
#endif
  };
  return styles;
}

}  // namespace flashtp_lammps
