// Access to ../shared/reference: the numbers upstream SevenNet computes.
#pragma once
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "model.hpp"
#include "structure.hpp"

namespace flashtp::test {

inline std::string reference_path(const std::string& relative) {
  return std::string(FLASHTP_REFERENCE_DIR) + "/" + relative;
}

inline const nlohmann::json& load_json(const std::string& relative) {
  static std::map<std::string, nlohmann::json> cache;
  auto it = cache.find(relative);
  if (it == cache.end()) {
    std::ifstream in(reference_path(relative));
    if (!in) throw std::runtime_error("cannot open reference file " + reference_path(relative));
    it = cache.emplace(relative, nlohmann::json::parse(in)).first;
  }
  return it->second;
}

inline const nlohmann::json& references() { return load_json("references.json"); }

// A structure of references.json ("structures"), with every atom given the
// model's species index of its element.
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
