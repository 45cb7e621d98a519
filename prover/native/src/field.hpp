// Prime fields over four 64-bit limbs in Montgomery form (R = 2^256), the
// representation snarkjs's zkey stores ("LEM": little-endian Montgomery), so
// the proving key's points are used where they are mapped, never converted.
//
// Two implementations of the same arithmetic, chosen at build time:
// - POA_FIELD_ASM: x86-64 assembly that the ffiasm npm package generates for
//   each prime at build time (mulx/adcx/adox Montgomery multiplication; nasm
//   assembles it). Measured here: 20 ns per multiplication.
// - otherwise C: CIOS Montgomery with unsigned __int128, 35–45 ns. Both BN254
//   primes have a top limb below 2^62, so the "no carry" variant applies (the
//   running sum never needs a fifth word) and additions never overflow.
// prover/native/build.ts uses the assembly when nasm is present.
#pragma once
#include <cstdint>
#include <cstring>

#ifdef POA_FIELD_ASM
extern "C" {
void Fq_rawAdd(uint64_t*, const uint64_t*, const uint64_t*);
void Fq_rawSub(uint64_t*, const uint64_t*, const uint64_t*);
void Fq_rawMMul(uint64_t*, const uint64_t*, const uint64_t*);
void Fq_rawMSquare(uint64_t*, const uint64_t*);
void Fr_rawAdd(uint64_t*, const uint64_t*, const uint64_t*);
void Fr_rawSub(uint64_t*, const uint64_t*, const uint64_t*);
void Fr_rawMMul(uint64_t*, const uint64_t*, const uint64_t*);
void Fr_rawMSquare(uint64_t*, const uint64_t*);
}
#endif

namespace poa {

typedef uint64_t u64;
typedef unsigned __int128 u128;

struct Limbs { u64 v[4]; };

constexpr bool geq(const Limbs& a, const Limbs& b) {
  for (int i = 3; i >= 0; i--) {
    if (a.v[i] != b.v[i]) return a.v[i] > b.v[i];
  }
  return true;
}

constexpr Limbs sub_limbs(const Limbs& a, const Limbs& b) {
  Limbs r{};
  u64 borrow = 0;
  for (int i = 0; i < 4; i++) {
    u128 d = (u128)a.v[i] - b.v[i] - borrow;
    r.v[i] = (u64)d;
    borrow = (u64)(d >> 64) ? 1 : 0;
  }
  return r;
}

// 2^k mod p by doubling, at compile time: R = 2^256 and R^2 = 2^512.
constexpr Limbs pow2_mod(int k, const Limbs& p) {
  Limbs a{{1, 0, 0, 0}};
  for (int i = 0; i < k; i++) {
    Limbs d{};
    u64 carry = 0;
    for (int j = 0; j < 4; j++) {
      d.v[j] = (a.v[j] << 1) | carry;
      carry = a.v[j] >> 63;
    }
    a = geq(d, p) ? sub_limbs(d, p) : d;
  }
  return a;
}

// -p^-1 mod 2^64 by Newton iteration (each step doubles the correct bits).
constexpr u64 neg_inv64(u64 p0) {
  u64 x = 1;
  for (int i = 0; i < 7; i++) x *= 2 - p0 * x;
  return (u64)0 - x;
}

template <int ID, u64 P0, u64 P1, u64 P2, u64 P3>  // ID: 0 = Fq, 1 = Fr (picks the assembly)
struct Fp {
  static constexpr Limbs P{{P0, P1, P2, P3}};
  static constexpr u64 INV = neg_inv64(P0);
  static constexpr Limbs R1 = pow2_mod(256, P);
  static constexpr Limbs R2 = pow2_mod(512, P);

  u64 v[4];

  static Fp zero() { return Fp{{0, 0, 0, 0}}; }
  static Fp one() { return Fp{{R1.v[0], R1.v[1], R1.v[2], R1.v[3]}}; }
  bool is_zero() const { return (v[0] | v[1] | v[2] | v[3]) == 0; }
  bool operator==(const Fp& o) const { return v[0] == o.v[0] && v[1] == o.v[1] && v[2] == o.v[2] && v[3] == o.v[3]; }
  bool operator!=(const Fp& o) const { return !(*this == o); }

  // A canonical value (below p): what every stored or read element must be.
  static bool canonical(const u64* a) {
    for (int i = 3; i >= 0; i--) {
      if (a[i] != P.v[i]) return a[i] < P.v[i];
    }
    return false;
  }

  static inline void reduce_once(u64* t) {
    u64 s[4];
    u64 borrow = 0;
    for (int i = 0; i < 4; i++) {
      u128 d = (u128)t[i] - P.v[i] - borrow;
      s[i] = (u64)d;
      borrow = (u64)(d >> 64) & 1;
    }
    if (!borrow) memcpy(t, s, 32);
  }

  friend inline Fp operator+(const Fp& a, const Fp& b) {
    Fp r;
#ifdef POA_FIELD_ASM
    if constexpr (ID == 0) Fq_rawAdd(r.v, a.v, b.v); else Fr_rawAdd(r.v, a.v, b.v);
    return r;
#endif
    u64 carry = 0;
    for (int i = 0; i < 4; i++) {
      u128 s = (u128)a.v[i] + b.v[i] + carry;
      r.v[i] = (u64)s;
      carry = (u64)(s >> 64);
    }
    reduce_once(r.v);
    return r;
  }

  friend inline Fp operator-(const Fp& a, const Fp& b) {
    Fp r;
#ifdef POA_FIELD_ASM
    if constexpr (ID == 0) Fq_rawSub(r.v, a.v, b.v); else Fr_rawSub(r.v, a.v, b.v);
    return r;
#endif
    u64 borrow = 0;
    for (int i = 0; i < 4; i++) {
      u128 d = (u128)a.v[i] - b.v[i] - borrow;
      r.v[i] = (u64)d;
      borrow = (u64)(d >> 64) & 1;
    }
    if (borrow) {
      u64 carry = 0;
      for (int i = 0; i < 4; i++) {
        u128 s = (u128)r.v[i] + P.v[i] + carry;
        r.v[i] = (u64)s;
        carry = (u64)(s >> 64);
      }
    }
    return r;
  }

  Fp neg() const { return is_zero() ? *this : zero() - *this; }
  Fp dbl() const { return *this + *this; }

  // a·b·R^-1 mod p (CIOS, no-carry variant).
  friend inline Fp operator*(const Fp& a, const Fp& b) {
#ifdef POA_FIELD_ASM
    Fp o;
    if constexpr (ID == 0) Fq_rawMMul(o.v, a.v, b.v); else Fr_rawMMul(o.v, a.v, b.v);
    return o;
#endif
    u64 t[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
      u64 bi = b.v[i];
      u128 x = (u128)a.v[0] * bi + t[0];
      u64 c_hi = (u64)(x >> 64);
      u64 t0 = (u64)x;
      u64 m = t0 * INV;
      u128 y = (u128)m * P.v[0] + t0;
      u64 c_lo = (u64)(y >> 64);
      for (int j = 1; j < 4; j++) {
        x = (u128)a.v[j] * bi + t[j] + c_hi;
        c_hi = (u64)(x >> 64);
        y = (u128)m * P.v[j] + (u64)x + c_lo;
        c_lo = (u64)(y >> 64);
        t[j - 1] = (u64)y;
      }
      t[3] = c_hi + c_lo;
    }
    Fp r;
    memcpy(r.v, t, 32);
    reduce_once(r.v);
    return r;
  }

  Fp sqr() const {
#ifdef POA_FIELD_ASM
    Fp o;
    if constexpr (ID == 0) Fq_rawMSquare(o.v, v); else Fr_rawMSquare(o.v, v);
    return o;
#endif
    return *this * *this;
  }

  static Fp from_normal(const u64* a) {
    Fp x{{a[0], a[1], a[2], a[3]}};
    Fp r2{{R2.v[0], R2.v[1], R2.v[2], R2.v[3]}};
    return x * r2;
  }
  Fp to_normal() const { return *this * Fp{{1, 0, 0, 0}}; }

  // a^e for a normal-form exponent (square and multiply).
  Fp pow(const Limbs& e) const {
    Fp r = one();
    for (int i = 255; i >= 0; i--) {
      r = r.sqr();
      if ((e.v[i / 64] >> (i % 64)) & 1) r = r * *this;
    }
    return r;
  }
  // Fermat: a^(p-2). Only for the few inversions a proof needs.
  Fp inv() const { return pow(sub_limbs(P, Limbs{{2, 0, 0, 0}})); }
};

// BN254: q is the base field of G1, r the scalar field (the circuit's prime).
using Fq = Fp<0, 0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL>;
using Fr = Fp<1, 0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL>;

// Fq2 = Fq[u]/(u^2 + 1), G2's coordinate field; stored c0 then c1, as snarkjs does.
struct Fq2 {
  Fq c0, c1;
  static Fq2 zero() { return {Fq::zero(), Fq::zero()}; }
  static Fq2 one() { return {Fq::one(), Fq::zero()}; }
  bool is_zero() const { return c0.is_zero() && c1.is_zero(); }
  bool operator==(const Fq2& o) const { return c0 == o.c0 && c1 == o.c1; }
  bool operator!=(const Fq2& o) const { return !(*this == o); }
  friend inline Fq2 operator+(const Fq2& a, const Fq2& b) { return {a.c0 + b.c0, a.c1 + b.c1}; }
  friend inline Fq2 operator-(const Fq2& a, const Fq2& b) { return {a.c0 - b.c0, a.c1 - b.c1}; }
  Fq2 dbl() const { return {c0.dbl(), c1.dbl()}; }
  Fq2 neg() const { return {c0.neg(), c1.neg()}; }
  // Karatsuba: three base multiplications.
  friend inline Fq2 operator*(const Fq2& a, const Fq2& b) {
    Fq v0 = a.c0 * b.c0, v1 = a.c1 * b.c1;
    return {v0 - v1, (a.c0 + a.c1) * (b.c0 + b.c1) - v0 - v1};
  }
  Fq2 sqr() const { return {(c0 + c1) * (c0 - c1), (c0 * c1).dbl()}; }
  Fq2 inv() const {
    Fq t = (c0.sqr() + c1.sqr()).inv();
    return {c0 * t, (c1 * t).neg()};
  }
};

}  // namespace poa
