// Access to ../shared/reference: the numbers upstream SevenNet computes.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "model.hpp"
#include "deviation.hpp"
#include "result.hpp"
#include "structure_json.hpp"

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

// Largest relative deviations from a reference: energy, forces, virial, each
// relative to the largest magnitude of its kind (at least 1); the virial's is
// 0 where the reference has none (open boundaries).
inline std::array<double, 3> relative_deviation(const Result& r, const nlohmann::json& ref) {
  const double e = ref["energy"].get<double>();
  std::array<double, 3> d = {std::abs(r.energy - e) / std::max(1.0, std::abs(e)), 0, 0};
  double f_max = 1, f_dev = 0;
  for (size_t i = 0; i < r.forces.size(); ++i)
    for (int a = 0; a < 3; ++a) {
      const double f = ref["forces"][i][a].get<double>();
      f_max = std::max(f_max, std::abs(f));
      f_dev = nan_max(f_dev, std::abs(r.forces[i][a] - f));
    }
  d[1] = f_dev / f_max;
  if (!ref["virial"].is_null()) {
    double w_max = 1, w_dev = 0;
    for (int k = 0; k < 6; ++k) {
      const double w = ref["virial"][k].get<double>();
      w_max = std::max(w_max, std::abs(w));
      w_dev = nan_max(w_dev, std::abs(r.virial[k] - w));
    }
    d[2] = w_dev / w_max;
  }
  return d;
}

}  // namespace flashtp::test
