// A small specialized model over a datanet of labeled text records, with its
// influence index: train, save, load, and attribute a prediction to the records
// (and so to the contributors) that drove it. The default estimator is the
// influence function with Kronecker-factored curvature (influence-function.ts);
// TracIn-CP (tracin.ts) remains an option. bench/RESULTS.md compares them.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_TEXT_DIM, textFeatures } from "./features.js";
import { SoftmaxModel, train, type Checkpoint, type Example, type TrainOptions } from "./model.js";
import { InfluenceFunctionIndex, type InfluenceFunctionOptions } from "./influence-function.js";
import { positiveShares, TracInIndex } from "./tracin.js";

export type InfluenceMethod = "influence-function" | "tracin";

/** An influence estimator over the training records. */
export interface InfluenceEstimator {
  influence(query: Example): Float64Array;
  selfInfluence(): Float64Array;
}

/** Training defaults: enough epochs and L2 to come close to the regularized optimum (bench/RESULTS.md). */
export const CLASSIFIER_TRAINING = { epochs: 20, lr: 0.5, decay: 0.5, l2: 3e-3 } as const;

export interface LabeledRecord {
  /** Contribution id (content hash). */
  id: string;
  contributor: string;
  /** The datanet the record comes from (a model may train on several). */
  datanet?: number;
  text: string;
  label: string;
}

export interface Classifier {
  labels: string[];
  records: { id: string; contributor: string; datanet?: number }[];
  model: SoftmaxModel;
  method: InfluenceMethod;
  index: InfluenceEstimator;
  dim: number;
}

export interface ClassifierOptions extends Partial<Omit<TrainOptions, "classes" | "width">> {
  dim?: number;
  /** The influence estimator (default "influence-function"). */
  method?: InfluenceMethod;
  /** Projection dimension for TracIn (default 128). */
  projection?: number;
  /** Curvature settings for the influence function. */
  curvature?: InfluenceFunctionOptions;
}

export type TrainedClassifier = Classifier & { checkpoints: Checkpoint[] };

export function trainClassifier(records: LabeledRecord[], o: ClassifierOptions = {}): TrainedClassifier {
  if (records.length === 0) throw new Error("no labeled records to train on");
  const dim = o.dim ?? DEFAULT_TEXT_DIM;
  const labels = [...new Set(records.map((r) => r.label))].sort();
  if (labels.length < 2) throw new Error(`a classifier needs at least two labels, found ${JSON.stringify(labels)}`);
  const examples: Example[] = records.map((r) => ({ x: textFeatures(r.text, dim), y: labels.indexOf(r.label) }));
  const { model, checkpoints } = train(examples, { ...CLASSIFIER_TRAINING, ...o, classes: labels.length, width: dim + 1 });
  const method = o.method ?? "influence-function";
  const ids = records.map((r) => r.id);
  const index = method === "tracin"
    ? TracInIndex.build(ids, examples, checkpoints, labels.length, dim + 1, o.projection ?? 128, o.seed ?? 7)
    : InfluenceFunctionIndex.build(ids, examples, model, o.curvature);
  return { labels, records: records.map((r) => ({ id: r.id, contributor: r.contributor, datanet: r.datanet })), model, method, index, dim, checkpoints };
}

export interface ClassifiedInference {
  label: string;
  probabilities: Record<string, number>;
  /** TracIn influence of every training record on this prediction. */
  influence: Float64Array;
  /** Positive influence summed per contributor address. */
  contributors: Map<string, number>;
  /** Positive influence summed per datanet (records without a datanet are left out). */
  datanets: Map<number, number>;
}

/** Predicts a label and attributes the prediction (the predicted label is the one explained). */
export function classify(c: Classifier, text: string, exclude?: Set<string>): ClassifiedInference {
  const x = textFeatures(text, c.dim);
  const p = c.model.probabilities(x);
  const y = p.indexOf(Math.max(...p));
  const influence = c.index.influence({ x, y });
  if (exclude) c.records.forEach((r, i) => exclude.has(r.id) && (influence[i] = 0));
  return {
    label: c.labels[y],
    probabilities: Object.fromEntries(c.labels.map((l, i) => [l, p[i]])),
    influence,
    contributors: positiveShares(influence, (i) => c.records[i].contributor),
    datanets: new Map([...positiveShares(influence, (i) => String(c.records[i].datanet))].filter(([d]) => d !== "undefined").map(([d, v]) => [Number(d), v])),
  };
}

/** The final weights, the influence index (TracIn's holds every checkpoint's weights and learning rate) and the labels. */
export function saveClassifier(dir: string, c: TrainedClassifier): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.f64"), new Uint8Array(c.model.weights.buffer, c.model.weights.byteOffset, c.model.weights.byteLength));
  if (c.index instanceof TracInIndex) c.index.save(join(dir, "tracin"), c.checkpoints.map((k) => k.weights));
  else (c.index as InfluenceFunctionIndex).save(join(dir, "influence"));
  writeFileSync(join(dir, "classifier.json"), JSON.stringify({ labels: c.labels, dim: c.dim, method: c.method, records: c.records }));
}

export function loadClassifier(dir: string): Classifier {
  const meta = JSON.parse(readFileSync(join(dir, "classifier.json"), "utf8"));
  const method: InfluenceMethod = meta.method ?? "tracin"; // saved before the influence function existed
  const index = method === "tracin" ? TracInIndex.load(join(dir, "tracin")) : InfluenceFunctionIndex.load(join(dir, "influence"));
  const { classes, width } = index.meta;
  const b = readFileSync(join(dir, "model.f64"));
  const weights = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  if (weights.length !== classes * width) throw new Error(`${dir}/model.f64 holds ${weights.length} weights, expected ${classes * width}`);
  return { labels: meta.labels, dim: meta.dim, records: meta.records, model: new SoftmaxModel(classes, width, weights), method, index };
}
