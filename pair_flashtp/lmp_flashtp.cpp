// lmp_flashtp: the LAMMPS executable of an installed liblammps (one without
// the PLUGIN package, like Debian's) with pair_style flashtp added.
//
// Takes the same command line as lmp (-in, -var, -log, -screen, ...), all of
// which goes to the LAMMPS constructor. The styles are entered into
// force->pair_map, which LAMMPS rebuilds on `clear`: scripts run by this
// driver must not use `clear` before their pair_style command.
#include <mpi.h>

#include "force.h"
#include "input.h"
#include "lammps.h"
#include "styles.h"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  auto* lmp = new LAMMPS_NS::LAMMPS(argc, argv, MPI_COMM_WORLD);
  for (const auto& style : flashtp_lammps::pair_styles()) (*lmp->force->pair_map)[style.name] = style.create;
  lmp->input->file();
  delete lmp;
  MPI_Finalize();
  return 0;
}
