// A full fine-tune of the specialized model (softmax regression over hashed text
// features, attribution/influence/) on json datanets of {text, label} records.
// It trains in seconds, so an interrupted classifier job simply starts over;
// its per-epoch checkpoints are kept with the job for TracIn-CP, and its
// influence-function index for attribution at serving time.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson } from "../../attribution/datanet/content.js";
import { classify, saveClassifier, trainClassifier, type LabeledRecord } from "../../attribution/influence/classifier.js";
import { TracInIndex } from "../../attribution/influence/tracin.js";
import { textFeatures } from "../../attribution/influence/features.js";
import { SoftmaxModel } from "../../attribution/influence/model.js";
import { sha256Hex } from "../lm/weights.js";
import type { ClassifierJobSpec } from "./spec.js";
import type { SnapshotEntry } from "./training-set.js";
import { JobCancelled, type JobContext, type JobOutcome, type EvalReport } from "./lora-job.js";

const MAGIC = Buffer.from([0x50, 0x4f, 0x41, 0x43, 0x4c, 0, 1, 0]); // "POACL\0\1\0"

/** The classifier's weights file: magic, u32 header length, JSON header (labels, dim), float64 LE weights (classes × (dim + 1)). */
export function encodeClassifier(labels: string[], dim: number, weights: Float64Array): Buffer {
  let json = JSON.stringify({ format: "poa-classifier/1", labels, dim });
  while (Buffer.byteLength(json) % 8 !== 4) json += " "; // weights start 8-byte aligned
  const len = Buffer.alloc(4);
  len.writeUInt32LE(Buffer.byteLength(json));
  return Buffer.concat([MAGIC, len, Buffer.from(json), Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength)]);
}

export function labeledRecords(entries: SnapshotEntry[], content: (hash: string) => Uint8Array, spec: ClassifierJobSpec): LabeledRecord[] {
  return entries.flatMap((e) => {
    const r = JSON.parse(new TextDecoder().decode(content(e.contentHash)));
    const text = r[spec.textField], label = r[spec.labelField];
    return typeof text === "string" && (typeof label === "string" || typeof label === "number" || typeof label === "boolean")
      ? [{ id: e.contentHash, contributor: e.contributor, datanet: e.datanetId, text, label: String(label) }]
      : [];
  });
}

export function runClassifierJob(spec: ClassifierJobSpec, ctx: JobContext): JobOutcome {
  const train = labeledRecords(ctx.snapshot.train, ctx.content, spec);
  const heldOut = labeledRecords(ctx.snapshot.heldOut, ctx.content, spec);
  if (train.length < 2) throw new Error(`only ${train.length} training records have a string "${spec.textField}" and a "${spec.labelField}"`);
  if (ctx.cancelled()) throw new JobCancelled();
  ctx.report({ type: "progress", step: 0, steps: spec.epochs, loss: NaN, lr: spec.learningRate, tokensPerSecond: 0 });
  const t0 = performance.now();
  const trained = trainClassifier(train, { epochs: spec.epochs, lr: spec.learningRate, l2: spec.l2, seed: spec.seed });
  const seconds = (performance.now() - t0) / 1000;
  // The training loss after each epoch, from its checkpoint: the curve the page draws.
  for (const cp of trained.checkpoints) {
    const m = new SoftmaxModel(trained.model.classes, trained.model.width, cp.weights);
    let loss = 0;
    for (const r of train) loss += m.loss({ x: textFeatures(r.text, trained.dim), y: trained.labels.indexOf(r.label) });
    ctx.report({ type: "progress", step: cp.epoch + 1, steps: spec.epochs, loss: loss / train.length, lr: cp.lr, tokensPerSecond: (train.length * spec.epochs) / seconds });
  }
  if (ctx.cancelled()) throw new JobCancelled();
  ctx.report({ type: "phase", phase: "evaluating" });
  const dir = join(ctx.dir, "classifier");
  mkdirSync(dir, { recursive: true });
  saveClassifier(dir, trained);
  TracInIndex.build(train.map((r) => r.id), train.map((r) => ({ x: textFeatures(r.text, trained.dim), y: trained.labels.indexOf(r.label) })), trained.checkpoints, trained.labels.length, trained.dim + 1, 128, spec.seed + 1).save(join(ctx.dir, "tracin"), trained.checkpoints.map((k) => k.weights));
  const metrics = evaluate(trained, heldOut, train);
  // Published with the weights: a serving node retrains from it and checks the result against the artifact hash.
  const config = Buffer.from(canonicalJson({ spec, trainingSetRoot: ctx.snapshot.root }));
  writeFileSync(join(ctx.dir, "config.json"), config);
  const configHash = sha256Hex(config);
  const bytes = encodeClassifier(trained.labels, trained.dim, trained.model.weights);
  const artifactPath = join(ctx.dir, "classifier.poacl");
  writeFileSync(artifactPath, bytes);
  const metricsJson = canonicalJson(metrics);
  writeFileSync(join(ctx.dir, "eval.json"), metricsJson);
  return { artifactPath, artifactHash: sha256Hex(bytes), configHash, metrics, metricsHash: sha256Hex(Buffer.from(metricsJson)) };
}

function evaluate(c: ReturnType<typeof trainClassifier>, heldOut: LabeledRecord[], train: LabeledRecord[]): EvalReport {
  let correct = 0, loss = 0;
  for (const r of heldOut) {
    const out = classify(c, r.text);
    if (out.label === r.label) correct++;
    loss -= Math.log(Math.max(out.probabilities[r.label] ?? 0, 1e-12));
  }
  const counts = new Map<string, number>();
  for (const r of train) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
  const majority = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
  const n = Math.max(1, heldOut.length);
  return {
    heldOutContributions: heldOut.length,
    loss: loss / n,
    accuracy: correct / n,
    baselineAccuracy: heldOut.filter((r) => r.label === majority).length / n,
  };
}
