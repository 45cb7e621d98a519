// Attribution of served completions: which training contributions shaped an answer.
//
// Everything here is derived from L1 and from content checked against hashes
// registered on L1, so any node (or validator) that serves the same adapter
// computes the same scores:
//   - the adapter's training set is the ModelRegistry's TrainingSet event; the
//     DatanetRegistry gives each contribution's datanet, content hash and
//     contributor; the contents come by hash from a sequencer's datanet API;
//   - the adapter's weights are the registered artifact (checked by the cache).
// Two engines score a completion, and their normalized scores are mixed half
// and half (attribution/receipts.ts combineScores):
//   1. token runs (attribution/tokens): the answer's word runs found verbatim
//      in a suffix index of the training texts, weighted by their information;
//   2. gradient influence in LoRA space: the loss gradient of the answer over
//      the adapter's parameters only, projected to 64 dimensions, against each
//      training text's projected gradient at the same weights (TracIn with one
//      checkpoint, the served one). The adapter's few thousand parameters make
//      this cheap: one forward and backward pass per answer. ModelFactory's
//      intermediate checkpoints stay with the job: a third party could not
//      check them against anything on L1.
// Token runs are weighed against general text: a token carries at most its
// information under a background model of the base model's pretraining text
// (attribution/tokens/background.ts), since what the base model read shaped
// every adapter alike and is no contribution's evidence.
// Token runs are precise but rare for a character-level model's free text;
// gradients always say something. The index (suffix array + gradients) is
// built once per model and kept under the node's cache directory.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Contract } from "ethers";
import { contributionHash } from "../attribution/datanet/content.js";
import { registryAt } from "../attribution/datanet/registry.js";
import { positiveShares, projection } from "../attribution/influence/tracin.js";
import { combineScores, type ContributorScores } from "../attribution/receipts.js";
import { attributeTokens } from "../attribution/tokens/attribute.js";
import { BackgroundModel } from "../attribution/tokens/background.js";
import { buildIndex, INDEX_FORMAT, indexFormat, SuffixIndex } from "../attribution/tokens/suffix-index.js";
import { ATTRIBUTION_DIM, projectedGradients } from "../models/factory/lora-job.js";
import { basePreset, pretrainingDocuments } from "../models/base-model.js";
import { sha256Hex } from "../models/lm/weights.js";
import { encode } from "../models/lm/tokenizer.js";
import type { Adapter, Transformer } from "../models/lm/transformer.js";

/** Window (characters) over which a training text's gradient is taken, and the projection's seed. */
export const GRADIENT_WINDOW = 64;
export const PROJECTION_SEED = 1;

export interface TrainingDocument {
  contributionId: number;
  datanetId: number;
  contentHash: string;
  contributor: string;
  text: string;
}

/** The training documents of model `id`, from L1 and the datanet API, each checked against its registered hash. */
export async function trainingDocuments(modelRegistry: Contract, id: number, datanetsApi: string): Promise<TrainingDocument[]> {
  // The last one: an entry taken over by an earlier commitment (ModelReassigned) carries its owner's training set.
  const event = (await modelRegistry.queryFilter(modelRegistry.filters.TrainingSet(id))).at(-1);
  if (!event || !("args" in event)) throw new Error(`model ${id} has no TrainingSet event`);
  const ids = (event.args.contributionIds as bigint[]).map(Number);
  const datanets = registryAt(await modelRegistry.datanets(), modelRegistry.runner);
  const docs: TrainingDocument[] = [];
  for (const contributionId of ids) {
    const c = await datanets.contribution(contributionId);
    const res = await fetch(`${datanetsApi}/v1/datanets/${c.datanetId}/contributions/${c.contentHash}/content`);
    if (!res.ok) throw new Error(`contribution ${contributionId}: the datanet API answered ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (contributionHash(bytes) !== c.contentHash) throw new Error(`contribution ${contributionId}: the served bytes do not match its registered hash`);
    docs.push({ contributionId, datanetId: Number(c.datanetId), contentHash: c.contentHash, contributor: String(c.contributor).toLowerCase(), text: new TextDecoder().decode(bytes) });
  }
  return docs;
}

/**
 * The background model of base preset `presetName`'s pretraining text, its
 * suffix index built once under `cacheDir` (keyed by the text's hash and the
 * index format; meta.json, written last, says it is complete).
 */
export function pretrainingBackground(cacheDir: string, presetName: string): BackgroundModel {
  const docs = pretrainingDocuments(basePreset(presetName).corpusChars);
  const hash = sha256Hex(new TextEncoder().encode(docs.join("\u0000"))).slice(0, 16);
  const dir = join(cacheDir, `background-${presetName}-${hash}`);
  if (indexFormat(dir) !== INDEX_FORMAT) buildIndex(dir, docs.map((text, i) => ({ id: `pretraining-${i}`, contributor: "", text })));
  return new BackgroundModel(new SuffixIndex(dir));
}

/** Scores of one completion: per contributor (what a receipt carries) and per contribution (what explains it). */
export interface CompletionAttribution {
  contributors: ContributorScores;
  contributions: { contributionId: number; datanetId: number; contributor: string; tokens: number; gradient: number }[];
  /** Word runs of the answer found in the training texts. */
  spans: string[];
}

/** One model's attribution index: the suffix array of its training texts and their projected gradients. */
export class ModelAttribution {
  private projection?: Float32Array;

  private constructor(
    readonly docs: Omit<TrainingDocument, "text">[],
    private readonly index: SuffixIndex,
    private readonly grads: Float32Array,
    private readonly background?: BackgroundModel,
  ) {}

  /** Opens the index in `dir`, building it first from `docs()` when it is missing; token information is capped by `background` (pretrainingBackground). */
  static async open(dir: string, base: Transformer, adapter: Adapter, docs: () => Promise<TrainingDocument[]>, background?: BackgroundModel): Promise<ModelAttribution> {
    const ready = join(dir, "attribution.json");
    if (existsSync(ready) && indexFormat(join(dir, "suffix")) !== INDEX_FORMAT) rmSync(dir, { recursive: true }); // built by an older version: rebuild
    if (!existsSync(ready)) {
      const all = await docs();
      mkdirSync(dir, { recursive: true });
      buildIndex(join(dir, "suffix"), all.map((d) => ({ id: d.contentHash, contributor: d.contributor, text: d.text })));
      const texts = all.map((d) => Int32Array.from(encode(d.text, true)));
      const grads = projectedGradients(base, adapter, texts, Math.min(GRADIENT_WINDOW, base.config.context), PROJECTION_SEED);
      writeFileSync(join(dir, "grads.f32"), new Uint8Array(grads.buffer));
      // Written last: its presence says the rest is complete.
      writeFileSync(`${ready}.tmp`, JSON.stringify({ docs: all.map(({ text: _t, ...d }) => d) }));
      renameSync(`${ready}.tmp`, ready);
    }
    const meta = JSON.parse(readFileSync(ready, "utf8")) as { docs: Omit<TrainingDocument, "text">[] };
    const raw = readFileSync(join(dir, "grads.f32"));
    const grads = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    if (grads.length !== meta.docs.length * ATTRIBUTION_DIM) throw new Error(`${dir}/grads.f32 holds ${grads.length / ATTRIBUTION_DIM} gradients for ${meta.docs.length} documents: delete the directory to rebuild it`);
    return new ModelAttribution(meta.docs, new SuffixIndex(join(dir, "suffix")), grads, background);
  }

  /** Attributes `output`, generated after `prompt` by `adapter` on `base`. */
  attribute(base: Transformer, adapter: Adapter, prompt: string, output: string): CompletionAttribution {
    const tokens = attributeTokens(this.index, output, { background: this.background });
    // The answer's gradient: the loss of the last context window ending at the answer's end.
    const all = encode(prompt + output);
    const T = Math.min(base.config.context, all.length - 1);
    const influence = new Float64Array(this.docs.length);
    if (T >= 1 && output.length > 0) {
      this.projection ??= projection(adapter.params.length, ATTRIBUTION_DIM, PROJECTION_SEED);
      const g = projectedGradients(base, adapter, [Int32Array.from(all.slice(all.length - T - 1))], T, PROJECTION_SEED, 1, this.projection);
      for (let i = 0; i < this.docs.length; i++) {
        let s = 0;
        for (let k = 0; k < ATTRIBUTION_DIM; k++) s += g[k] * this.grads[i * ATTRIBUTION_DIM + k];
        influence[i] = s;
      }
    }
    const byGradient = positiveShares(influence, (i) => this.docs[i].contributor);
    const contributors = combineScores([
      { weight: 0.5, scores: tokens.contributors },
      { weight: 0.5, scores: byGradient },
    ]);
    const contributions = this.docs
      .map((d, i) => ({ contributionId: d.contributionId, datanetId: d.datanetId, contributor: d.contributor, tokens: tokens.documents.get(d.contentHash) ?? 0, gradient: Math.max(0, influence[i]) }))
      .filter((c) => c.tokens > 0 || c.gradient > 0);
    return { contributors, contributions, spans: tokens.spans.map((s) => s.text) };
  }

  close(): void {
    this.index.close();
  }
}
