// A small "--key value" / "--flag" command-line parser for the flashtp tool.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "error.hpp"

namespace flashtp::cli {

class Args {
 public:
  // `flags` take no value; every other "--key" takes the next word.
  Args(int argc, char** argv, int first, const std::set<std::string>& keys, const std::set<std::string>& flags) {
    for (int k = first; k < argc; ++k) {
      std::string word = argv[k];
      if (word.rfind("--", 0) != 0) {
        positional_.push_back(word);
        continue;
      }
      word = word.substr(2);
      if (flags.count(word)) {
        flags_.insert(word);
      } else if (keys.count(word)) {
        if (k + 1 >= argc) throw Error("option --" + word + " needs a value");
        values_[word] = argv[++k];
      } else {
        throw Error("unknown option --" + word);
      }
    }
  }
  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  std::string get(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) throw Error("missing required option --" + key);
    return it->second;
  }
  std::string get(const std::string& key, const std::string& fallback) const {
    return has(key) ? values_.at(key) : fallback;
  }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

std::vector<std::string> split(const std::string& text, char sep);

}  // namespace flashtp::cli
