// Multinomial logistic regression trained with SGD, saving a checkpoint (the
// weights and the learning rate in force) after every epoch: the inputs of
// TracIn-CP.
//
// For an example (x, y), p = softmax(W x), loss = -log p_y, and the gradient of
// the loss with respect to W is (p - e_y) x^T: a rank-one matrix, which
// tracin.ts exploits.
import { writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { dot, type SparseVector } from "./features.js";

export interface Example {
  x: SparseVector;
  y: number;
}

export interface Checkpoint {
  epoch: number;
  lr: number;
  weights: Float64Array; // classes × width, row-major
}

export interface TrainOptions {
  classes: number;
  /** Feature width including the bias feature (dim + 1). */
  width: number;
  epochs?: number;
  lr?: number;
  /** lr_e = lr / (1 + decay · e) */
  decay?: number;
  l2?: number;
  seed?: number;
  /** Per-example weights (default 1): 0 leaves an example out without changing the visiting order of the others. */
  exampleWeights?: ArrayLike<number>;
}

export class SoftmaxModel {
  constructor(readonly classes: number, readonly width: number, readonly weights: Float64Array = new Float64Array(classes * width)) {}

  probabilities(x: SparseVector, out = new Float64Array(this.classes)): Float64Array {
    let max = -Infinity;
    for (let c = 0; c < this.classes; c++) max = Math.max(max, (out[c] = dot(x, this.weights, c * this.width)));
    let sum = 0;
    for (let c = 0; c < this.classes; c++) sum += out[c] = Math.exp(out[c] - max);
    for (let c = 0; c < this.classes; c++) out[c] /= sum;
    return out;
  }

  loss(e: Example): number {
    return -Math.log(Math.max(this.probabilities(e.x)[e.y], 1e-300));
  }

  /** u = p - e_y: the gradient of the loss is u x^T. */
  residual(e: Example, out = new Float64Array(this.classes)): Float64Array {
    this.probabilities(e.x, out);
    out[e.y] -= 1;
    return out;
  }
}

/** A seeded xorshift generator, so that training and projections are reproducible. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export function train(examples: Example[], o: TrainOptions): { model: SoftmaxModel; checkpoints: Checkpoint[] } {
  const { classes, width, epochs = 5, lr = 0.5, decay = 0.5, l2 = 1e-4, seed = 1, exampleWeights } = o;
  if (exampleWeights && exampleWeights.length !== examples.length) throw new Error(`${exampleWeights.length} example weights for ${examples.length} examples`);
  for (const e of examples) {
    if (!Number.isInteger(e.y) || e.y < 0 || e.y >= classes) throw new Error(`label ${e.y} is not a class in 0..${classes - 1}`);
  }
  const model = new SoftmaxModel(classes, width);
  const W = model.weights;
  const rand = rng(seed);
  const order = examples.map((_, i) => i);
  const u = new Float64Array(classes);
  const checkpoints: Checkpoint[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const rate = lr / (1 + decay * epoch);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const i of order) {
      const e = examples[i];
      const weight = exampleWeights ? exampleWeights[i] : 1;
      if (weight === 0) continue;
      model.residual(e, u);
      if (weight !== 1) for (let c = 0; c < classes; c++) u[c] *= weight;
      for (let c = 0; c < classes; c++) {
        const base = c * width;
        for (let k = 0; k < e.x.idx.length; k++) {
          const j = base + e.x.idx[k];
          W[j] -= rate * (u[c] * e.x.val[k] + l2 * W[j]);
        }
      }
    }
    checkpoints.push({ epoch, lr: rate, weights: Float64Array.from(W) });
  }
  return { model, checkpoints };
}

/** Checkpoints on disk: ckpt-<epoch>.f64 (weights) and checkpoints.json (shape, learning rates). */
export function saveCheckpoints(dir: string, classes: number, width: number, cps: Checkpoint[]): void {
  mkdirSync(dir, { recursive: true });
  for (const c of cps) writeFileSync(join(dir, `ckpt-${c.epoch}.f64`), new Uint8Array(c.weights.buffer));
  writeFileSync(join(dir, "checkpoints.json"), JSON.stringify({ classes, width, checkpoints: cps.map((c) => ({ epoch: c.epoch, lr: c.lr })) }, null, 2));
}

export function loadCheckpoints(dir: string): { classes: number; width: number; checkpoints: Checkpoint[] } {
  const meta = JSON.parse(readFileSync(join(dir, "checkpoints.json"), "utf8"));
  const checkpoints = meta.checkpoints.map((c: { epoch: number; lr: number }) => {
    const b = readFileSync(join(dir, `ckpt-${c.epoch}.f64`));
    if (b.length !== meta.classes * meta.width * 8) throw new Error(`${dir}/ckpt-${c.epoch}.f64 has ${b.length} bytes, expected ${meta.classes * meta.width * 8}`);
    return { epoch: c.epoch, lr: c.lr, weights: new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)) };
  });
  return { classes: meta.classes, width: meta.width, checkpoints };
}
