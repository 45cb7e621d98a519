// BN254's groups in short Weierstrass form y^2 = x^3 + b (a = 0), one template
// for G1 (over Fq, b = 3) and G2 (over Fq2, b = 3/(9+u)).
//
// Affine points are the zkey's layout (x then y, Montgomery form); the point at
// infinity is stored as all zeros. Arithmetic is in Jacobian coordinates
// (X/Z^2, Y/Z^3), with the a = 0 formulas of the Explicit-Formulas Database:
// dbl-2009-l, madd-2007-bl (mixed: affine + Jacobian), add-2007-bl.
#pragma once
#include "field.hpp"

namespace poa {

template <class F>
struct Affine {
  F x, y;
  bool is_infinity() const { return x.is_zero() && y.is_zero(); }
};

template <class F>
struct Jacobian {
  F x, y, z;

  static Jacobian infinity() { return {F::one(), F::one(), F::zero()}; }
  bool is_infinity() const { return z.is_zero(); }

  static Jacobian from_affine(const Affine<F>& p) {
    if (p.is_infinity()) return infinity();
    return {p.x, p.y, F::one()};
  }

  Jacobian dbl() const {
    if (is_infinity()) return *this;
    F a = x.sqr(), b = y.sqr(), c = b.sqr();
    F d = ((x + b).sqr() - a - c).dbl();
    F e = a.dbl() + a;
    F f = e.sqr();
    Jacobian r;
    r.x = f - d.dbl();
    F c8 = c.dbl().dbl().dbl();
    r.y = e * (d - r.x) - c8;
    r.z = (y * z).dbl();
    return r;
  }

  // this + q for an affine q.
  Jacobian add_affine(const Affine<F>& q) const {
    if (q.is_infinity()) return *this;
    if (is_infinity()) return from_affine(q);
    F z1z1 = z.sqr();
    F u2 = q.x * z1z1;
    F s2 = q.y * z * z1z1;
    if (u2 == x) {
      if (s2 == y) return dbl();
      return infinity();
    }
    F h = u2 - x;
    F hh = h.sqr();
    F i = hh.dbl().dbl();
    F j = h * i;
    F r = (s2 - y).dbl();
    F v = x * i;
    Jacobian o;
    o.x = r.sqr() - j - v.dbl();
    o.y = r * (v - o.x) - (y * j).dbl();
    o.z = (z + h).sqr() - z1z1 - hh;
    return o;
  }

  Jacobian add(const Jacobian& q) const {
    if (q.is_infinity()) return *this;
    if (is_infinity()) return q;
    F z1z1 = z.sqr(), z2z2 = q.z.sqr();
    F u1 = x * z2z2, u2 = q.x * z1z1;
    F s1 = y * q.z * z2z2, s2 = q.y * z * z1z1;
    if (u1 == u2) {
      if (s1 == s2) return dbl();
      return infinity();
    }
    F h = u2 - u1;
    F i = h.dbl().sqr();
    F j = h * i;
    F r = (s2 - s1).dbl();
    F v = u1 * i;
    Jacobian o;
    o.x = r.sqr() - j - v.dbl();
    o.y = r * (v - o.x) - (s1 * j).dbl();
    o.z = ((z + q.z).sqr() - z1z1 - z2z2) * h;
    return o;
  }

  Jacobian neg() const { return {x, y.neg(), z}; }

  Affine<F> to_affine() const {
    if (is_infinity()) return {F::zero(), F::zero()};
    F zi = z.inv();
    F zi2 = zi.sqr();
    return {x * zi2, y * zi2 * zi};
  }

  // k·P for a normal-form scalar, most significant bit first.
  Jacobian mul(const Limbs& k) const {
    Jacobian r = infinity();
    for (int i = 255; i >= 0; i--) {
      r = r.dbl();
      if ((k.v[i / 64] >> (i % 64)) & 1) r = r.add(*this);
    }
    return r;
  }
};

// The curve constants b, in Montgomery form.
inline Fq g1_b() { return Fq::from_normal(Limbs{{3, 0, 0, 0}}.v); }
inline Fq2 g2_b() {
  Fq2 xi{Fq::from_normal(Limbs{{9, 0, 0, 0}}.v), Fq::one()};
  return Fq2{g1_b(), Fq::zero()} * xi.inv();
}

template <class F>
bool on_curve(const Affine<F>& p, const F& b) {
  if (p.is_infinity()) return true;
  return p.y.sqr() == p.x.sqr() * p.x + b;
}

using G1Affine = Affine<Fq>;
using G1 = Jacobian<Fq>;
using G2Affine = Affine<Fq2>;
using G2 = Jacobian<Fq2>;

}  // namespace poa
