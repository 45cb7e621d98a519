// An OpenLoRA serving node: one base model in memory, adapters resolved by
// their ModelRegistry id, weights fetched by hash from a sequencer's
// /v1/models/{id}/artifact into a local content store (the disk tier) and
// checked against the registered hash, batched decoding behind an
// OpenAI-compatible API.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Contract, JsonRpcProvider } from "ethers";
import { loadInstance } from "../core/params.js";
import { ReceiptIssuer, ReceiptThread, type PaymentConfig } from "./receipts.js";
import type { Registry } from "prom-client";
import { ContentStore } from "../attribution/datanet/store.js";
import { contributionHash } from "../attribution/datanet/content.js";
import { ensureBaseModel } from "../models/base-model.js";
import { listModels, modelRegistryAt, readModel, type RegisteredModel } from "../models/registry.js";
import type { ServingPolicy } from "./pricing.js";
import { AdapterCache, ServeError, type AdapterSource } from "./adapter-cache.js";
import { createServingApp } from "./api.js";
import { ServingEngine } from "./engine.js";
import { ServingMetrics } from "./metrics.js";

export interface ServingConfig {
  rpcUrl: string;
  modelRegistryAddress: string;
  /** A sequencer API that serves /v1/models/{id}/artifact. */
  artifactsApi: string;
  /** Base model preset (models/base-model.ts). */
  base: string;
  /** The disk tier: a content store of adapter weights. */
  cacheDir: string;
  port: number;
  host?: string;
  maxBatch: number;
  maxQueue: number;
  maxAdapters: number;
  /** Bytes of resident adapter weights. */
  adapterMemory: number;
  /** Adapter ids loaded at start. */
  preload?: number[];
  /** Share a Prometheus registry (the sequencer's, in one process). */
  registry?: Registry;
  /** The node as a provider: every answer is attributed and paid by a signed receipt. */
  payments?: ServingPayments;
}

export interface ServingPayments {
  /** The sequencer that takes the receipts and serves the datanets' contents. */
  sequencerApi: string;
  rollupAddress: string;
  /** Circuit instance of the rollup (circuits/circuits.json): bundle size, K, slots. */
  instance: string;
  /** The provider's L1 address and the Baby Jubjub key its deposit registered. */
  providerAddress: string;
  signingKey: Uint8Array;
  bundleWaitMs?: number;
  crashAt?: PaymentConfig["crashAt"];
  /** The operator's allow-list and caps (serving/pricing.ts): nothing else is served or paid. */
  policy: ServingPolicy;
  /** Models whose registered price the operator accepts at start (an owner's raise after admission). */
  acceptPrices?: number[];
  /** Target face value of payment tickets (PaymentConfig.ticketFace; 0: exact receipts only). */
  ticketFace?: bigint;
}

/** Defaults of `poa serve` and of the node `poa start` runs beside the sequencer. */
export const SERVING_DEFAULTS = { base: "small", maxBatch: 16, maxQueue: 64, maxAdapters: 64, adapterMemory: 256 * 2 ** 20 } as const;

export interface ServingNode {
  url: string;
  engine: ServingEngine;
  cache: AdapterCache;
  payments?: ReceiptIssuer;
  close(): Promise<void>;
}

export async function startServingNode(cfg: ServingConfig): Promise<ServingNode> {
  const provider = new JsonRpcProvider(cfg.rpcUrl, undefined, { pollingInterval: 1000, cacheTimeout: -1 });
  const registry = modelRegistryAt(cfg.modelRegistryAddress, provider);
  const base = ensureBaseModel(cfg.base);
  const disk = new ContentStore(cfg.cacheDir);
  const metrics = new ServingMetrics(cfg.registry);
  const source: AdapterSource = {
    async entry(id) {
      if (id > Number(await registry.modelCount())) return undefined;
      return readModel(registry, id);
    },
    async bytes(entry: RegisteredModel) {
      if (disk.has(entry.artifactHash)) return disk.read(entry.artifactHash);
      const res = await fetch(`${cfg.artifactsApi}/v1/models/${entry.id}/artifact`);
      if (!res.ok) throw new Error(`${cfg.artifactsApi} has no weights for model ${entry.id} (HTTP ${res.status})`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const hash = contributionHash(bytes);
      if (hash !== entry.artifactHash) throw new Error(`the fetched weights are corrupted: they hash to ${hash}, the registry says ${entry.artifactHash}`);
      disk.put(bytes);
      return bytes;
    },
  };
  const cache = new AdapterCache({ model: base.model, artifactHash: base.info.artifactHash }, source, { maxAdapters: cfg.maxAdapters, maxBytes: cfg.adapterMemory }, (event, ms) => {
    if (event === "loaded") metrics.coldLoadSeconds.observe((ms ?? 0) / 1000);
    else metrics.cacheEvents.inc({ event });
    metrics.residentAdapters.set(cache.residentIds().length);
  });
  const engine = new ServingEngine(cache, { maxBatch: cfg.maxBatch, maxQueue: cfg.maxQueue }, {
    step: (rows, ms) => {
      metrics.batchRows.observe(rows);
      metrics.stepSeconds.observe(ms / 1000);
    },
    firstToken: (ms) => metrics.timeToFirstToken.observe(ms / 1000),
  });
  if (cfg.preload?.length) {
    await cache.preload(cfg.preload).catch((e) => {
      throw new Error(`--preload: ${e instanceof ServeError ? e.message : String(e)}`);
    });
  }
  let listed: { at: number; models: RegisteredModel[] } | undefined;
  const servable = async () => {
    if (!listed || Date.now() - listed.at > 5_000) {
      const all = await listModels(registry);
      const bases = new Set(all.filter((m) => m.kind === "base" && m.artifactHash === base.info.artifactHash).map((m) => m.id));
      const adapters = all.filter((m) => m.kind === "adapter" && m.status === "active" && bases.has(m.parent));
      // Classifiers need no base; they are served with payments (their attribution runs on the receipt thread).
      const models = [...adapters, ...(cfg.payments ? all.filter((m) => m.kind === "classifier" && m.status === "active") : [])].sort((a, b) => a.id - b.id);
      // A paying node lists what its operator admits, at the price it charges (serving/pricing.ts).
      const prices = payments?.prices;
      listed = { at: Date.now(), models: prices ? models.filter((m) => prices.allowed(m) && (prices.pinned(m.id) !== undefined || m.pricePer1kTokens <= prices.policy.maxPricePer1kTokens)) : models };
    }
    return listed.models;
  };
  let payments: ReceiptIssuer | undefined;
  let thread: ReceiptThread | undefined;
  if (cfg.payments) {
    const p = cfg.payments;
    const params = loadInstance(p.instance).params;
    const domain = BigInt(await new Contract(p.rollupAddress, ["function domain() view returns (uint256)"], provider).domain());
    thread = new ReceiptThread({
      rpcUrl: cfg.rpcUrl, modelRegistryAddress: cfg.modelRegistryAddress, datanetsApi: p.sequencerApi, base: cfg.base,
      cacheDir: cfg.cacheDir, indexDir: join(cfg.cacheDir, "attribution"), signingKey: p.signingKey, params, domain,
    });
    payments = new ReceiptIssuer({ sequencerApi: p.sequencerApi, providerAddress: p.providerAddress, outboxFile: join(cfg.cacheDir, "outbox.db"), params, bundleWaitMs: p.bundleWaitMs, crashAt: p.crashAt, policy: p.policy, ticketFace: p.ticketFace }, thread);
    metrics.paymentWork = () => payments!.work;
    for (const id of p.acceptPrices ?? []) {
      const entry = await source.entry(id);
      if (!entry) throw new Error(`--accept-price ${id}: no model ${id} in the ModelRegistry`);
      payments.prices.acceptPrice(entry);
    }
    // Attribution indexes of preloaded adapters are built now, in the background, rather than at their first answer.
    for (const id of cfg.preload ?? []) void readModel(registry, id).then((m) => payments!.prepare(m)).catch((e) => console.error(`attribution index of model ${id}: ${(e as Error).message}`));
  }
  const classifier = async (id: number): Promise<RegisteredModel> => {
    const entry = await source.entry(id);
    if (!entry) throw new ServeError(404, "model_not_found", `no model ${id} in the ModelRegistry`);
    if (entry.status !== "active") throw new ServeError(410, "model_retired", `model ${id} is retired by its owner`);
    if (entry.kind !== "classifier") throw new ServeError(400, "not_a_classifier", `model ${id} is a${entry.kind === "adapter" ? "n" : ""} ${entry.kind}; ${entry.kind === "adapter" ? "it answers at /v1/completions and /v1/chat/completions" : "only classifiers classify"}`);
    return entry;
  };
  const app = createServingApp({ engine, metrics, servable, payments, classifier });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(cfg.port, cfg.host ?? "127.0.0.1", () => resolve(s));
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    engine,
    cache,
    payments,
    async close() {
      engine.close();
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
      await payments?.close();
      await thread?.close();
      provider.destroy();
    },
  };
}
