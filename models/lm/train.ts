// The training loop shared by pretraining (every base weight learns) and LoRA
// fine-tuning (only the adapter learns). AdamW with linear warmup and cosine
// decay, gradient clipping by global norm. Every step's batch is drawn from a
// generator seeded by (seed, step), so a run resumed from a checkpoint at step s
// draws exactly the batches an uninterrupted run would have: resuming gives
// bit-identical weights.
import { rng } from "../../attribution/influence/model.js";
import { Transformer, Adapter, forwardBackward, baseLayout, loraLayout } from "./transformer.js";

export interface TrainSettings {
  steps: number;
  batchSize: number;
  /** Tokens per training sequence (≤ the model's context). */
  seqLen: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  clip: number;
  seed: number;
}

/** What is trained: the base (pretraining) or an adapter on a frozen base. */
export type Trainee = { kind: "base"; model: Transformer } | { kind: "adapter"; model: Transformer; adapter: Adapter };

/** Optimizer state: everything a resumed run needs besides the settings and the data. */
export interface OptimizerState {
  step: number;
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

export function learningRate(s: TrainSettings, step: number): number {
  if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  const progress = (step - s.warmup) / Math.max(1, s.steps - s.warmup);
  return s.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
}

/** B windows of seqLen + 1 tokens from the stream, at offsets drawn from (seed, step). */
export function sampleBatch(stream: Int32Array, s: TrainSettings, step: number): Int32Array {
  const span = s.seqLen + 1;
  if (stream.length < span) throw new Error(`the training text has ${stream.length} tokens, fewer than one sequence of ${span}`);
  const rand = rng((s.seed * 1_000_003 + step * 7919 + 1) >>> 0);
  const out = new Int32Array(s.batchSize * span);
  for (let b = 0; b < s.batchSize; b++) {
    const start = Math.floor(rand() * (stream.length - span + 1));
    out.set(stream.subarray(start, start + span), b * span);
  }
  return out;
}

export function trainedParams(t: Trainee): Float32Array {
  return t.kind === "base" ? t.model.params : t.adapter.params;
}

export function freshOptimizer(t: Trainee): OptimizerState {
  const params = trainedParams(t);
  return { step: 0, params, m: new Float32Array(params.length), v: new Float32Array(params.length) };
}

export interface StepReport {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
}

/** One optimizer step on the batch for `state.step`; advances state.step. */
export function trainStep(t: Trainee, state: OptimizerState, stream: Int32Array, s: TrainSettings): StepReport {
  const params = trainedParams(t);
  const grad = new Float32Array(params.length);
  const grads =
    t.kind === "base"
      ? { base: baseLayout(t.model.config).views(grad), adapter: null }
      : { base: null, adapter: loraLayout(t.model.config, t.adapter.lora).views(grad) };
  const batch = sampleBatch(stream, s, state.step);
  const { loss } = forwardBackward(t.model, t.kind === "adapter" ? t.adapter : null, batch, s.batchSize, s.seqLen, grads);
  let norm = 0;
  for (let i = 0; i < grad.length; i++) norm += grad[i] * grad[i];
  norm = Math.sqrt(norm);
  const clipScale = norm > s.clip ? s.clip / norm : 1;
  const lr = learningRate(s, state.step);
  const b1 = 0.9, b2 = 0.99, eps = 1e-8;
  const t1 = state.step + 1;
  const c1 = 1 - b1 ** t1, c2 = 1 - b2 ** t1;
  const { m, v } = state;
  for (let i = 0; i < params.length; i++) {
    const g = grad[i] * clipScale;
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    params[i] -= lr * ((m[i] / c1) / (Math.sqrt(v[i] / c2) + eps) + s.weightDecay * params[i]);
  }
  const report = { step: state.step, loss, lr, gradNorm: norm };
  state.step++;
  return report;
}

/** Mean loss (nats per token) over non-overlapping windows of the stream, in order. */
export function evaluateLoss(model: Transformer, adapter: Adapter | null, stream: Int32Array, seqLen: number, maxWindows = 64): number {
  const span = seqLen + 1;
  const windows = Math.min(maxWindows, Math.floor((stream.length - 1) / seqLen));
  if (windows < 1) {
    if (stream.length < 2) throw new Error("the evaluation text has fewer than 2 tokens");
    return forwardBackward(model, adapter, stream, 1, stream.length - 1).loss;
  }
  let total = 0;
  for (let w = 0; w < windows; w++) {
    const batch = stream.subarray(w * seqLen, w * seqLen + span);
    total += forwardBackward(model, adapter, Int32Array.from(batch), 1, seqLen).loss;
  }
  return total / windows;
}
