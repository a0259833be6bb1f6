#include "cuda/emulator.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace flashtp::cuda::emulator {

thread_local ThreadState current;

namespace {

// A reusable barrier for a fixed number of threads.
class Barrier {
 public:
  explicit Barrier(unsigned count) : count_(count) {}
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    const unsigned generation = generation_;
    if (++arrived_ == count_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation != generation_; });
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  unsigned count_, arrived_ = 0, generation_ = 0;
};

}  // namespace

struct Block {
  Block(unsigned threads, size_t shared_bytes) : barrier(threads), shared(shared_bytes + 128), slots(threads) {
    for (unsigned w = 0; w * kWarpSize < threads; ++w)
      warp_barriers.push_back(std::make_unique<Barrier>(std::min<unsigned>(kWarpSize, threads - w * kWarpSize)));
  }
  Barrier barrier;
  std::vector<std::unique_ptr<Barrier>> warp_barriers;
  std::vector<unsigned char> shared;
  unsigned char* shared_base() {  // 128-byte aligned, as the device's
    const auto at = reinterpret_cast<std::uintptr_t>(shared.data());
    return shared.data() + (128 - at % 128) % 128;
  }
  std::vector<double> slots;  // one per thread, for warp exchanges
};

void barrier() { current.owner->barrier.wait(); }
void warp_barrier() { current.owner->warp_barriers[current.thread.x / kWarpSize]->wait(); }

namespace {
// Every thread of the caller's warp posts v; then read(the warp's posted
// values, their count) runs in each, before any thread may post again.
template <class F>
auto through_warp(double v, F&& read) {
  Block& b = *current.owner;
  const unsigned t = current.thread.x, first = t / kWarpSize * kWarpSize;
  Barrier& warp = *b.warp_barriers[t / kWarpSize];
  b.slots[t] = v;
  warp.wait();
  const auto out = read(b.slots.data() + first, std::min<size_t>(kWarpSize, b.slots.size() - first));
  warp.wait();
  return out;
}
}  // namespace

double exchange_xor(double v, int mask) {
  const unsigned lane = current.thread.x % kWarpSize;
  return through_warp(v, [&](const double* warp, size_t) { return warp[lane ^ static_cast<unsigned>(mask)]; });
}

unsigned ballot(bool p) {
  return through_warp(p ? 1.0 : 0.0, [](const double* warp, size_t lanes) {
    unsigned mask = 0;
    for (size_t l = 0; l < lanes; ++l)
      if (warp[l] != 0.0) mask |= 1u << l;
    return mask;
  });
}

void run(unsigned grid, unsigned block, size_t shared_bytes, const std::function<void()>& body) {
  Block b(block, shared_bytes);
  std::vector<std::thread> threads;
  threads.reserve(block);
  for (unsigned t = 0; t < block; ++t)
    threads.emplace_back([&, t] {
      current.thread = {t, 1, 1};
      current.block_dim = {block, 1, 1};
      current.grid_dim = {grid, 1, 1};
      current.shared = b.shared_base();
      current.owner = &b;
      for (unsigned g = 0; g < grid; ++g) {
        if (t == 0) std::memset(b.shared.data(), 0xff, b.shared.size());  // NaN: unwritten shared memory shows
        b.barrier.wait();
        current.block = {g, 1, 1};
        body();
        b.barrier.wait();
      }
    });
  for (auto& th : threads) th.join();
}

}  // namespace flashtp::cuda::emulator
