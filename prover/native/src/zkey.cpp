#include "zkey.hpp"

#include <atomic>

#include "parallel.hpp"

namespace poa {

namespace {

const uint8_t* expect_prime(const uint8_t* p, const Limbs& prime, const std::string& what, const char* name) {
  if (read_u32(p) != 32) throw InputError(what + ": " + name + " is not 32 bytes wide: not a BN254 file");
  if (memcmp(p + 4, prime.v, 32) != 0) throw InputError(what + ": " + name + " is not BN254's (this prover supports bn128 only)");
  return p + 36;
}

template <class A>
A read_point(const uint8_t*& p) {
  A a;
  memcpy(&a, p, sizeof(A));
  p += sizeof(A);
  return a;
}

bool canonical(const G1Affine& p) { return Fq::canonical(p.x.v) && Fq::canonical(p.y.v); }
bool canonical(const G2Affine& p) {
  return Fq::canonical(p.x.c0.v) && Fq::canonical(p.x.c1.v) && Fq::canonical(p.y.c0.v) && Fq::canonical(p.y.c1.v);
}

// Every point of a section is canonical and on the curve; names the first bad one.
template <class F>
void check_points(const Affine<F>* pts, size_t n, const F& b, const char* name, int threads) {
  std::atomic<size_t> first_bad{SIZE_MAX};
  parallel_for(n, threads, [&](size_t lo, size_t hi, int) {
    for (size_t i = lo; i < hi; i++) {
      if (!canonical(pts[i]) || !on_curve(pts[i], b)) {
        size_t cur = first_bad.load();
        while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {
        }
        return;
      }
    }
  });
  if (first_bad != SIZE_MAX) throw InputError(std::string("zkey is corrupt: point ") + std::to_string(first_bad) + " of section " + name + " is not on the curve");
}

}  // namespace

ProvingKey read_zkey(const std::string& path, int threads) {
  ProvingKey k;
  k.file.reset(BinFile::map(path, "zkey", "zkey"));
  const BinFile& f = *k.file;
  Section s1 = f.section(1, "protocol", 4);
  if (read_u32(s1.data) != 1) throw InputError("zkey is not a Groth16 key (protocol id " + std::to_string(read_u32(s1.data)) + ")");
  Section s2 = f.section(2, "Groth16 header", 36 + 36 + 12 + 64 * 3 + 128 * 3);
  const uint8_t* p = expect_prime(s2.data, Fq::P, "zkey", "the base field");
  p = expect_prime(p, Fr::P, "zkey", "the scalar field");
  k.n_vars = read_u32(p);
  k.n_public = read_u32(p + 4);
  k.domain_size = read_u32(p + 8);
  p += 12;
  if (k.domain_size == 0 || (k.domain_size & (k.domain_size - 1))) throw InputError("zkey is corrupt: domain size " + std::to_string(k.domain_size) + " is not a power of two");
  if (k.domain_size >= (1u << 28)) throw InputError("zkey domain 2^28 or more is not supported");
  if (k.n_public + 1 > k.n_vars) throw InputError("zkey is corrupt: " + std::to_string(k.n_public) + " public inputs but " + std::to_string(k.n_vars) + " variables");
  k.alpha1 = read_point<G1Affine>(p);
  k.beta1 = read_point<G1Affine>(p);
  k.beta2 = read_point<G2Affine>(p);
  k.gamma2 = read_point<G2Affine>(p);
  k.delta1 = read_point<G1Affine>(p);
  k.delta2 = read_point<G2Affine>(p);
  Fq b1 = g1_b();
  Fq2 b2 = g2_b();
  for (const G1Affine* q : {&k.alpha1, &k.beta1, &k.delta1}) {
    if (!canonical(*q) || !on_curve(*q, b1) || q->is_infinity()) throw InputError("zkey is corrupt: a verification-key point in G1 is not on the curve");
  }
  for (const G2Affine* q : {&k.beta2, &k.gamma2, &k.delta2}) {
    if (!canonical(*q) || !on_curve(*q, b2) || q->is_infinity()) throw InputError("zkey is corrupt: a verification-key point in G2 is not on the curve");
  }

  Section s4 = f.section(4, "coefficients");
  if (s4.size < 4) throw InputError("zkey is corrupt: the coefficient section is empty");
  k.n_coefficients = read_u32(s4.data);
  if (s4.size != 4 + k.n_coefficients * sizeof(Coefficient)) {
    throw InputError("zkey is corrupt: section 4 (coefficients) holds " + std::to_string(s4.size) + " bytes for " + std::to_string(k.n_coefficients) + " coefficients");
  }
  k.coefficients = (const Coefficient*)(s4.data + 4);
  for (size_t i = 0; i < k.n_coefficients; i++) {
    Coefficient c;
    memcpy(&c, &k.coefficients[i], sizeof c);  // packed in the file: read unaligned
    u64 value[4];
    memcpy(value, c.value, 32);
    if (c.matrix > 1 || c.constraint >= k.domain_size || c.signal >= k.n_vars || !Fr::canonical(value)) {
      throw InputError("zkey is corrupt: coefficient " + std::to_string(i) + " (matrix " + std::to_string(c.matrix) + ", constraint " + std::to_string(c.constraint) + ", signal " + std::to_string(c.signal) + ") is out of range");
    }
  }
  k.a = (const G1Affine*)f.section(5, "A", (size_t)k.n_vars * 64).data;
  k.b1 = (const G1Affine*)f.section(6, "B1", (size_t)k.n_vars * 64).data;
  k.b2 = (const G2Affine*)f.section(7, "B2", (size_t)k.n_vars * 128).data;
  k.c = (const G1Affine*)f.section(8, "C", (size_t)(k.n_vars - k.n_public - 1) * 64).data;
  k.h = (const G1Affine*)f.section(9, "H", (size_t)k.domain_size * 64).data;
  check_points(k.a, k.n_vars, b1, "5 (A)", threads);
  check_points(k.b1, k.n_vars, b1, "6 (B1)", threads);
  check_points(k.b2, k.n_vars, b2, "7 (B2)", threads);
  check_points(k.c, k.n_vars - k.n_public - 1, b1, "8 (C)", threads);
  check_points(k.h, k.domain_size, b1, "9 (H)", threads);
  return k;
}

Witness read_witness(std::vector<uint8_t>&& bytes, const ProvingKey& key) {
  Witness w;
  w.file.reset(BinFile::own(std::move(bytes), "wtns", "witness"));
  Section s1 = w.file->section(1, "header", 40);
  expect_prime(s1.data, Fr::P, "witness", "the prime");
  w.count = read_u32(s1.data + 36);
  if (w.count != key.n_vars) {
    throw InputError("witness is for another circuit: it has " + std::to_string(w.count) + " values, this zkey's circuit has " + std::to_string(key.n_vars));
  }
  Section s2 = w.file->section(2, "values");
  if (s2.size != (size_t)w.count * 32) {
    throw InputError(std::string("witness is ") + (s2.size < (size_t)w.count * 32 ? "truncated" : "too long") + ": " + std::to_string(s2.size) + " bytes of values for " + std::to_string(w.count) + " values");
  }
  w.values = (const u64*)s2.data;
  for (size_t i = 0; i < w.count; i++) {
    if (!Fr::canonical(w.values + 4 * i)) throw InputError("witness value " + std::to_string(i) + " is not below the prime");
  }
  if (!(w.values[0] == 1 && w.values[1] == 0 && w.values[2] == 0 && w.values[3] == 0)) throw InputError("witness value 0 is not 1: not a circom witness");
  return w;
}

}  // namespace poa
