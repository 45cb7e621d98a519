#include "groth16.hpp"

#include <sys/random.h>

#include <chrono>
#include <stdexcept>

#include "fft.hpp"
#include "msm.hpp"

namespace poa {

namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// A·w and B·w on the domain (Montgomery form), from the zkey's coefficients.
// snarkjs stores each coefficient as value·R^2 so that one Montgomery product
// with a normal-form witness value gives value·w in Montgomery form.
void evaluate_ab(const ProvingKey& k, const Witness& w, Fr* a, Fr* b, int threads) {
  Fr* out[2] = {a, b};
  // One thread per matrix: each writes only its own array.
  parallel_for(2, std::min(threads, 2), [&](size_t lo, size_t hi, int) {
    for (size_t m = lo; m < hi; m++) {
      for (size_t i = 0; i < k.n_coefficients; i++) {
        Coefficient c;
        memcpy(&c, &k.coefficients[i], sizeof c);  // packed in the file: read unaligned
        if (c.matrix != m) continue;
        Fr coef, value;
        memcpy(coef.v, c.value, 32);
        memcpy(value.v, w.values + 4 * (size_t)c.signal, 32);
        Fr& t = out[m][c.constraint];
        t = t + coef * value;
      }
    }
  });
}

// Evaluations on the domain → evaluations on the odd coset inc·ω^i, inc = ω_{2n}.
void to_odd_coset(Fr* x, size_t n, const Fr& omega, const Fr& inc, int threads) {
  ifft(x, n, omega, threads);
  apply_key(x, n, inc, threads);
  fft(x, n, omega, threads);
}

}  // namespace

Limbs random_scalar() {
  // Rejection sampling below r from 254-bit draws: unbiased, ≥ 3/4 accepted.
  for (;;) {
    Limbs x{};
    size_t got = 0;
    while (got < 32) {
      ssize_t n = getrandom((uint8_t*)x.v + got, 32 - got, 0);
      if (n < 0) throw std::runtime_error("getrandom failed");
      got += (size_t)n;
    }
    x.v[3] &= (1ULL << 62) - 1;
    if (Fr::canonical(x.v)) return x;
  }
}

Proof prove(const ProvingKey& k, const Witness& w, int threads, Profile& profile) {
  auto t0 = std::chrono::steady_clock::now();
  size_t n = k.domain_size;
  int power = __builtin_ctz(k.domain_size);
  std::vector<Fr> roots = roots_of_unity();
  Fr omega = roots[power], inc = roots[power + 1];

  std::vector<Fr> a(n, Fr::zero()), b(n, Fr::zero()), c(n);
  evaluate_ab(k, w, a.data(), b.data(), threads);
  parallel_for(n, threads, [&](size_t lo, size_t hi, int) {
    for (size_t i = lo; i < hi; i++) c[i] = a[i] * b[i];
  });
  profile.abc_ms = ms_since(t0);

  auto t1 = std::chrono::steady_clock::now();
  to_odd_coset(a.data(), n, omega, inc, threads);
  to_odd_coset(b.data(), n, omega, inc, threads);
  to_odd_coset(c.data(), n, omega, inc, threads);
  // The quotient's numerator on the odd coset, as normal-form MSM scalars (in a's buffer).
  parallel_for(n, threads, [&](size_t lo, size_t hi, int) {
    for (size_t i = lo; i < hi; i++) a[i] = (a[i] * b[i] - c[i]).to_normal();
  });
  std::vector<Fr>().swap(b);
  std::vector<Fr>().swap(c);
  profile.fft_ms = ms_since(t1);

  auto t2 = std::chrono::steady_clock::now();
  const u64* ws = w.values;
  G1 pi_a = msm(k.a, ws, k.n_vars, threads);
  G1 pib1 = msm(k.b1, ws, k.n_vars, threads);
  G1 pi_c = msm(k.c, ws + 4 * (size_t)(k.n_public + 1), k.n_vars - k.n_public - 1, threads);
  G1 res_h = msm(k.h, (const u64*)a.data(), n, threads);
  profile.msm_g1_ms = ms_since(t2);
  auto t3 = std::chrono::steady_clock::now();
  G2 pi_b = msm(k.b2, ws, k.n_vars, threads);
  profile.msm_g2_ms = ms_since(t3);

  // Zero knowledge: fresh r, s for every proof.
  Limbs r = random_scalar(), s = random_scalar();
  Fr rs = Fr::from_normal(r.v) * Fr::from_normal(s.v);
  Fr neg_rs = rs.neg().to_normal();
  Limbs neg_rs_l{{neg_rs.v[0], neg_rs.v[1], neg_rs.v[2], neg_rs.v[3]}};

  G1 delta1 = G1::from_affine(k.delta1);
  pi_a = pi_a.add_affine(k.alpha1).add(delta1.mul(r));
  pi_b = pi_b.add_affine(k.beta2).add(G2::from_affine(k.delta2).mul(s));
  pib1 = pib1.add_affine(k.beta1).add(delta1.mul(s));
  pi_c = pi_c.add(res_h).add(pi_a.mul(s)).add(pib1.mul(r)).add(delta1.mul(neg_rs_l));

  Proof p;
  p.a = pi_a.to_affine();
  p.b = pi_b.to_affine();
  p.c = pi_c.to_affine();
  for (uint32_t i = 1; i <= k.n_public; i++) {
    Limbs v;
    memcpy(v.v, ws + 4 * (size_t)i, 32);
    p.public_signals.push_back(v);
  }
  profile.total_ms = ms_since(t0);
  return p;
}

}  // namespace poa
