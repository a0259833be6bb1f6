#include "species_map.hpp"

#include "error.hpp"

namespace flashtp {

std::vector<int> map_type_elements(const Model& model, const std::vector<std::string>& elements) {
  std::vector<int> out;
  std::string missing;
  for (const auto& e : elements) {
    const int s = model.species_index(e);
    if (s < 0) missing += (missing.empty() ? "" : ", ") + e;
    out.push_back(s);
  }
  if (!missing.empty()) {
    std::string have;
    for (const auto& s : model.species) have += (have.empty() ? "" : " ") + s;
    throw Error("element(s) " + missing + " not in the model, which knows: " + have);
  }
  return out;
}

std::vector<int> species_of_atoms(const Structure& s, const std::vector<int>& type_species) {
  std::vector<int> out;
  out.reserve(s.types.size());
  for (size_t k = 0; k < s.types.size(); ++k) {
    const int t = s.types[k];
    if (t < 1 || t > static_cast<int>(type_species.size()))
      throw Error("atom " + std::to_string(s.tags.empty() ? k + 1 : s.tags[k]) + " has type " + std::to_string(t) +
                  " but only " + std::to_string(type_species.size()) + " elements were given");
    out.push_back(type_species[t - 1]);
  }
  return out;
}

Structure replicate(const Structure& s, const std::array<int, 3>& n) {
  Structure out = s;
  out.positions.clear();
  out.types.clear();
  out.tags.clear();
  int64_t tag = 1;
  for (int a = 0; a < n[0]; ++a)
    for (int b = 0; b < n[1]; ++b)
      for (int c = 0; c < n[2]; ++c)
        for (size_t k = 0; k < s.positions.size(); ++k) {
          Vec3 p = s.positions[k];
          for (int d = 0; d < 3; ++d) p[d] += a * s.cell[0][d] + b * s.cell[1][d] + c * s.cell[2][d];
          out.positions.push_back(p);
          out.types.push_back(s.types[k]);
          out.tags.push_back(tag++);
        }
  for (int d = 0; d < 3; ++d)
    for (int e = 0; e < 3; ++e) out.cell[d][e] = s.cell[d][e] * n[d];
  return out;
}

}  // namespace flashtp
