// Influence scores in fixed point: the arithmetic a proof of a gradient-route
// score recomputes (issue 25), mirrored later by a circuit. The float score is
//     influence(z_i, z') = (1/n) · (a_i · u') · (x_i · x̃' + P_i · q')
// (influence-function.ts exampleFactors / queryFactors). Each vector is
// quantized to signed integers of `bits` bits with one scale per kind: a
// model-wide scale for what training examples commit (a_i; x_i and P_i share
// one, since their products are added), and a per-query scale for the query's
// factors (u'; x̃' and q' share one). The integer score
//     s_i = (A_i · U) · (X_i · X̃ + P̂_i · Q)
// is the float score times one positive constant for all i, up to rounding:
// ranks and payout shares (ratios) survive. 1/n and the scales never enter.
import { FIELD_MODULUS } from "../../core/field.js";
import type { InfluenceFunctionIndex } from "./influence-function.js";
import type { Example } from "./model.js";

export interface QuantizedExample {
  a: bigint[];
  /** Features by ascending index, and their integer values. */
  idx: number[];
  x: bigint[];
  P: bigint[];
}

export interface QuantizedQuery {
  u: bigint[];
  idx: number[];
  x: bigint[];
  q: bigint[];
}

const maxAbs = (xs: Iterable<number>) => {
  let m = 0;
  for (const x of xs) m = Math.max(m, Math.abs(x));
  return m;
};
const quantize = (xs: ArrayLike<number>, scale: number) => Array.from(xs, (x) => BigInt(Math.round(x * scale)));

/** Every training example's committed factors, quantized to signed `bits`-bit integers with model-wide scales. */
export function quantizeExamples(index: InfluenceFunctionIndex, bits: number): QuantizedExample[] {
  const top = 2 ** (bits - 1) - 1;
  const factors = Array.from({ length: index.meta.n }, (_, i) => index.exampleFactors(i));
  const aScale = top / (maxAbs(factors.flatMap((f) => [...f.a])) || 1);
  const xpScale = top / (maxAbs(factors.flatMap((f) => [...f.x.val, ...f.P])) || 1);
  return factors.map((f) => {
    const order = [...f.x.idx.keys()].sort((p, q) => f.x.idx[p] - f.x.idx[q]);
    return { a: quantize(f.a, aScale), idx: order.map((k) => f.x.idx[k]), x: order.map((k) => BigInt(Math.round(f.x.val[k] * xpScale))), P: quantize(f.P, xpScale) };
  });
}

/** The query's factors (what a receipt would commit), quantized with scales of its own. */
export function quantizeQuery(index: InfluenceFunctionIndex, query: Example, bits: number): QuantizedQuery {
  const top = 2 ** (bits - 1) - 1;
  const f = index.queryFactors(query);
  const uScale = top / (maxAbs(f.u) || 1);
  const xqScale = top / (maxAbs([...f.x.val, ...f.q]) || 1);
  const order = [...f.x.idx.keys()].sort((p, q) => f.x.idx[p] - f.x.idx[q]);
  return { u: quantize(f.u, uScale), idx: order.map((k) => f.x.idx[k]), x: order.map((k) => BigInt(Math.round(f.x.val[k] * xqScale))), q: quantize(f.q, xqScale) };
}

/** s_i = (A_i · U) · (X_i · X̃ + P̂_i · Q): exact integers; the sparse dot product merges the two sorted feature lists. */
export function fixedPointInfluence(e: QuantizedExample, q: QuantizedQuery): bigint {
  let au = 0n;
  for (let c = 0; c < e.a.length; c++) au += e.a[c] * q.u[c];
  let xx = 0n;
  for (let i = 0, j = 0; i < e.idx.length && j < q.idx.length; ) {
    if (e.idx[i] === q.idx[j]) xx += e.x[i++] * q.x[j++];
    else if (e.idx[i] < q.idx[j]) i++;
    else j++;
  }
  let pq = 0n;
  for (let r = 0; r < e.P.length; r++) pq += e.P[r] * q.q[r];
  return au * (xx + pq);
}

export interface InfluenceShape {
  /** Classes (C), rank (R), example and query feature slots (M, MQ), value bits (VB), index bits (IB). */
  classes: number;
  rank: number;
  features: number;
  queryFeatures: number;
  valueBits: number;
  indexBits: number;
}

/**
 * The circuit input of InfluenceScore (circuits/lib/influence_score.circom) for
 * one example and query at challenge `gamma`: the lists padded (example: value
 * 0; query: indices 2^IB + j, value 0), each live example feature's hint (the
 * query's value at its index, or the gap around it) and the table's use counts.
 */
export function influenceScoreInput(e: QuantizedExample, q: QuantizedQuery, shape: InfluenceShape, gamma: bigint): Record<string, unknown> {
  const { classes: C, rank: R, features: M, queryFeatures: MQ, valueBits, indexBits: IB } = shape;
  if (e.a.length !== C || q.u.length !== C || e.P.length !== R || q.q.length !== R) throw new Error(`influence factors: ${e.a.length}/${q.u.length} class and ${e.P.length}/${q.q.length} rank values for an instance of ${C} and ${R}`);
  if (e.idx.length > M) throw new Error(`the training example has ${e.idx.length} features; the instance proves at most ${M}`);
  if (q.idx.length > MQ) throw new Error(`the query has ${q.idx.length} features; the instance proves at most ${MQ}`);
  const half = 2n ** BigInt(valueBits - 1);
  for (const v of [...e.a, ...e.x, ...e.P, ...q.u, ...q.x, ...q.q]) if (v < -half || v >= half) throw new Error(`influence value ${v} does not fit ${valueBits} signed bits`);
  for (const i of [...e.idx, ...q.idx]) if (i < 0 || i >= 2 ** IB) throw new Error(`feature index ${i} does not fit ${IB} bits`);
  const qi = [...q.idx.map(BigInt), ...Array.from({ length: MQ - q.idx.length }, (_, j) => BigInt(2 ** IB + q.idx.length + j))];
  const qv = [...q.x, ...Array<bigint>(MQ - q.idx.length).fill(0n)];
  const uses = Array<bigint>(2 * MQ + 1).fill(0n);
  const h: bigint[] = [], present: bigint[] = [], lo: bigint[] = [], hi: bigint[] = [];
  for (let i = 0; i < M; i++) {
    const idx = BigInt(e.idx[i] ?? 0), live = i < e.idx.length && e.x[i] !== 0n;
    const at = qi.indexOf(idx);
    if (!live) {
      h.push(0n), present.push(0n), lo.push(-1n), hi.push(0n);
    } else if (at >= 0) {
      h.push(qv[at]), present.push(1n), lo.push(-1n), hi.push(0n);
      uses[at]++;
    } else {
      const gap = qi.findIndex((v) => v > idx); // the first query index above: gap `gap` (0..MQ−1), else the last
      const g = gap < 0 ? MQ : gap;
      h.push(0n), present.push(0n), lo.push(g === 0 ? -1n : qi[g - 1]), hi.push(g === MQ ? BigInt(2 ** (IB + 1)) : qi[g]);
      uses[MQ + g]++;
    }
  }
  const field = (v: bigint) => ((v % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS;
  const pad = <T>(xs: T[], n: number, fill: T) => [...xs, ...Array<T>(n - xs.length).fill(fill)];
  return {
    A: e.a.map(field), P: e.P.map(field), ei: pad(e.idx.map(BigInt), M, 0n), ev: pad(e.x, M, 0n).map(field),
    U: q.u.map(field), Q: q.q.map(field), qi, qv: qv.map(field), gamma,
    h: h.map(field), present, lo: lo.map(field), hi, uses,
  };
}
