// A fork-join loop over [0, n) on plain std::threads: each call splits the range
// into one contiguous chunk per thread and joins them all before returning.
#pragma once
#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace poa {

// fn(lo, hi, chunk index); runs inline when one thread is enough.
template <class Fn>
void parallel_for(size_t n, int threads, Fn fn) {
  size_t t = std::max<size_t>(1, std::min<size_t>((size_t)threads, n));
  if (t == 1) {
    fn((size_t)0, n, 0);
    return;
  }
  std::vector<std::thread> pool;
  for (size_t k = 0; k < t; k++) {
    size_t lo = n * k / t, hi = n * (k + 1) / t;
    pool.emplace_back([=] { fn(lo, hi, (int)k); });
  }
  for (auto& th : pool) th.join();
}

}  // namespace poa
