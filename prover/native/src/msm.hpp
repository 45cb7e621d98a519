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
// Buckets are summed in affine coordinates, in batches (AffineBuckets).
//
// Circuit witnesses are mostly bits and small numbers, so the window size is
// chosen from the scalars' actual bit lengths: a scalar of L bits costs
// ceil(L/c) bucket additions, not 254/c. POA_MSM_TRACE=1 prints each MSM's
// size, window, digit count and time on stderr.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <memory>
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

// Additions per shared inversion for a window of n_buckets buckets (at most
// one per bucket in a batch, so a quarter of them keeps collisions rare).
inline size_t affine_batch(size_t n_buckets) { return std::max<size_t>(16, std::min<size_t>(512, n_buckets / 4)); }

// The window size that minimises bucket additions plus bucket reductions for
// these scalars (histogram[L] = how many scalars have bit length L).
inline int choose_window(const std::vector<size_t>& histogram, int max_bits) {
  int best = 1;
  double best_cost = INFINITY;
  for (int c = 1; c <= 20; c++) {
    double adds = 0;
    for (int L = 1; L <= SCALAR_BITS; L++) adds += (double)histogram[L] * ((L + c - 1) / c);
    int windows = (max_bits + c - 1) / c;
    // In field multiplications: a batched affine addition costs about 6.5 plus
    // its share of the batch's inversion (~380), and each bucket's reduction
    // about 40 (its overflow, then two full additions).
    double per_add = 6.5 + 380.0 / (double)affine_batch((1ULL << c) - 1);
    double cost = per_add * adds + 40.0 * (double)windows * (double)(1ULL << c);
    if (cost < best_cost) {
      best_cost = cost;
      best = c;
    }
  }
  return best;
}

// The buckets of one window, accumulated in affine coordinates with one
// shared inversion per batch of additions (Montgomery's trick): an addition
// then costs about 6 multiplications instead of a mixed addition's 11. A batch
// holds at most one addition per bucket; a point whose bucket is taken waits
// for the next batch (up to a bound, beyond which, and at the window's end, it
// goes to the bucket's Jacobian overflow), so a bucket every point lands in (a
// witness of ones) costs no more than plain Pippenger.
template <class F>
class AffineBuckets {
 public:
  explicit AffineBuckets(size_t n) : batch_size_(affine_batch(n)), aff_(n), has_(n), stamp_(n), over_(n), bucket_(batch_size_), point_(batch_size_), prefix_(batch_size_) {
    waiting_.reserve(4 * batch_size_);
    retry_.reserve(4 * batch_size_);
  }

  void clear() {
    std::fill(has_.begin(), has_.end(), 0);
    std::fill(stamp_.begin(), stamp_.end(), 0);
    for (auto& o : over_) o = Jacobian<F>::infinity();
    pending_ = 0;
    batch_ = 1;
    waiting_.clear();
  }

  void add(size_t b, const Affine<F>* p) {
    if (!has_[b]) {
      aff_[b] = *p;
      has_[b] = 1;
    } else if (stamp_[b] == batch_) {
      if (waiting_.size() < waiting_.capacity()) waiting_.push_back({(uint32_t)b, p});
      else over_[b] = over_[b].add_affine(*p);
    } else {
      stamp_[b] = batch_;
      bucket_[pending_] = (uint32_t)b;
      point_[pending_] = p;
      if (++pending_ == batch_size_) step();
    }
  }

  // At the window's end: the last batches, then what still waits to the overflow.
  void finish() {
    step();
    apply();
    for (auto& w : waiting_) over_[w.bucket] = over_[w.bucket].add_affine(*w.point);
    waiting_.clear();
  }

  // Bucket b's sum, after finish().
  Jacobian<F> total(size_t b) const { return has_[b] ? over_[b].add_affine(aff_[b]) : over_[b]; }

 private:
  struct Waiting {
    uint32_t bucket;
    const Affine<F>* point;
  };

  // Applies the batch, then offers the waiting points to the next one (once each).
  void step() {
    apply();
    retry_.swap(waiting_);
    waiting_.clear();
    for (auto& w : retry_) {
      if (stamp_[w.bucket] == batch_) {
        waiting_.push_back(w);
        continue;
      }
      stamp_[w.bucket] = batch_;
      bucket_[pending_] = w.bucket;
      point_[pending_] = w.point;
      if (++pending_ == batch_size_) apply();
    }
    retry_.clear();
  }

  // λ = (y2 − y1)/(x2 − x1), x3 = λ² − x1 − x2, y3 = λ(x1 − x3) − y1, one inversion for all.
  void apply() {
    F acc = F::one();
    for (size_t k = 0; k < pending_; k++) {
      const Affine<F>& q = *point_[k];
      Affine<F>& b = aff_[bucket_[k]];
      F dx = q.x - b.x;
      if (dx.is_zero()) {  // equal x: a doubling or a cancellation, left to the Jacobian overflow
        over_[bucket_[k]] = over_[bucket_[k]].add_affine(q);
        point_[k] = nullptr;
        dx = F::one();
      }
      prefix_[k] = acc;
      acc = acc * dx;
    }
    F inv = acc.inv();
    for (size_t k = pending_; k-- > 0;) {
      if (!point_[k]) continue;
      Affine<F>& b = aff_[bucket_[k]];
      const Affine<F>& q = *point_[k];
      F dx_inv = inv * prefix_[k];
      inv = inv * (q.x - b.x);
      F lambda = (q.y - b.y) * dx_inv;
      F x3 = lambda.sqr() - b.x - q.x;
      b.y = lambda * (b.x - x3) - b.y;
      b.x = x3;
    }
    pending_ = 0;
    batch_++;
  }

  size_t batch_size_;
  std::vector<Affine<F>> aff_;
  std::vector<uint8_t> has_;
  std::vector<uint32_t> stamp_;
  std::vector<Jacobian<F>> over_;
  std::vector<uint32_t> bucket_;
  std::vector<const Affine<F>*> point_;
  std::vector<F> prefix_;
  std::vector<Waiting> waiting_, retry_;
  size_t pending_ = 0;
  uint32_t batch_ = 1;
};

template <class F>
Jacobian<F> msm_share(const Affine<F>* points, const u64* scalars, size_t n, int c, int max_bits) {
  int windows = (max_bits + c - 1) / c;
  size_t n_buckets = (1ULL << c) - 1;
  auto buckets = std::make_unique<AffineBuckets<F>>(n_buckets);
  Jacobian<F> acc = Jacobian<F>::infinity();
  for (int w = windows - 1; w >= 0; w--) {
    for (int k = 0; k < c; k++) acc = acc.dbl();
    buckets->clear();
    for (size_t i = 0; i < n; i++) {
      u64 d = digit(scalars + 4 * i, w * c, c);
      if (d && !points[i].is_infinity()) buckets->add(d - 1, &points[i]);
    }
    buckets->finish();
    Jacobian<F> running = Jacobian<F>::infinity(), sum = Jacobian<F>::infinity();
    for (size_t k = n_buckets; k-- > 0;) {
      running = running.add(buckets->total(k));
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
  int t = n < 1024 ? 1 : threads;
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
  auto t0 = std::chrono::steady_clock::now();
  std::vector<Jacobian<F>> parts(t, Jacobian<F>::infinity());
  parallel_for((size_t)t, t, [&](size_t lo, size_t hi, int) {
    for (size_t s = lo; s < hi; s++) parts[s] = msm_share(points + cut[s], scalars + 4 * cut[s], cut[s + 1] - cut[s], c, max_bits);
  });
  Jacobian<F> r = Jacobian<F>::infinity();
  for (auto& p : parts) r = r.add(p);
  if (getenv("POA_MSM_TRACE")) fprintf(stderr, "msm n=%zu c=%d windows=%d digits=%.0f ms=%.1f\n", n, c, (max_bits + c - 1) / c, total, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  return r;
}

}  // namespace poa
