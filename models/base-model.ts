// The base language model: pretrained here on public-domain text that an
// installed package ships, with a fixed seed and deterministic batches, so the
// same inputs give the same bytes.
//
// The "small" base (npm start, the demo) takes ~30 minutes of both cores to
// pretrain, so its weights are committed (models/base/small.poalm, 0.46 MB) with
// a manifest of their SHA-256 and the hash of the weights after the first
// steps; `npm run pretrain` reproduces the file byte for byte, and a test
// replays the first steps against the manifest. Other presets (the tests' tiny
// one) are trained on demand and cached under build/models/base/<input hash>/,
// as the circuit artifacts are; the input hash covers the preset, the corpus
// and the training code.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { mobyDick, speeches } from "./corpus.js";
import { encode, foldText, VOCAB_SIZE } from "./lm/tokenizer.js";
import { Transformer, initBase, type LMConfig } from "./lm/transformer.js";
import { freshOptimizer, trainStep, evaluateLoss, type TrainSettings, type StepReport } from "./lm/train.js";
import { encodeWeights, sha256Hex, loadBase } from "./lm/weights.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export interface BasePreset {
  name: string;
  config: LMConfig;
  train: TrainSettings;
  /** Characters of pretraining text (from the start of the corpus, held-out tail excluded). */
  corpusChars: number;
  /** Committed weights: models/base/<name>.poalm with its manifest <name>.json. */
  committed?: boolean;
}

export const BASE_PRESETS: Record<string, BasePreset> = {
  /** npm start and the demo: 121k parameters, 2.5M tokens of pretraining (committed weights). */
  small: {
    name: "small",
    config: { vocab: VOCAB_SIZE, context: 128, dim: 64, layers: 2, heads: 4, hidden: 256 },
    train: { steps: 2400, batchSize: 8, seqLen: 128, lr: 3e-3, warmup: 50, weightDecay: 0.01, clip: 1, seed: 1 },
    corpusChars: 4_000_000,
    committed: true,
  },
  /** Tests: seconds to train. */
  tiny: {
    name: "tiny",
    config: { vocab: VOCAB_SIZE, context: 32, dim: 32, layers: 1, heads: 2, hidden: 64 },
    train: { steps: 120, batchSize: 8, seqLen: 32, lr: 1e-2, warmup: 10, weightDecay: 0.01, clip: 1, seed: 1 },
    corpusChars: 200_000,
  },
};

const texts = new Map<number, { train: Int32Array; heldOut: Int32Array; hash: string }>();

/**
 * The pretraining text as the base model read it, one string per document
 * (Moby Dick, then the addresses in order), cut where pretrainingText cuts:
 * the text that token attribution treats as general (serving/attribution.ts).
 */
export function pretrainingDocuments(chars: number): string[] {
  const out: string[] = [];
  let left = chars;
  for (const d of [mobyDick(), ...speeches().map((s) => s.text)]) {
    if (left <= 0) break;
    const folded = foldText(d); // one id per character, then an end-of-text id
    out.push(folded.length < left ? folded : folded.slice(0, left));
    left -= folded.length + 1;
  }
  return out;
}

/** Moby Dick, then the addresses in order, folded to the vocabulary; the last 2% is held out. Memoized: the corpus is read once per process. */
export function pretrainingText(chars: number): { train: Int32Array; heldOut: Int32Array; hash: string } {
  const known = texts.get(chars);
  if (known) return known;
  const docs = [mobyDick(), ...speeches().map((s) => s.text)];
  const ids: number[] = [];
  for (const d of docs) {
    for (const id of encode(d, true)) ids.push(id);
    if (ids.length >= chars) break;
  }
  const all = Int32Array.from(ids.slice(0, chars));
  const cut = Math.floor(all.length * 0.98);
  const text = { train: all.subarray(0, cut), heldOut: all.subarray(cut), hash: sha256Hex(new Uint8Array(all.buffer)) };
  texts.set(chars, text);
  return text;
}

function sourceHash(): string {
  const h = createHash("sha256");
  const dir = join(ROOT, "models", "lm");
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest("hex");
}

export interface BaseModelInfo {
  preset: string;
  /** SHA-256 of base.poalm: the artifact hash registered on L1. */
  artifactHash: string;
  parameters: number;
  corpusHash: string;
  inputHash: string;
  heldOutLoss: number;
  trainTokens: number;
  trainSeconds: number;
  tokensPerSecond: number;
  /** SHA-256 of the weights after each of these steps: replaying the first steps checks the training code. */
  stepHashes: Record<string, string>;
}

export interface BaseModel {
  model: Transformer;
  bytes: Buffer;
  info: BaseModelInfo;
  path: string;
}

export function baseModelDir(preset: BasePreset, buildDir = join(ROOT, "build")): { dir: string; inputHash: string; corpus: ReturnType<typeof pretrainingText> } {
  const corpus = pretrainingText(preset.corpusChars);
  const inputHash = createHash("sha256").update(JSON.stringify(preset)).update(corpus.hash).update(sourceHash()).digest("hex");
  return { dir: join(buildDir, "models", "base", `${preset.name}-${inputHash.slice(0, 16)}`), inputHash, corpus };
}

export const COMMITTED_DIR = join(ROOT, "models", "base");

function readChecked(path: string, infoPath: string): { bytes: Buffer; info: BaseModelInfo } {
  const bytes = readFileSync(path);
  const info = JSON.parse(readFileSync(infoPath, "utf8")) as BaseModelInfo;
  if (sha256Hex(bytes) !== info.artifactHash) throw new Error(`${path} does not match its recorded hash ${info.artifactHash}`);
  return { bytes, info };
}

export function basePreset(name: string): BasePreset {
  const preset = BASE_PRESETS[name];
  if (!preset) throw new Error(`unknown base model preset ${name}; presets: ${Object.keys(BASE_PRESETS).join(", ")}`);
  return preset;
}

/** The preset's info when its weights are at hand (committed or cached), without training; null otherwise. */
export function availableBase(presetName: string, buildDir?: string): BaseModelInfo | null {
  const preset = basePreset(presetName);
  const committed = join(COMMITTED_DIR, `${preset.name}.json`);
  if (preset.committed && existsSync(committed)) return JSON.parse(readFileSync(committed, "utf8"));
  const info = join(baseModelDir(preset, buildDir).dir, "info.json");
  return existsSync(info) ? JSON.parse(readFileSync(info, "utf8")) : null;
}

/** The preset's base model: committed weights, else the build cache, else trained now and cached. */
export function ensureBaseModel(presetName = "small", o: { buildDir?: string; onStep?: (r: StepReport, total: number) => void } = {}): BaseModel {
  const preset = basePreset(presetName);
  if (preset.committed) {
    const path = join(COMMITTED_DIR, `${preset.name}.poalm`);
    if (existsSync(path)) {
      const { bytes, info } = readChecked(path, join(COMMITTED_DIR, `${preset.name}.json`));
      return { model: loadBase(bytes), bytes, info, path };
    }
  }
  const { dir } = baseModelDir(preset, o.buildDir);
  const path = join(dir, "base.poalm");
  if (existsSync(path) && existsSync(join(dir, "info.json"))) {
    const { bytes, info } = readChecked(path, join(dir, "info.json"));
    return { model: loadBase(bytes), bytes, info, path };
  }
  return pretrain(preset, o);
}

/** Pretrains the preset from its seed (ignoring any committed or cached weights) into the build cache. */
export function pretrain(preset: BasePreset, o: { buildDir?: string; onStep?: (r: StepReport, total: number) => void; hashSteps?: number[] } = {}): BaseModel {
  const { dir, inputHash, corpus } = baseModelDir(preset, o.buildDir);
  const path = join(dir, "base.poalm");
  const model = new Transformer(preset.config, initBase(preset.config, preset.train.seed));
  const trainee = { kind: "base" as const, model };
  const state = freshOptimizer(trainee);
  const hashSteps = new Set(o.hashSteps ?? [20]);
  const stepHashes: Record<string, string> = {};
  const t0 = performance.now();
  while (state.step < preset.train.steps) {
    const report = trainStep(trainee, state, corpus.train, preset.train); // not inside onStep?.(…): that would skip the step
    o.onStep?.(report, preset.train.steps);
    if (hashSteps.has(state.step)) stepHashes[state.step] = paramsHash(model.params);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const trainTokens = preset.train.steps * preset.train.batchSize * preset.train.seqLen;
  const heldOutLoss = evaluateLoss(model, null, corpus.heldOut, preset.train.seqLen);
  const bytes = encodeWeights({ format: "poa-lm/1", kind: "base", config: preset.config, meta: { preset: preset.name, corpusHash: corpus.hash, train: preset.train } }, model.params);
  const info: BaseModelInfo = {
    preset: preset.name,
    artifactHash: sha256Hex(bytes),
    parameters: model.params.length,
    corpusHash: corpus.hash,
    inputHash,
    heldOutLoss,
    trainTokens,
    trainSeconds,
    tokensPerSecond: trainTokens / trainSeconds,
    stepHashes,
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
  writeFileSync(join(dir, "info.json"), JSON.stringify(info, null, 2));
  return { model, bytes, info, path };
}

/** SHA-256 of parameters as float32 little-endian bytes. */
export function paramsHash(params: Float32Array): string {
  return sha256Hex(new Uint8Array(params.buffer, params.byteOffset, params.byteLength));
}
