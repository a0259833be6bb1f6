// flashtp info: the architecture of a model file, as the engine sees it.
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "model_file.hpp"

namespace flashtp::cli {

int info(int argc, char** argv) {
  const Args args(argc, argv, 2, {}, {});
  if (args.positional().size() != 1) throw Error("usage: flashtp info FILE");
  const Model m = load_model(args.positional()[0]);
  std::cout << "species      ";
  for (const auto& s : m.species) std::cout << s << " ";
  std::cout << "\ncutoff       " << m.cutoff() << " A\n"
            << "radial       bessel x" << m.radial.frequency.size() << ", "
            << (m.radial.envelope == RadialBasis::Envelope::polynomial ? "poly_cut p=" + std::to_string(m.radial.poly_p)
                                                                      : "XPLOR r_on=" + std::to_string(m.radial.xplor_on))
            << "\nsph          lmax " << m.lmax_sh
            << (m.sh_normalized ? "" : ", of the edge vector: not normalised (SevenNet <= 0.9)") << "\n"
            << "embedding    " << m.irreps_embedding.str() << "\n";
  for (size_t t = 0; t < m.layers.size(); ++t) {
    const auto& l = m.layers[t];
    std::cout << "layer " << t << "      " << l.conv.in.str() << " -> " << l.gate.out.str() << "\n"
              << "  conv       " << l.conv.paths.size() << " uvu paths, radial MLP";
    for (int w : l.conv.radial.widths) std::cout << " " << w;
    std::cout << " (" << l.conv.radial.act.name() << "), denominator " << l.conv.denominator << "\n"
              << "  self-conn  " << (l.self_connection.size() == 1 ? "linear" : "per species (nequip)") << "\n";
  }
  std::cout << "readout      " << (m.readout_linears.empty() ? "MLP" : "linear") << "\n"
            << "sevenn       " << m.sevenn_version << "\n";
  // What reading a file of an older SevenNet changed, one line each.
  for (size_t k = 0; k < m.legacy.size(); ++k) std::cout << (k ? "             " : "legacy       ") << m.legacy[k] << "\n";
  return 0;
}

}  // namespace flashtp::cli
