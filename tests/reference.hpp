// Access to ../shared/reference: the numbers upstream SevenNet computes.
#pragma once
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

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

}  // namespace flashtp::test
