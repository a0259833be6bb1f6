// A structure given as JSON (cell, pbc, positions, species by element), as
// references.json and tests/data/*/references.json hold them: shared by the
// CPU and GPU test suites.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model.hpp"
#include "structure.hpp"

namespace flashtp::test {

// Every atom of type 1; species: the model's index of each atom's element.
inline Structure reference_structure(const nlohmann::json& s, const Model& model, std::vector<int>& species) {
  Structure out;
  for (int a = 0; a < 3; ++a) {
    out.pbc[a] = s["pbc"][a].get<bool>();
    for (int b = 0; b < 3; ++b) out.cell[a][b] = s["cell"][a][b].get<double>();
  }
  species.clear();
  for (size_t k = 0; k < s["positions"].size(); ++k) {
    out.positions.push_back({s["positions"][k][0].get<double>(), s["positions"][k][1].get<double>(), s["positions"][k][2].get<double>()});
    out.types.push_back(1);
    out.tags.push_back(static_cast<int64_t>(k) + 1);
    species.push_back(model.species_index(s["species"][k].get<std::string>()));
  }
  return out;
}

}  // namespace flashtp::test
