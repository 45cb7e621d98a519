// Influence functions (Koh & Liang, 2017) for softmax regression over sparse
// text features, with Kronecker-factored curvature (K-FAC / EK-FAC style) and
// exact feature inner products: no random projection of the features.
//
// At the trained weights, example z = (x, y) has loss gradient g = u ⊗ x with
// u = p − e_y; the loss Hessian is (1/n) Σ A_i ⊗ x_i x_iᵀ with A = diag(p) − p pᵀ.
// We approximate it by Ā ⊗ (S + δI):
//   Ā = (1/n) Σ A_i                 the classes' curvature (C × C), inverted on
//                                   1⊥ (u always sums to 0) with a little damping;
//   S = (1/n) Σ x_i x_iᵀ            the features' second moment, represented by
//                                   its top `rank` eigenpairs (randomized subspace
//                                   iteration on the sparse features) and the mean
//                                   of the remaining spectrum, τ, elsewhere;
//   δ = damping × tr(S) / (features in use)   the regularization that SGD's
//                                   early stopping and L2 impose (chosen on the
//                                   benchmark: bench/RESULTS.md).
// Then, with P = Vᵀx (the top eigenvectors V, eigenvalues λ_r),
//   x_iᵀ (S + δI)⁻¹ x' = x_i·x' / (τ + δ) + Σ_r (1/(λ_r + δ) − 1/(τ + δ)) P_ir P'_r
//   influence(z_i, z') = (1/n) · (u_iᵀ Ā⁺ u') · x_iᵀ (S + δI)⁻¹ x'
// the first-order rise of the loss on z' when z_i is left out: positive means z_i
// lowered it (a proponent). Directions that many examples share (common words,
// near-duplicates) are discounted by their large eigenvalues; what is specific to
// an example counts in full. Self-influence g_iᵀ H⁻¹ g_i ranks the examples the
// model bends to fit (mislabeled ones first).
// Training features are stored by feature, so a query touches only the examples
// that share one of its features (exact sparse dot products), plus O(n · rank).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SparseVector } from "./features.js";
import { symmetricEigen, orthonormalize } from "./linalg.js";
import { rng, SoftmaxModel, type Example } from "./model.js";

export interface InfluenceFunctionOptions {
  /** Eigenpairs of S kept (default 16). */
  rank?: number;
  /** δ relative to the mean eigenvalue of S over the features in use (default 100). */
  damping?: number;
  /** Subspace iterations of the randomized eigensolver (default 2). */
  powerIterations?: number;
  /** At most this many examples (an even sample) estimate the curvature (default 5,000). */
  curvatureSample?: number;
  seed?: number;
}

export const INFLUENCE_DEFAULTS = { rank: 16, damping: 100, powerIterations: 2, curvatureSample: 5000, seed: 7 } as const;
const CLASS_DAMPING = 0.01;
const OVERSAMPLE = 8;

export interface InfluenceFunctionMeta {
  kind: "kfac-influence";
  n: number;
  classes: number;
  width: number;
  options: Required<InfluenceFunctionOptions>;
  /** δ, τ, the kept eigenvalues λ_r. */
  delta: number;
  tail: number;
  eigenvalues: number[];
  ids: string[];
}

export class InfluenceFunctionIndex {
  private readonly model: SoftmaxModel;
  private readonly coef: Float64Array;
  /** Scratch: x_i·x' for every training example. */
  private readonly dense: Float64Array;

  private constructor(
    readonly meta: InfluenceFunctionMeta,
    /** Top eigenvectors of S, rank × width. */
    private readonly V: Float64Array,
    /** Ā⁺ (C × C). */
    private readonly classInverse: Float64Array,
    /** The training features by feature (CSC): feature j's examples are rows[offsets[j] .. offsets[j + 1]]. */
    private readonly offsets: Uint32Array,
    private readonly rows: Int32Array,
    private readonly val: Float32Array,
    /** |x_i|². */
    private readonly norms: Float64Array,
    /** P_i = Vᵀx_i (n × rank) and u_i (n × C). */
    private readonly P: Float64Array,
    private readonly U: Float64Array,
    weights: Float64Array,
  ) {
    this.model = new SoftmaxModel(meta.classes, meta.width, weights);
    const inv = 1 / (meta.tail + meta.delta);
    this.coef = Float64Array.from(meta.eigenvalues, (l) => 1 / (l + meta.delta) - inv);
    this.dense = new Float64Array(meta.n);
  }

  static build(ids: string[], examples: Example[], model: SoftmaxModel, o: InfluenceFunctionOptions = {}): InfluenceFunctionIndex {
    const options = { ...INFLUENCE_DEFAULTS, ...o };
    if (ids.length !== examples.length) throw new Error(`${ids.length} ids for ${examples.length} examples`);
    if (examples.length === 0) throw new Error("influence functions need at least one training example");
    const n = examples.length, C = model.classes, w = model.width;
    const step = Math.max(1, Math.ceil(n / options.curvatureSample));
    const sample = examples.filter((_, i) => i % step === 0);
    const { V, eigenvalues, trace, active } = topEigen(sample, w, Math.min(options.rank, w), options.powerIterations, options.seed);
    const rank = eigenvalues.length;
    const tail = Math.max(0, (trace - eigenvalues.reduce((a, b) => a + b, 0)) / Math.max(1, active - rank));
    const delta = (options.damping * trace) / Math.max(1, active);
    const classInverse = classCurvatureInverse(sample, model);

    // A query touches only the examples that share its features: store them by feature.
    const offsets = new Uint32Array(w + 1);
    for (const e of examples) for (const j of e.x.idx) offsets[j + 1]++;
    for (let j = 0; j < w; j++) offsets[j + 1] += offsets[j];
    const rows = new Int32Array(offsets[w]), val = new Float32Array(offsets[w]), fill = offsets.slice(0, w);
    const norms = new Float64Array(n);
    const P = new Float64Array(n * rank), U = new Float64Array(n * C);
    const u = new Float64Array(C);
    examples.forEach((e, i) => {
      for (let l = 0; l < e.x.idx.length; l++) {
        const at = fill[e.x.idx[l]]++;
        rows[at] = i;
        val[at] = e.x.val[l];
        norms[i] += e.x.val[l] * e.x.val[l];
      }
      project(V, rank, w, e.x, P.subarray(i * rank, (i + 1) * rank));
      model.residual(e, u);
      U.set(u, i * C);
    });
    const meta: InfluenceFunctionMeta = { kind: "kfac-influence", n, classes: C, width: w, options, delta, tail, eigenvalues: [...eigenvalues], ids };
    return new InfluenceFunctionIndex(meta, V, classInverse, offsets, rows, val, norms, P, U, model.weights);
  }

  /** Influence of every training example on the loss of the query example (its label is the one explained). */
  influence(query: Example): Float64Array {
    const { n, classes: C } = this.meta;
    const rank = this.meta.eigenvalues.length;
    const uq = this.model.residual(query);
    const au = new Float64Array(C);
    for (let a = 0; a < C; a++) for (let b = 0; b < C; b++) au[a] += this.classInverse[a * C + b] * uq[b];
    const pq = project(this.V, rank, this.meta.width, query.x, new Float64Array(rank));
    for (let r = 0; r < rank; r++) pq[r] *= this.coef[r];
    const inv = 1 / (this.meta.tail + this.meta.delta);
    const xx = this.dense.length >= n ? this.dense.subarray(0, n).fill(0) : new Float64Array(n); // x_i·x' for every i
    for (let l = 0; l < query.x.idx.length; l++) {
      const j = query.x.idx[l], q = query.x.val[l];
      for (let at = this.offsets[j], end = this.offsets[j + 1]; at < end; at++) xx[this.rows[at]] += q * this.val[at];
    }
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let cu = 0;
      for (let a = 0, o = i * C; a < C; a++) cu += this.U[o + a] * au[a];
      if (cu === 0) continue;
      let low = 0;
      for (let r = 0, o = i * rank; r < rank; r++) low += this.P[o + r] * pq[r];
      out[i] = (cu * (xx[i] * inv + low)) / n;
    }
    return out;
  }

  /**
   * The factors of influence(z_i, z') = (1/n) · (a_i · u') · (x_i · x̃' + P_i · q'), split
   * into what training example i commits (a_i = Ā⁺u_i, its features x_i, P_i = Vᵀx_i) and
   * what the query gives (u', x̃' = x'/(τ + δ), q'_r = (1/(λ_r + δ) − 1/(τ + δ)) · (Vᵀx')_r):
   * the form a proof of the score recomputes (proved-influence.ts).
   */
  exampleFactors(i: number): { a: Float64Array; x: SparseVector; P: Float64Array } {
    const { classes: C, n } = this.meta;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`training example ${i} is not in this index (0..${n - 1})`);
    const rank = this.meta.eigenvalues.length;
    const a = new Float64Array(C);
    for (let c = 0; c < C; c++) for (let b = 0; b < C; b++) a[c] += this.classInverse[c * C + b] * this.U[i * C + b];
    return { a, x: this.featuresOf(i), P: this.P.slice(i * rank, (i + 1) * rank) };
  }

  queryFactors(query: Example): { u: Float64Array; x: { idx: Int32Array; val: Float64Array }; q: Float64Array } {
    const rank = this.meta.eigenvalues.length;
    const inv = 1 / (this.meta.tail + this.meta.delta);
    const q = project(this.V, rank, this.meta.width, query.x, new Float64Array(rank));
    for (let r = 0; r < rank; r++) q[r] *= this.coef[r];
    return { u: this.model.residual(query), x: { idx: Int32Array.from(query.x.idx), val: Float64Array.from(query.x.val, (v) => v * inv) }, q };
  }

  /** Training example i's features, gathered from the by-feature store (ascending feature index). */
  private featuresOf(i: number): SparseVector {
    if (!this.rowsByExample) {
      const byExample: [number, number][][] = Array.from({ length: this.meta.n }, () => []);
      for (let j = 0; j < this.meta.width; j++) for (let at = this.offsets[j]; at < this.offsets[j + 1]; at++) byExample[this.rows[at]].push([j, this.val[at]]);
      this.rowsByExample = byExample;
    }
    const f = this.rowsByExample[i];
    return { idx: Int32Array.from(f, ([j]) => j), val: Float32Array.from(f, ([, v]) => v) };
  }
  private rowsByExample?: [number, number][][];

  /** g_iᵀ H⁻¹ g_i under the same curvature, for every training example. */
  selfInfluence(): Float64Array {
    const { n, classes: C } = this.meta;
    const rank = this.meta.eigenvalues.length;
    const inv = 1 / (this.meta.tail + this.meta.delta);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let cu = 0;
      for (let a = 0; a < C; a++) for (let b = 0; b < C; b++) cu += this.U[i * C + a] * this.classInverse[a * C + b] * this.U[i * C + b];
      let low = 0;
      for (let r = 0; r < rank; r++) low += this.coef[r] * this.P[i * rank + r] ** 2;
      out[i] = cu * (this.norms[i] * inv + low);
    }
    return out;
  }

  /**
   * Each training example's loss with itself left out of training, to first order:
   * ℓ_i + (1/n) g_iᵀ H⁻¹ g_i. An example the model bends to fit (a mislabeled one) scores high
   * on both terms; this ranks mislabels at least as well as the loss alone (bench/RESULTS.md).
   */
  leaveOneOutLoss(): Float64Array {
    const { n, classes: C } = this.meta;
    const self = this.selfInfluence();
    return self.map((s, i) => {
      let uy = 0; // u_y = p_y − 1 is the one negative entry of u_i
      for (let c = 0; c < C; c++) uy = Math.min(uy, this.U[i * C + c]);
      return -Math.log(Math.max(1 + uy, 1e-300)) + s / n;
    });
  }

  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "influence.json"), JSON.stringify(this.meta));
    const parts: [string, ArrayBufferView][] = [
      ["V.f64", this.V], ["class.f64", this.classInverse], ["offsets.u32", this.offsets], ["rows.i32", this.rows],
      ["val.f32", this.val], ["norms.f64", this.norms], ["P.f64", this.P], ["U.f64", this.U], ["weights.f64", this.model.weights],
    ];
    for (const [name, a] of parts) writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }

  static load(dir: string): InfluenceFunctionIndex {
    const meta: InfluenceFunctionMeta = JSON.parse(readFileSync(join(dir, "influence.json"), "utf8"));
    if (meta.kind !== "kfac-influence") throw new Error(`${dir}: not an influence-function index (kind ${meta.kind})`);
    const { n, classes: C, width } = meta;
    const rank = meta.eigenvalues.length;
    const read = (name: string, bytesPer: number, len?: number) => {
      const b = readFileSync(join(dir, name));
      if (len !== undefined && b.length !== len * bytesPer) throw new Error(`${dir}/${name}: ${b.length} bytes, expected ${len * bytesPer}`);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
    };
    const offsets = new Uint32Array(read("offsets.u32", 4, width + 1));
    const nnz = offsets[width];
    return new InfluenceFunctionIndex(
      meta,
      new Float64Array(read("V.f64", 8, rank * width)),
      new Float64Array(read("class.f64", 8, C * C)),
      offsets,
      new Int32Array(read("rows.i32", 4, nnz)),
      new Float32Array(read("val.f32", 4, nnz)),
      new Float64Array(read("norms.f64", 8, n)),
      new Float64Array(read("P.f64", 8, n * rank)),
      new Float64Array(read("U.f64", 8, n * C)),
      new Float64Array(read("weights.f64", 8, C * width)),
    );
  }
}

/** out = Vᵀx for a sparse x (V: rank vectors of length w, back to back). */
function project(V: Float64Array, rank: number, w: number, x: SparseVector, out: Float64Array): Float64Array {
  for (let r = 0; r < rank; r++) {
    let s = 0;
    for (let l = 0; l < x.idx.length; l++) s += V[r * w + x.idx[l]] * x.val[l];
    out[r] = s;
  }
  return out;
}

/**
 * Top eigenpairs of S = (1/n) Σ x xᵀ by randomized subspace iteration (Halko, Martinsson & Tropp),
 * multiplying by S through the sparse features only. Also tr(S) and the number of features in use.
 */
export function topEigen(examples: Example[], w: number, rank: number, iterations: number, seed: number) {
  const n = examples.length, K = Math.min(w, rank + OVERSAMPLE);
  const times = (Q: Float64Array) => {
    const out = new Float64Array(K * w), t = new Float64Array(K);
    for (const e of examples) {
      t.fill(0);
      for (let l = 0; l < e.x.idx.length; l++) {
        const j = e.x.idx[l], v = e.x.val[l];
        for (let c = 0; c < K; c++) t[c] += v * Q[c * w + j];
      }
      for (let l = 0; l < e.x.idx.length; l++) {
        const j = e.x.idx[l], v = e.x.val[l] / n;
        for (let c = 0; c < K; c++) out[c * w + j] += v * t[c];
      }
    }
    return out;
  };
  const rand = rng(seed);
  let Q = Float64Array.from({ length: K * w }, () => rand() - 0.5);
  orthonormalize(Q, K, w);
  for (let it = 0; it <= iterations; it++) {
    Q = times(Q);
    orthonormalize(Q, K, w);
  }
  // Rayleigh–Ritz: T = Qᵀ S Q, then V = Q · eigenvectors(T).
  const SQ = times(Q);
  const T = new Float64Array(K * K);
  for (let a = 0; a < K; a++) {
    for (let b = 0; b <= a; b++) {
      let d = 0;
      for (let j = 0; j < w; j++) d += Q[a * w + j] * SQ[b * w + j];
      T[a * K + b] = T[b * K + a] = d;
    }
  }
  const eig = symmetricEigen(T, K);
  const order = [...eig.values.keys()].sort((a, b) => eig.values[b] - eig.values[a]).slice(0, rank);
  const V = new Float64Array(rank * w);
  order.forEach((src, dst) => {
    for (let b = 0; b < K; b++) {
      const coef = eig.vectors[b * K + src];
      for (let j = 0; j < w; j++) V[dst * w + j] += coef * Q[b * w + j];
    }
  });
  let trace = 0;
  const used = new Uint8Array(w);
  for (const e of examples) for (let l = 0; l < e.x.idx.length; l++) (trace += e.x.val[l] ** 2 / n), (used[e.x.idx[l]] = 1);
  return { V, eigenvalues: order.map((i) => Math.max(0, eig.values[i])), trace, active: used.reduce((a, b) => a + b, 0) };
}

/** Ā⁺ for Ā = mean of diag(p) − p pᵀ, on the subspace orthogonal to the all-ones vector, slightly damped. */
function classCurvatureInverse(examples: Example[], model: SoftmaxModel): Float64Array {
  const C = model.classes, n = examples.length;
  const A = new Float64Array(C * C), p = new Float64Array(C);
  for (const e of examples) {
    model.probabilities(e.x, p);
    for (let a = 0; a < C; a++) for (let b = 0; b < C; b++) A[a * C + b] += ((a === b ? p[a] : 0) - p[a] * p[b]) / n;
  }
  const { values, vectors } = symmetricEigen(A, C);
  const damp = (CLASS_DAMPING * values.reduce((s, v) => s + Math.max(0, v), 0)) / C;
  const inv = new Float64Array(C * C);
  for (let e = 0; e < C; e++) {
    // The all-ones direction (eigenvalue 0) carries no gradient: leave it out.
    let ones = 0;
    for (let a = 0; a < C; a++) ones += vectors[a * C + e];
    if (Math.abs(ones) > 0.5 * Math.sqrt(C) && values[e] < 1e-9) continue;
    for (let a = 0; a < C; a++) for (let b = 0; b < C; b++) inv[a * C + b] += (vectors[a * C + e] * vectors[b * C + e]) / (Math.max(0, values[e]) + damp);
  }
  return inv;
}
