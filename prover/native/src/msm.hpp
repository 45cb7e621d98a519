// Multi-scalar multiplication Σ k_i·P_i by Pippenger's bucket method, for G1
// and G2 alike.
//
// Scalars are normal-form (not Montgomery) 256-bit little-endian values below
// r, read in place from the witness or the quotient buffer. Each thread takes a
// contiguous share of the points and runs the whole bucket method on it; the
// shares' sums are added at the end. Within a share, a scalar is cut into
// c-bit digits; digit d of window w sends P_i to bucket d, and each window's
// buckets are summed with the running-sum trick (Σ d·B_d in 2·2^c additions).
//
// Circuit witnesses are mostly bits and small numbers, so the window size is
// chosen from the scalars' actual bit lengths: a scalar of L bits costs
// ceil(L/c) bucket additions, not 254/c.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "curve.hpp"
#include "parallel.hpp"

namespace poa {

constexpr int SCALAR_BITS = 254;

inline int bit_length(const u64* s) {
  for (int i = 3; i >= 0; i--) {
    if (s[i]) return 64 * i + 64 - __builtin_clzll(s[i]);
  }
  return 0;
}

inline u64 digit(const u64* s, int offset, int c) {
  int limb = offset / 64, shift = offset % 64;
  u64 d = s[limb] >> shift;
  if (shift + c > 64 && limb < 3) d |= s[limb + 1] << (64 - shift);
  return d & ((1ULL << c) - 1);
}

// The window size that minimises bucket additions plus bucket reductions for
// these scalars (histogram[L] = how many scalars have bit length L).
inline int choose_window(const std::vector<size_t>& histogram, int max_bits) {
  int best = 1;
  double best_cost = INFINITY;
  for (int c = 1; c <= 20; c++) {
    double adds = 0;
    for (int L = 1; L <= SCALAR_BITS; L++) adds += (double)histogram[L] * ((L + c - 1) / c);
    int windows = (max_bits + c - 1) / c;
    // A mixed addition costs about 0.7 of the full ones the reduction uses.
    double cost = 0.7 * adds + (double)windows * 2.0 * (double)(1ULL << c);
    if (cost < best_cost) {
      best_cost = cost;
      best = c;
    }
  }
  return best;
}

template <class F>
Jacobian<F> msm_share(const Affine<F>* points, const u64* scalars, size_t n, int c, int max_bits) {
  int windows = (max_bits + c - 1) / c;
  std::vector<Jacobian<F>> buckets((1ULL << c) - 1);
  Jacobian<F> acc = Jacobian<F>::infinity();
  for (int w = windows - 1; w >= 0; w--) {
    for (int k = 0; k < c; k++) acc = acc.dbl();
    for (auto& b : buckets) b = Jacobian<F>::infinity();
    for (size_t i = 0; i < n; i++) {
      u64 d = digit(scalars + 4 * i, w * c, c);
      if (d) buckets[d - 1] = buckets[d - 1].add_affine(points[i]);
    }
    Jacobian<F> running = Jacobian<F>::infinity(), sum = Jacobian<F>::infinity();
    for (size_t k = buckets.size(); k-- > 0;) {
      running = running.add(buckets[k]);
      sum = sum.add(running);
    }
    acc = acc.add(sum);
  }
  return acc;
}

template <class F>
Jacobian<F> msm(const Affine<F>* points, const u64* scalars, size_t n, int threads) {
  std::vector<uint8_t> bits(n);
  std::vector<size_t> histogram(SCALAR_BITS + 1, 0);
  int max_bits = 0;
  for (size_t i = 0; i < n; i++) {
    int L = std::min(bit_length(scalars + 4 * i), SCALAR_BITS);  // values are below r
    bits[i] = (uint8_t)L;
    histogram[L]++;
    max_bits = std::max(max_bits, L);
  }
  if (max_bits == 0) return Jacobian<F>::infinity();
  // One window size for all shares, chosen as if one thread did it all: each
  // share then costs its additions plus its own bucket reductions.
  int t = n < 4096 ? 1 : threads;
  std::vector<size_t> share_histogram(histogram);
  for (auto& h : share_histogram) h /= (size_t)t;
  int c = choose_window(share_histogram, max_bits);
  // Cut the points into shares of equal work (bucket additions), not equal
  // count: witnesses put their bits and their full-width values in runs.
  std::vector<size_t> cut(t + 1, n);
  cut[0] = 0;
  double total = 0;
  for (size_t i = 0; i < n; i++) total += (bits[i] + c - 1) / c;
  double acc = 0;
  int k = 1;
  for (size_t i = 0; i < n && k < t; i++) {
    acc += (bits[i] + c - 1) / c;
    if (acc >= total * k / t) cut[k++] = i + 1;
  }
  std::vector<Jacobian<F>> parts(t, Jacobian<F>::infinity());
  parallel_for((size_t)t, t, [&](size_t lo, size_t hi, int) {
    for (size_t s = lo; s < hi; s++) parts[s] = msm_share(points + cut[s], scalars + 4 * cut[s], cut[s + 1] - cut[s], c, max_bits);
  });
  Jacobian<F> r = Jacobian<F>::infinity();
  for (auto& p : parts) r = r.add(p);
  return r;
}

}  // namespace poa
