// A LoRA fine-tuning job, run synchronously inside the job worker thread.
//
// Training resumes exactly: checkpoint.bin holds the adapter, the Adam moments
// and the step, and every step's batch is a function of (seed, step) only, so a
// job killed at any point and resumed from its last checkpoint ends with the
// same bytes as an uninterrupted run.
//
// For attribution, a few checkpoints also keep the adapter's weights and, per
// training contribution, its loss gradient over the adapter parameters only,
// projected to D dimensions (TracIn-CP in LoRA space, as DataInf and LoGra use:
// those gradients are small, so influence is cheap).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { projection } from "../../attribution/influence/tracin.js";
import { canonicalJson } from "../../attribution/datanet/content.js";
import { generate } from "../lm/decode.js";
import { matmul } from "../lm/kernels.js";
import { encode } from "../lm/tokenizer.js";
import { freshOptimizer, trainStep, evaluateLoss, learningRate, type OptimizerState, type TrainSettings } from "../lm/train.js";
import { Adapter, Transformer, forwardBackward, initLora, loraLayout } from "../lm/transformer.js";
import { encodeWeights, sha256Hex } from "../lm/weights.js";
import { MAX_STEPS, type LoraJobSpec } from "./spec.js";
import type { SnapshotEntry, TrainingSnapshot } from "./training-set.js";

/** What a job reports while it runs (the worker posts these to the service). */
export type JobEvent =
  | { type: "progress"; step: number; steps: number; loss: number; lr: number; tokensPerSecond: number }
  | { type: "checkpoint"; step: number }
  | { type: "phase"; phase: "evaluating" };

export interface JobContext {
  dir: string;
  snapshot: TrainingSnapshot;
  content: (hash: string) => Uint8Array;
  cancelled: () => boolean;
  report: (e: JobEvent) => void;
}

export interface JobOutcome {
  /** The weights file (adapter.poalm or classifier.poacl) and its SHA-256. */
  artifactPath: string;
  artifactHash: string;
  /** SHA-256 of the canonical training configuration (spec + snapshot root + base). */
  configHash: string;
  metrics: EvalReport;
  metricsHash: string;
}

export interface EvalReport {
  heldOutContributions: number;
  heldOutTokens?: number;
  /** Nats per token on the held-out split. */
  baseLoss?: number;
  loss: number;
  basePerplexity?: number;
  perplexity?: number;
  accuracy?: number;
  baselineAccuracy?: number;
  samples?: { prompt: string; base: string; tuned: string }[];
}

export class JobCancelled extends Error {
  constructor() {
    super("cancelled");
  }
}

/** Attribution projection width and how many checkpoints keep gradients. */
export const ATTRIBUTION_DIM = 64;
export const ATTRIBUTION_CHECKPOINTS = 3;

export function tokenStream(entries: SnapshotEntry[], content: (hash: string) => Uint8Array): Int32Array {
  const ids: number[] = [];
  for (const e of entries) for (const t of encode(new TextDecoder().decode(content(e.contentHash)), true)) ids.push(t);
  return Int32Array.from(ids);
}

/** The optimizer schedule for a spec over a training stream of `tokens` tokens. */
export function loraSettings(spec: LoraJobSpec, tokens: number): TrainSettings {
  const steps = Math.max(1, Math.ceil((spec.epochs * tokens) / (spec.batchSize * spec.seqLen)));
  if (steps > MAX_STEPS) throw new Error(`${spec.epochs} epochs over ${tokens} tokens is ${steps} steps; the limit is ${MAX_STEPS}: lower epochs or raise the batch size`);
  return { steps, batchSize: spec.batchSize, seqLen: spec.seqLen, lr: spec.learningRate, warmup: Math.min(20, Math.ceil(steps / 10)), weightDecay: 0, clip: 1, seed: spec.seed };
}

/** Steps at which attribution gradients are kept: evenly spaced, the last one at the end. */
export function attributionSteps(steps: number): number[] {
  const k = Math.min(ATTRIBUTION_CHECKPOINTS, steps);
  return Array.from({ length: k }, (_, i) => Math.round(((i + 1) * steps) / k));
}

function writeAtomic(path: string, chunks: Uint8Array[]): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    for (const c of chunks) writeSync(fd, c);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function saveCheckpoint(dir: string, s: OptimizerState): void {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(s.step, 0);
  head.writeUInt32LE(s.params.length, 4);
  writeAtomic(join(dir, "checkpoint.bin"), [head, bytesOf(s.params), bytesOf(s.m), bytesOf(s.v)]);
}

function loadCheckpoint(dir: string, s: OptimizerState): boolean {
  const path = join(dir, "checkpoint.bin");
  if (!existsSync(path)) return false;
  const b = readFileSync(path);
  const n = b.readUInt32LE(4);
  if (n !== s.params.length || b.length !== 8 + 12 * n) throw new Error(`${path} holds ${n} parameters, the adapter has ${s.params.length}: the job's settings changed`);
  const f = new Float32Array(b.buffer.slice(b.byteOffset + 8, b.byteOffset + b.length));
  s.params.set(f.subarray(0, n));
  s.m.set(f.subarray(n, 2 * n));
  s.v.set(f.subarray(2 * n, 3 * n));
  s.step = b.readUInt32LE(0);
  return true;
}

/**
 * Loss gradients over the adapter of each entry's text (its first `windows` sequences), projected to
 * ATTRIBUTION_DIM by `B` (made from `seed`; pass it to reuse it: it is P × 64 random numbers).
 */
export function projectedGradients(base: Transformer, adapter: Adapter, texts: Int32Array[], seqLen: number, seed: number, windows = 4, B = projection(adapter.params.length, ATTRIBUTION_DIM, seed)): Float32Array {
  const P = adapter.params.length;
  const out = new Float32Array(texts.length * ATTRIBUTION_DIM);
  const layout = loraLayout(base.config, adapter.lora);
  texts.forEach((tokens, i) => {
    const g = new Float32Array(P);
    const views = layout.views(g);
    const T = Math.min(seqLen, base.config.context, tokens.length - 1);
    if (T < 1) return;
    const n = Math.min(windows, Math.max(1, Math.floor((tokens.length - 1) / T)));
    for (let w = 0; w < n; w++) forwardBackward(base, adapter, tokens.slice(w * T, w * T + T + 1), 1, T, { base: null, adapter: views });
    for (let j = 0; j < P; j++) g[j] /= n;
    matmul(g, B, out.subarray(i * ATTRIBUTION_DIM, (i + 1) * ATTRIBUTION_DIM), 1, P, ATTRIBUTION_DIM);
  });
  return out;
}

export function runLoraJob(spec: LoraJobSpec, base: { model: Transformer; hash: string }, ctx: JobContext): JobOutcome {
  const model = base.model;
  if (spec.seqLen > model.config.context) throw new Error(`seqLen ${spec.seqLen} is longer than the base model's context ${model.config.context}`);
  const trainStream = tokenStream(ctx.snapshot.train, ctx.content);
  const heldOutStream = tokenStream(ctx.snapshot.heldOut, ctx.content);
  if (trainStream.length < spec.seqLen + 1) throw new Error(`the training split has ${trainStream.length} tokens, fewer than one sequence of ${spec.seqLen + 1}: lower seqLen`);
  const settings = loraSettings(spec, trainStream.length);
  const adapter = new Adapter(model.config, spec.lora, initLora(model.config, spec.lora, spec.seed));
  const trainee = { kind: "adapter" as const, model, adapter };
  const state = freshOptimizer(trainee);
  mkdirSync(join(ctx.dir, "attribution"), { recursive: true });
  if (loadCheckpoint(ctx.dir, state)) ctx.report({ type: "checkpoint", step: state.step });
  const every = Math.max(1, Math.min(25, Math.ceil(settings.steps / 20)));
  const gradSteps = attributionSteps(settings.steps);
  const trainTexts = ctx.snapshot.train.map((e) => Int32Array.from(encode(new TextDecoder().decode(ctx.content(e.contentHash)), true)));
  const tokensPerStep = settings.batchSize * settings.seqLen;
  while (state.step < settings.steps) {
    if (ctx.cancelled()) throw new JobCancelled();
    const t0 = performance.now();
    const r = trainStep(trainee, state, trainStream, settings);
    ctx.report({ type: "progress", step: state.step, steps: settings.steps, loss: r.loss, lr: r.lr, tokensPerSecond: tokensPerStep / ((performance.now() - t0) / 1000) });
    const k = gradSteps.indexOf(state.step);
    if (k >= 0) {
      // Attribution files first, then the checkpoint that says they exist: a crash in between redoes them.
      const grads = projectedGradients(model, adapter, trainTexts, spec.seqLen, spec.seed + 1);
      writeAtomic(join(ctx.dir, "attribution", `grads-${k}.f32`), [bytesOf(grads)]);
      writeAtomic(join(ctx.dir, "attribution", `adapter-${k}.f32`), [bytesOf(adapter.params)]);
    }
    if (state.step % every === 0 || state.step === settings.steps || k >= 0) {
      saveCheckpoint(ctx.dir, state);
      ctx.report({ type: "checkpoint", step: state.step });
    }
  }
  ctx.report({ type: "phase", phase: "evaluating" });
  writeFileSync(
    join(ctx.dir, "attribution", "meta.json"),
    JSON.stringify({ dim: ATTRIBUTION_DIM, seed: spec.seed + 1, seqLen: spec.seqLen, ids: ctx.snapshot.train.map((e) => e.id), contributors: ctx.snapshot.train.map((e) => e.contributor), checkpoints: gradSteps.map((s) => ({ step: s, lr: learningRate(settings, s - 1) })) }, null, 2),
  );
  const metrics = evaluateAdapter(model, adapter, heldOutStream, ctx, spec);
  // The configuration's canonical bytes are kept (and published) with the weights: their hash is the registered configHash.
  const config = Buffer.from(canonicalJson({ spec, base: base.hash, trainingSetRoot: ctx.snapshot.root, settings }));
  writeFileSync(join(ctx.dir, "config.json"), config);
  const configHash = sha256Hex(config);
  const bytes = encodeWeights({ format: "poa-lm/1", kind: "adapter", config: model.config, lora: spec.lora, base: base.hash, meta: { configHash, steps: settings.steps } }, adapter.params);
  const artifactPath = join(ctx.dir, "adapter.poalm");
  writeAtomic(artifactPath, [bytes]);
  const metricsJson = canonicalJson(metrics);
  writeFileSync(join(ctx.dir, "eval.json"), metricsJson);
  return { artifactPath, artifactHash: sha256Hex(bytes), configHash, metrics, metricsHash: sha256Hex(Buffer.from(metricsJson)) };
}

/** Held-out loss and perplexity, base against adapter, and three sample continuations of held-out openings. */
function evaluateAdapter(model: Transformer, adapter: Adapter, heldOut: Int32Array, ctx: JobContext, spec: LoraJobSpec): EvalReport {
  const seqLen = Math.min(spec.seqLen, model.config.context);
  const baseLoss = evaluateLoss(model, null, heldOut, seqLen);
  const loss = evaluateLoss(model, adapter, heldOut, seqLen);
  const prompts = ctx.snapshot.heldOut.slice(0, 3).map((e) => new TextDecoder().decode(ctx.content(e.contentHash)).slice(0, 32));
  const sample = (a: Adapter | null, p: string) => generate(model, a, p, { maxTokens: 80, temperature: 0.7, topP: 0.95, seed: spec.seed }).text;
  return {
    heldOutContributions: ctx.snapshot.heldOut.length,
    heldOutTokens: heldOut.length,
    baseLoss,
    loss,
    basePerplexity: Math.exp(baseLoss),
    perplexity: Math.exp(loss),
    samples: prompts.map((p) => ({ prompt: p, base: sample(null, p), tuned: sample(adapter, p) })),
  };
}
