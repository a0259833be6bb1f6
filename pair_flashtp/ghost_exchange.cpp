#include "ghost_exchange.h"

#include <algorithm>

#include "error.h"
#include "lammps_compat.h"

namespace flashtp_lammps {

void FeatureRows::attach(double* rows, int dim) {
  doubles_ = rows;
  floats_ = nullptr;
  dim_ = dim;
}

void FeatureRows::attach(float* rows, int dim) {
  doubles_ = nullptr;
  floats_ = rows;
  dim_ = dim;
}

template <typename F>
void FeatureRows::visit(F&& f) const {
  if (doubles_) f(doubles_);
  else if (floats_) f(floats_);
}

int FeatureRows::pack(int n, const int* list, double* buf) const {
  visit([&](auto* rows) {
    for (int k = 0; k < n; ++k) std::copy_n(rows + static_cast<size_t>(list[k]) * dim_, dim_, buf + k * dim_);
  });
  return n * dim_;
}

void FeatureRows::unpack(int n, int first, const double* buf) {
  visit([&](auto* rows) {
    for (int k = 0; k < n; ++k) std::copy_n(buf + k * dim_, dim_, rows + static_cast<size_t>(first + k) * dim_);
  });
}

int FeatureRows::pack_range(int n, int first, double* buf) const {
  visit([&](auto* rows) { std::copy_n(rows + static_cast<size_t>(first) * dim_, n * dim_, buf); });
  return n * dim_;
}

void FeatureRows::unpack_add(int n, const int* list, const double* buf) {
  visit([&](auto* rows) {
    for (int k = 0; k < n; ++k) {
      auto* row = rows + static_cast<size_t>(list[k]) * dim_;
      for (int c = 0; c < dim_; ++c) row[c] += buf[k * dim_ + c];
    }
  });
}

void FeatureRows::zero(int first, int last) {
  visit([&](auto* rows) {
    std::fill(rows + static_cast<size_t>(first) * dim_, rows + static_cast<size_t>(last) * dim_, 0);
  });
}

template <typename T>
void LammpsGhostExchange::forward_rows(T* features, int dim) {
  // comm_forward sized the buffers for the widest layer; a wider array would overrun them.
  if (dim > pair_->comm_forward) lmp_->error->one(FLERR, "flashtp: feature dimension exceeds comm_forward");
  rows_.attach(features, dim);
  forward_comm(lmp_, pair_);
}

template <typename T>
void LammpsGhostExchange::reverse_rows(T* gradients, int dim) {
  if (dim > pair_->comm_reverse) lmp_->error->one(FLERR, "flashtp: feature dimension exceeds comm_reverse");
  rows_.attach(gradients, dim);
  // Swaps run in reverse, so a ghost of a ghost first adds into the ghost it
  // was copied from, which then adds into its owner: every row reaches the
  // owner. Only then are the ghost rows cleared.
  reverse_comm(lmp_, pair_);
  rows_.zero(nlocal_, nall_);
}

void LammpsGhostExchange::forward(double* features, int dim) { forward_rows(features, dim); }
void LammpsGhostExchange::forward(float* features, int dim) { forward_rows(features, dim); }
void LammpsGhostExchange::reverse(double* gradients, int dim) { reverse_rows(gradients, dim); }
void LammpsGhostExchange::reverse(float* gradients, int dim) { reverse_rows(gradients, dim); }

}  // namespace flashtp_lammps
