// The scalars of a prepared powers-of-tau file, as sequences that a worker
// expands in WebAssembly (Montgomery arithmetic) and hands to the fixed-base
// multiplier. The field arithmetic outside the workers (a few exponentiations
// per chunk) is plain bigint.
import { FIELD_MODULUS } from "../../core/field.js";
import { N8, type Bn128 } from "./bn128.js";

const R = FIELD_MODULUS;

export const mod = (a: bigint) => ((a % R) + R) % R;
export function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  for (; e > 0n; e >>= 1n, b = (b * b) % R) if (e & 1n) r = (r * b) % R;
  return r;
}
export const inv = (a: bigint) => pow(a, R - 2n);

/**
 * Roots of unity as ffjavascript defines them (so that Lagrange points land in
 * the order snarkjs's IFFT produces): r - 1 = 2^s·t with t odd, nqr the least
 * non-residue counting up from 2, w[s] = nqr^t, w[k-1] = w[k]^2.
 */
export const rootsOfUnity: bigint[] = (() => {
  let s = 0, t = R - 1n;
  while ((t & 1n) === 0n) { t >>= 1n; s++; }
  let nqr = 2n;
  while (pow(nqr, (R - 1n) / 2n) !== R - 1n) nqr++;
  const w = new Array<bigint>(s + 1);
  w[s] = pow(nqr, t);
  for (let k = s; k > 0; k--) w[k - 1] = (w[k] * w[k]) % R;
  return w;
})();

/**
 * s_i = first·ratio^i: powers of tau, possibly times alpha or beta.
 * Lagrange: s_i = r_i·(c/(tau - r_i) - e) with r_i = root·w^i. For e = 0 and
 * c = (tau^M - 1)/M this is L_i(tau), the i-th Lagrange basis polynomial of the
 * size-M domain at tau (the IFFT of tau^0..tau^(M-1)); e ≠ 0 accounts for a
 * last power that the file does not hold (see plan.ts).
 */
export type ScalarSpec =
  | { kind: "geometric"; first: bigint; ratio: bigint }
  | { kind: "lagrange"; root: bigint; w: bigint; tau: bigint; c: bigint; e: bigint };

/** Workspace for up to `max` scalars in one curve instance. */
export class ScalarExpander {
  private readonly pS: number;
  private readonly pR: number;
  private readonly pD: number;
  private readonly k: number;

  constructor(private readonly c: Bn128, readonly max: number) {
    this.pS = c.alloc(max * N8);
    this.pR = c.alloc(max * N8);
    this.pD = c.alloc(max * N8);
    this.k = c.alloc(5 * N8);
  }

  /** Writes n canonical little-endian scalars and returns their address. */
  expand(spec: ScalarSpec, n: number): number {
    if (n > this.max) throw new Error(`dev-ptau: chunk of ${n} scalars exceeds the workspace (${this.max})`);
    const { c, pS, pR, pD, k } = this;
    const { frm_mul: mul, frm_sub: sub } = c.fn;
    if (spec.kind === "geometric") {
      c.setFr(pS, spec.first);
      c.setFr(k, spec.ratio);
      for (let i = 1; i < n; i++) mul(pS + (i - 1) * N8, k, pS + i * N8);
    } else {
      const [w, tau, cc, e, t] = [k, k + N8, k + 2 * N8, k + 3 * N8, k + 4 * N8];
      c.setFr(w, spec.w);
      c.setFr(tau, spec.tau);
      c.setFr(cc, spec.c);
      c.setFr(e, spec.e);
      c.setFr(pR, spec.root);
      for (let i = 0; i < n; i++) {
        if (i > 0) mul(pR + (i - 1) * N8, w, pR + i * N8);
        sub(tau, pR + i * N8, pD + i * N8);
      }
      c.fn.frm_batchInverse(pD, N8, n, pD, N8);
      for (let i = 0; i < n; i++) {
        mul(cc, pD + i * N8, t);
        sub(t, e, t);
        mul(t, pR + i * N8, pS + i * N8);
      }
    }
    c.fn.frm_batchFromMontgomery(pS, n, pS);
    return pS;
  }
}
