// Radix-2 FFT over Fr on power-of-two domains, with snarkjs's roots of unity.
//
// ffjavascript picks the smallest quadratic non-residue g of Fr (5 for BN254)
// and sets w[s] = g^t, where r - 1 = 2^s·t (s = 28), then w[k-1] = w[k]^2. The
// zkey's H points were made for those roots, so a proof verifies only if the
// prover's domain uses the very same ones.
#pragma once
#include <stdexcept>
#include <vector>

#include "field.hpp"
#include "parallel.hpp"

namespace poa {

constexpr int FR_TWO_ADICITY = 28;

// w[k], a primitive 2^k-th root of unity, for k = 0..28.
inline std::vector<Fr> roots_of_unity() {
  Limbs r_minus_1 = sub_limbs(Fr::P, Limbs{{1, 0, 0, 0}});
  Limbs half{}, t{};
  for (int i = 0; i < 4; i++) {  // (r-1)/2 and (r-1)/2^28
    half.v[i] = (r_minus_1.v[i] >> 1) | (i < 3 ? r_minus_1.v[i + 1] << 63 : 0);
    t.v[i] = (r_minus_1.v[i] >> FR_TWO_ADICITY) | (i < 3 ? r_minus_1.v[i + 1] << (64 - FR_TWO_ADICITY) : 0);
  }
  Fr minus_one = Fr::one().neg();
  u64 g = 2;
  while (Fr::from_normal(Limbs{{g, 0, 0, 0}}.v).pow(half) != minus_one) g++;
  std::vector<Fr> w(FR_TWO_ADICITY + 1);
  w[FR_TWO_ADICITY] = Fr::from_normal(Limbs{{g, 0, 0, 0}}.v).pow(t);
  for (int k = FR_TWO_ADICITY - 1; k >= 0; k--) w[k] = w[k + 1].sqr();
  if (w[0] != Fr::one()) throw std::logic_error("the roots of unity are wrong");
  return w;
}

// a[i] *= first·inc^i (snarkjs's batchApplyKey: moves a polynomial onto a coset).
inline void apply_key(Fr* a, size_t n, Fr inc, int threads) {
  parallel_for(n, n >= 8192 ? threads : 1, [&](size_t lo, size_t hi, int) {
    Fr k = inc.pow(Limbs{{(u64)lo, 0, 0, 0}});
    for (size_t i = lo; i < hi; i++) {
      a[i] = a[i] * k;
      k = k * inc;
    }
  });
}

// In place: a[i] := Σ_j a[j]·omega^(ij), natural order in and out.
inline void fft(Fr* a, size_t n, Fr omega, int threads) {
  for (size_t i = 1, j = 0; i < n; i++) {  // bit-reversal permutation
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  if (n < 2) return;
  std::vector<Fr> tw(n / 2);  // omega^k for k < n/2
  parallel_for(n / 2, n >= 8192 ? threads : 1, [&](size_t lo, size_t hi, int) {
    Fr k = omega.pow(Limbs{{(u64)lo, 0, 0, 0}});
    for (size_t i = lo; i < hi; i++) {
      tw[i] = k;
      k = k * omega;
    }
  });
  for (size_t len = 2; len <= n; len <<= 1) {
    size_t half = len / 2, stride = n / len, blocks = n / len;
    auto butterflies = [&](size_t block, size_t k_lo, size_t k_hi) {
      Fr* x = a + block * len;
      for (size_t k = k_lo; k < k_hi; k++) {
        Fr t = x[k + half] * tw[k * stride];
        x[k + half] = x[k] - t;
        x[k] = x[k] + t;
      }
    };
    int t = n >= 8192 ? threads : 1;
    if (blocks >= (size_t)t) {  // early stages: many small blocks, split by block
      parallel_for(blocks, t, [&](size_t lo, size_t hi, int) {
        for (size_t b = lo; b < hi; b++) butterflies(b, 0, half);
      });
    } else {  // the last stages: few large blocks, split within each
      for (size_t b = 0; b < blocks; b++) parallel_for(half, t, [&](size_t lo, size_t hi, int) { butterflies(b, lo, hi); });
    }
  }
}

inline void ifft(Fr* a, size_t n, Fr omega, int threads) {
  fft(a, n, omega.inv(), threads);
  Fr n_inv = Fr::from_normal(Limbs{{(u64)n, 0, 0, 0}}.v).inv();
  parallel_for(n, n >= 8192 ? threads : 1, [&](size_t lo, size_t hi, int) {
    for (size_t i = lo; i < hi; i++) a[i] = a[i] * n_inv;
  });
}

}  // namespace poa
