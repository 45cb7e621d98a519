// The serving node's receipt thread: attribution of each completion (a forward
// and backward pass, and suffix-array reads), classifiers (reproduced by
// retraining, then TracIn) and EdDSA-Poseidon signing of bundles are CPU work
// that would stall the decode loop on the main thread.
// Requests are answered in the order they arrive, each by its `id`.
import { parentPort, workerData } from "node:worker_threads";
import { join } from "node:path";
import { JsonRpcProvider } from "ethers";
import { ContentStore } from "../attribution/datanet/store.js";
import { initCrypto } from "../core/crypto.js";
import { signBundle, type Receipt } from "../core/receipt.js";
import { ticketShape, type BatchParams } from "../core/params.js";
import { signTicketBundle, type TicketBundle } from "../core/ticket.js";
import { ensureBaseModel } from "../models/base-model.js";
import { loadAdapter } from "../models/lm/weights.js";
import { modelRegistryAt, type RegisteredModel } from "../models/registry.js";
import { classifyServed, reproduceClassifier, type Classification, type ServedClassifier } from "./classifiers.js";
import { ModelAttribution, pretrainingBackground, trainingDocuments, type CompletionAttribution } from "./attribution.js";
import type { BackgroundModel } from "../attribution/tokens/background.js";

export interface ReceiptWorkerData {
  rpcUrl: string;
  modelRegistryAddress: string;
  /** A sequencer API serving /v1/datanets/{id}/contributions/{hash}/content. */
  datanetsApi: string;
  base: string;
  buildDir?: string;
  /** The disk tier of adapter weights (by artifact hash), and where attribution indexes are kept. */
  cacheDir: string;
  indexDir: string;
  signingKey: Uint8Array;
  params: BatchParams;
  domain: bigint;
}

export type ReceiptWorkerRequest =
  | { id: number; type: "attribute"; model: number; artifactHash: string; prompt: string; output: string }
  | { id: number; type: "prepare"; model: number; artifactHash: string }
  | { id: number; type: "classify"; model: ClassifierEntry; input: string }
  | { id: number; type: "sign"; receipts: Receipt[] }
  | { id: number; type: "signTickets"; bundle: TicketBundle };

export type ClassifierEntry = Pick<RegisteredModel, "id" | "configHash" | "artifactHash" | "trainingSetRoot">;

export type ReceiptWorkerReply =
  | { id: number; ok: true; attribution?: Omit<CompletionAttribution, "contributors"> & { contributors: [string, number][] }; classification?: Classification; signature?: { R8x: bigint; R8y: bigint; S: bigint }; ms: number }
  | { id: number; ok: false; error: string };

const data = workerData as ReceiptWorkerData;
const provider = new JsonRpcProvider(data.rpcUrl, undefined, { cacheTimeout: -1 });
const registry = modelRegistryAt(data.modelRegistryAddress, provider);
const base = ensureBaseModel(data.base, { buildDir: data.buildDir });
const disk = new ContentStore(data.cacheDir);
const models = new Map<number, Promise<{ attribution: ModelAttribution; adapter: ReturnType<typeof loadAdapter> }>>();
let background: BackgroundModel | undefined; // of the base model's pretraining text, shared by every adapter
const crypto = initCrypto();

function model(id: number, artifactHash: string) {
  let m = models.get(id);
  if (!m) {
    m = (async () => {
      const adapter = loadAdapter(disk.get(artifactHash), base.model, base.info.artifactHash);
      background ??= pretrainingBackground(data.indexDir, data.base);
      const attribution = await ModelAttribution.open(join(data.indexDir, String(id)), base.model, adapter, () => trainingDocuments(registry, id, data.datanetsApi), background);
      return { attribution, adapter };
    })();
    models.set(id, m);
    m.catch(() => models.delete(id));
  }
  return m;
}

const classifiers = new Map<number, Promise<ServedClassifier>>();
function classifier(entry: ClassifierEntry): Promise<ServedClassifier> {
  let c = classifiers.get(entry.id);
  if (!c) {
    c = (async () => {
      const res = await fetch(`${data.datanetsApi}/v1/models/${entry.id}/config`);
      if (!res.ok) throw new Error(`model ${entry.id}: ${data.datanetsApi} has no configuration for it (HTTP ${res.status})`);
      const config = new Uint8Array(await res.arrayBuffer());
      return reproduceClassifier(entry, config, await trainingDocuments(registry, entry.id, data.datanetsApi));
    })();
    classifiers.set(entry.id, c);
    c.catch(() => classifiers.delete(entry.id));
  }
  return c;
}

let queue: Promise<unknown> = Promise.resolve();
parentPort!.on("message", (req: ReceiptWorkerRequest) => {
  queue = queue.then(async () => {
    const t0 = performance.now();
    try {
      if (req.type === "sign") {
        await crypto;
        const { signature } = await signBundle(data.signingKey, req.receipts, data.params, data.domain);
        parentPort!.postMessage({ id: req.id, ok: true, signature, ms: performance.now() - t0 } satisfies ReceiptWorkerReply);
        return;
      }
      if (req.type === "signTickets") {
        await crypto;
        const { signature } = await signTicketBundle(data.signingKey, req.bundle, data.params, ticketShape(data.params).treeDepth, data.domain);
        parentPort!.postMessage({ id: req.id, ok: true, signature, ms: performance.now() - t0 } satisfies ReceiptWorkerReply);
        return;
      }
      if (req.type === "classify") {
        const classification = classifyServed(await classifier(req.model), req.input);
        parentPort!.postMessage({ id: req.id, ok: true, classification, ms: performance.now() - t0 } satisfies ReceiptWorkerReply);
        return;
      }
      const m = await model(req.model, req.artifactHash);
      if (req.type === "prepare") return void parentPort!.postMessage({ id: req.id, ok: true, ms: performance.now() - t0 } satisfies ReceiptWorkerReply);
      const a = m.attribution.attribute(base.model, m.adapter, req.prompt, req.output);
      parentPort!.postMessage({ id: req.id, ok: true, attribution: { ...a, contributors: [...a.contributors] }, ms: performance.now() - t0 } satisfies ReceiptWorkerReply);
    } catch (e) {
      parentPort!.postMessage({ id: req.id, ok: false, error: (e as Error).message ?? String(e) } satisfies ReceiptWorkerReply);
    }
  });
});
