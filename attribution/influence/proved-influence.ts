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
