// TracIn-CP influence (Pruthi et al., 2020) with a random projection of the
// gradients (as TRAK does), stored on disk.
//
//   influence(z, z') = Σ_k lr_k · ∇ℓ(z; W_k) · ∇ℓ(z'; W_k)
//
// over the saved checkpoints k. For softmax regression ∇ℓ(z; W) = u xᵀ with
// u = p - e_y (one value per class) and x the example's features, so
//
//   ∇ℓ(z)·∇ℓ(z') = (u·u') (x·x') ≈ (u·u') (Bx·Bx')
//
// with B a d×width Gaussian projection (entries N(0, 1/d); E[Bx·Bx'] = x·x').
// The index keeps, per training example, Bx (d floats, the same for every
// checkpoint) and sqrt(lr_k)·u_k (K×C floats): scoring all N training examples
// against a query is one (N×d)·d matrix-vector product and an N×(K·C) weighting.
// Positive influence means training on z lowered the loss on z' (a proponent).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SparseVector } from "./features.js";
import { rng, SoftmaxModel, type Checkpoint, type Example } from "./model.js";

export interface TracInMeta {
  n: number;
  d: number;
  classes: number;
  width: number;
  checkpoints: { epoch: number; lr: number }[];
  seed: number;
  ids: string[];
}

/** The projection matrix, column-major (width × d), from a seed: identical wherever it is rebuilt. */
export function projection(width: number, d: number, seed: number): Float32Array {
  const r = rng(seed);
  const B = new Float32Array(width * d);
  const scale = 1 / Math.sqrt(d);
  for (let i = 0; i < B.length; i += 2) {
    const u = Math.max(r(), 1e-12), v = r();
    const m = Math.sqrt(-2 * Math.log(u)) * scale;
    B[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < B.length) B[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return B;
}

/** out = Bx for a sparse x. */
export function project(B: Float32Array, d: number, x: SparseVector, out: Float32Array): Float32Array {
  out.fill(0);
  for (let k = 0; k < x.idx.length; k++) {
    const col = x.idx[k] * d, v = x.val[k];
    for (let r = 0; r < d; r++) out[r] += v * B[col + r];
  }
  return out;
}

export class TracInIndex {
  private readonly B: Float32Array;
  private readonly models: SoftmaxModel[];

  private constructor(readonly meta: TracInMeta, readonly bx: Float32Array, readonly u: Float32Array, readonly xx: Float32Array, weights: Float64Array[]) {
    this.B = projection(meta.width, meta.d, meta.seed);
    this.models = weights.map((w) => new SoftmaxModel(meta.classes, meta.width, w));
  }

  /** Projects every training example's gradient at every checkpoint. */
  static build(ids: string[], examples: Example[], checkpoints: Checkpoint[], classes: number, width: number, d = 128, seed = 7): TracInIndex {
    if (ids.length !== examples.length) throw new Error(`${ids.length} ids for ${examples.length} examples`);
    if (checkpoints.length === 0) throw new Error("TracIn needs at least one checkpoint");
    const n = examples.length, K = checkpoints.length;
    const meta: TracInMeta = { n, d, classes, width, checkpoints: checkpoints.map((c) => ({ epoch: c.epoch, lr: c.lr })), seed, ids };
    const index = new TracInIndex(meta, new Float32Array(n * d), new Float32Array(n * K * classes), new Float32Array(n), checkpoints.map((c) => c.weights));
    for (let i = 0; i < n; i++) index.encode(examples[i], index.bx.subarray(i * d, (i + 1) * d), index.u.subarray(i * K * classes, (i + 1) * K * classes));
    for (let i = 0; i < n; i++) index.xx[i] = examples[i].x.val.reduce((s, v) => s + v * v, 0);
    return index;
  }

  /** Bx, and sqrt(lr_k)·(p_k - e_y) for every checkpoint k. */
  private encode(e: Example, bx: Float32Array, u: Float32Array): void {
    this.project(e.x, bx);
    const C = this.meta.classes;
    const r = new Float64Array(C);
    this.meta.checkpoints.forEach((c, k) => {
      this.models[k].residual(e, r);
      const s = Math.sqrt(c.lr);
      for (let j = 0; j < C; j++) u[k * C + j] = s * r[j];
    });
  }

  private project(x: SparseVector, out: Float32Array): void {
    project(this.B, this.meta.d, x, out);
  }

  /** TracIn-CP influence of every training example on the query example. */
  influence(query: Example): Float64Array {
    const { n, d, classes: C } = this.meta;
    const K = this.meta.checkpoints.length;
    const qb = new Float32Array(d), qu = new Float32Array(K * C);
    this.encode(query, qb, qu);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let r = 0, o = i * d; r < d; r++) s += this.bx[o + r] * qb[r];
      let w = 0;
      for (let j = 0, o = i * K * C; j < K * C; j++) w += this.u[o + j] * qu[j];
      out[i] = s * w;
    }
    return out;
  }

  /** Self-influence Σ_k lr_k |∇ℓ(z; W_k)|², exactly (|u_k|²·|x|²): high for examples the model fights, e.g. mislabeled ones. */
  selfInfluence(): Float64Array {
    const { n, classes: C } = this.meta;
    const K = this.meta.checkpoints.length;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let uu = 0;
      for (let j = 0, o = i * K * C; j < K * C; j++) uu += this.u[o + j] ** 2;
      out[i] = uu * this.xx[i];
    }
    return out;
  }

  save(dir: string, checkpointWeights: Float64Array[]): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "tracin.json"), JSON.stringify(this.meta));
    writeFileSync(join(dir, "bx.f32"), new Uint8Array(this.bx.buffer, this.bx.byteOffset, this.bx.byteLength));
    writeFileSync(join(dir, "u.f32"), new Uint8Array(this.u.buffer, this.u.byteOffset, this.u.byteLength));
    writeFileSync(join(dir, "xx.f32"), new Uint8Array(this.xx.buffer, this.xx.byteOffset, this.xx.byteLength));
    checkpointWeights.forEach((w, k) => writeFileSync(join(dir, `w-${k}.f64`), new Uint8Array(w.buffer, w.byteOffset, w.byteLength)));
  }

  static load(dir: string): TracInIndex {
    const meta: TracInMeta = JSON.parse(readFileSync(join(dir, "tracin.json"), "utf8"));
    const f32 = (name: string, len: number) => {
      const b = readFileSync(join(dir, name));
      if (b.length !== len * 4) throw new Error(`${dir}/${name}: ${b.length} bytes, expected ${len * 4}`);
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    };
    const K = meta.checkpoints.length;
    const weights = meta.checkpoints.map((_, k) => {
      const b = readFileSync(join(dir, `w-${k}.f64`));
      return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    });
    return new TracInIndex(meta, f32("bx.f32", meta.n * meta.d), f32("u.f32", meta.n * K * meta.classes), f32("xx.f32", meta.n), weights);
  }
}

/** Sums the positive influence per owner (contribution → contributor, or datanet); negative influence earns nothing. */
export function positiveShares(influence: Float64Array, ownerOf: (i: number) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < influence.length; i++) {
    if (influence[i] > 0) m.set(ownerOf(i), (m.get(ownerOf(i)) ?? 0) + influence[i]);
  }
  return m;
}
