// One error type for everything the user can get wrong: the message names the
// file, the field or the atom, so the caller can print it and stop cleanly.
#pragma once
#include <stdexcept>
#include <string>

namespace flashtp {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace flashtp
