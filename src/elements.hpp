// Chemical element symbols by atomic number.
#pragma once
#include <string>

namespace flashtp {

int atomic_number(const std::string& symbol);  // 0 if unknown
std::string element_symbol(int atomic_number);  // "" if out of range

}  // namespace flashtp
