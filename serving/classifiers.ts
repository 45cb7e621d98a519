// Serving a ModelFactory classifier (the "specialized model"), attributed by
// TracIn over its training checkpoints.
//
// The checkpoints are not taken on trust: the node fetches the model's
// configuration (whose SHA-256 must be the registered configHash), reads the
// training set from L1 (TrainingSet event, contents checked by their hashes,
// their Merkle root checked against the registered trainingSetRoot) and
// retrains. Training is deterministic and takes seconds, so the retrained
// weights must hash to the registered artifact hash; the per-epoch checkpoints
// that came out of that same run are then the model's own, and TracIn-CP over
// them is what any node would compute.
import { createHash } from "node:crypto";
import { classify, trainClassifier, type TrainedClassifier } from "../attribution/influence/classifier.js";
import { encodeClassifier, labeledRecords } from "../models/factory/classifier-job.js";
import { classifierJobSchema, type ClassifierJobSpec } from "../models/factory/spec.js";
import { trainingSetRoot, type RegisteredModel } from "../models/registry.js";
import type { TrainingDocument } from "./attribution.js";

const sha256Hex = (b: Uint8Array) => `0x${createHash("sha256").update(b).digest("hex")}`;

/** A classifier reproduced from its registered configuration and training set. */
export interface ServedClassifier {
  classifier: TrainedClassifier;
  records: { contributionId: number; datanetId: number; contributor: string }[];
}

/** Retrains model `entry` from `configBytes` and `docs` (its training set); throws, naming the mismatch, when anything differs from the registry. */
export function reproduceClassifier(entry: Pick<RegisteredModel, "id" | "configHash" | "artifactHash" | "trainingSetRoot">, configBytes: Uint8Array, docs: TrainingDocument[]): ServedClassifier {
  if (sha256Hex(configBytes) !== entry.configHash) throw new Error(`model ${entry.id}: the served configuration hashes to ${sha256Hex(configBytes)}, the registry says ${entry.configHash}`);
  const config = JSON.parse(new TextDecoder().decode(configBytes)) as { spec: unknown; trainingSetRoot: string };
  const spec = classifierJobSchema.parse(config.spec) as ClassifierJobSpec;
  const root = trainingSetRoot(docs.map((d) => ({ id: d.contributionId, contentHash: d.contentHash })));
  if (root !== entry.trainingSetRoot || config.trainingSetRoot !== entry.trainingSetRoot) throw new Error(`model ${entry.id}: its training set's root ${root} is not the registered ${entry.trainingSetRoot}`);
  // The job trained on its split in contribution-id order.
  const sorted = [...docs].sort((a, b) => a.contributionId - b.contributionId);
  const entries = sorted.map((d) => ({ id: d.contributionId, datanetId: d.datanetId, contentHash: d.contentHash, contributor: d.contributor }));
  const content = new Map(sorted.map((d) => [d.contentHash, new TextEncoder().encode(d.text)]));
  const train = labeledRecords(entries, (h) => content.get(h)!, spec);
  const classifier = trainClassifier(train, { epochs: spec.epochs, lr: spec.learningRate, l2: spec.l2, seed: spec.seed, method: "tracin" });
  const hash = sha256Hex(encodeClassifier(classifier.labels, classifier.dim, classifier.model.weights));
  if (hash !== entry.artifactHash) throw new Error(`model ${entry.id}: retraining from its registered configuration gives weights ${hash}, not the registered ${entry.artifactHash}`);
  const byHash = new Map(docs.map((d) => [d.contentHash, d]));
  return { classifier, records: classifier.records.map((r) => ({ contributionId: byHash.get(r.id)!.contributionId, datanetId: byHash.get(r.id)!.datanetId, contributor: byHash.get(r.id)!.contributor })) };
}

export interface Classification {
  label: string;
  probabilities: Record<string, number>;
  contributors: [string, number][];
  contributions: { contributionId: number; datanetId: number; contributor: string; influence: number }[];
}

/** Classifies `input` and attributes the predicted label by TracIn-CP. */
export function classifyServed(m: ServedClassifier, input: string): Classification {
  const out = classify(m.classifier, input);
  return {
    label: out.label,
    probabilities: out.probabilities,
    contributors: [...out.contributors],
    contributions: m.records.map((r, i) => ({ ...r, influence: out.influence[i] })).filter((c) => c.influence > 0),
  };
}
