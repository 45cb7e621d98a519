// OpenLoRA's serving numbers on the small base: generated tokens/s, time to
// first token and per-token latency (p50/p99) under concurrent clients with
// 1, 8, 64 and 512 distinct adapters in the mix, against the naive server
// that merges each request's adapter into a copy of the base weights (what
// S-LoRA compares against); cold-load latency, memory per resident adapter and
// adapters per GiB; attribution and signing time per answer.
//   npx tsx bench/openlora.ts   → bench/RESULTS.md "OpenLoRA", results.json "openlora"
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContentStore } from "../attribution/datanet/store.js";
import { ensureBaseModel } from "../models/base-model.js";
import { generate } from "../models/lm/decode.js";
import { Adapter, initLora, mergeAdapter, PROJECTIONS, type LoraConfig } from "../models/lm/transformer.js";
import { encodeWeights } from "../models/lm/weights.js";
import type { RegisteredModel } from "../models/registry.js";
import { AdapterCache, type AdapterSource } from "../serving/adapter-cache.js";
import { ServingEngine, type Completion } from "../serving/engine.js";
import { quantile } from "./lib/stats.js";
import { initCrypto } from "../core/crypto.js";
import { loadInstance } from "../core/params.js";
import { signBundle, type Receipt } from "../core/receipt.js";
import { RECIPES } from "../ops/demo-data.js";
import { ModelAttribution, type TrainingDocument } from "../serving/attribution.js";
import { runMeta, writeResults, writeSection } from "./results.js";

const base = ensureBaseModel("small");
const lora: LoraConfig = { rank: 8, alpha: 16, targets: [...PROJECTIONS] };
const ADAPTERS = 512, CLIENTS = 32, REQUESTS = 96, MAX_TOKENS = 32;
const PROMPTS = ["The whale", "Fellow citizens", "Call me Ishmael.", "To make a sauce,", "The Congress", "In the morning"];

// 512 adapters (B ≠ 0) in a content store, and a registry of them on base model 1.
const store = new ContentStore(mkdtempSync(join(tmpdir(), "poa-bench-openlora-")));
const entries = new Map<number, RegisteredModel>();
const zero = `0x${"00".repeat(32)}`;
entries.set(1, { id: 1, owner: zero.slice(0, 42), kind: "base", status: "active", registeredAt: 0, contributionCount: 0, parent: 0, artifactHash: base.info.artifactHash, configHash: zero, trainingSetRoot: zero, metricsHash: zero, pricePer1kTokens: 0n, datanets: [] });
const adapters = new Map<number, Adapter>();
for (let i = 0; i < ADAPTERS; i++) {
  const params = initLora(base.model.config, lora, 1000 + i);
  for (let j = 0; j < params.length; j++) if (params[j] === 0) params[j] = Math.sin(j * 0.13 + i) * 0.05;
  const id = i + 2;
  adapters.set(id, new Adapter(base.model.config, lora, params));
  const hash = store.put(encodeWeights({ format: "poa-lm/1", kind: "adapter", config: base.model.config, lora, base: base.info.artifactHash }, params));
  entries.set(id, { ...entries.get(1)!, id, kind: "adapter", parent: 1, artifactHash: hash });
}
const source: AdapterSource = { entry: async (id) => entries.get(id), bytes: async (e) => store.read(e.artifactHash) };

interface Request { model: number; prompt: string; seed: number }
const mix = (distinct: number): Request[] => Array.from({ length: REQUESTS }, (_, i) => ({ model: 2 + ((i * 7919) % distinct), prompt: PROMPTS[i % PROMPTS.length], seed: i + 1 }));
const sampling = { maxTokens: MAX_TOKENS, temperature: 0.8, topP: 0.95 };

/** CLIENTS concurrent clients in closed loops over the request list. */
async function served(requests: Request[]): Promise<{ seconds: number; tokens: number; done: Completion[] }> {
  const cache = new AdapterCache({ model: base.model, artifactHash: base.info.artifactHash }, source, { maxAdapters: ADAPTERS, maxBytes: 1 << 30 });
  await cache.preload([...new Set(requests.map((r) => r.model))]);
  const engine = new ServingEngine(cache, { maxBatch: CLIENTS, maxQueue: CLIENTS });
  let next = 0;
  const done: Completion[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < requests.length) {
      const r = requests[next++];
      done.push(await engine.complete({ ...r, ...sampling }));
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, tokens: done.reduce((s, c) => s + c.tokens, 0), done };
}

/** The naive server: every request merges its adapter into a copy of the base, then decodes alone. */
function merged(requests: Request[]): { seconds: number; tokens: number } {
  const t0 = performance.now();
  let tokens = 0;
  for (const r of requests) tokens += generate(mergeAdapter(base.model, adapters.get(r.model)!), null, r.prompt, { ...sampling, seed: r.seed }).tokens;
  return { seconds: (performance.now() - t0) / 1000, tokens };
}

const rows: string[] = [];
const tokensPerSecond: Record<string, number> = {}, mergedTokensPerSecond: Record<string, number> = {}, latency: Record<string, object> = {};
for (const distinct of [1, 8, 64, 512]) {
  const requests = mix(distinct);
  const s = await served(requests);
  const m = merged(requests);
  const ttft = s.done.map((c) => c.timeToFirstTokenMs);
  const perToken = s.done.filter((c) => c.tokens > 1).map((c) => (c.totalMs - c.timeToFirstTokenMs) / (c.tokens - 1));
  const q = (xs: number[], p: number) => Number(quantile(xs, p).toFixed(1));
  tokensPerSecond[distinct] = Math.round(s.tokens / s.seconds);
  mergedTokensPerSecond[distinct] = Math.round(m.tokens / m.seconds);
  latency[distinct] = { ttftP50: q(ttft, 0.5), ttftP99: q(ttft, 0.99), perTokenP50: q(perToken, 0.5), perTokenP99: q(perToken, 0.99) };
  rows.push(`| ${distinct} | ${tokensPerSecond[distinct].toLocaleString()} | ${mergedTokensPerSecond[distinct].toLocaleString()} | ${(tokensPerSecond[distinct] / mergedTokensPerSecond[distinct]).toFixed(2)}× | ${q(ttft, 0.5)} / ${q(ttft, 0.99)} | ${q(perToken, 0.5)} / ${q(perToken, 0.99)} |`);
  console.log(rows.at(-1));
}

// Cold loads and memory: all 512 adapters loaded from disk into one cache.
const cache = new AdapterCache({ model: base.model, artifactHash: base.info.artifactHash }, source, { maxAdapters: ADAPTERS, maxBytes: 1 << 30 });
global.gc?.();
const heap0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
for (let id = 2; id < 2 + ADAPTERS; id++) await cache.acquire(id).then(() => cache.release(id));
global.gc?.();
const perAdapter = (process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heap0) / ADAPTERS;
const weightsBytes = adapters.get(2)!.params.byteLength;
const bytesPerAdapter = Math.max(weightsBytes, perAdapter);
const coldLoad = { p50: Number(quantile(cache.stats.loadMs, 0.5).toFixed(2)), p99: Number(quantile(cache.stats.loadMs, 0.99).toFixed(2)) };
const adaptersPerGiB = Math.floor(2 ** 30 / bytesPerAdapter);

// Attribution and signing per answer: one adapter's training set is the demo's recipe passages; each of 64
// answers is attributed (token runs + LoRA-space gradient) against the time to generate it alone; a bundle of
// the instance's size is signed (EdDSA-Poseidon), as the receipt thread does.
const attributionDocs: TrainingDocument[] = RECIPES.map(([c, text], i) => ({ contributionId: i + 1, datanetId: 1, contentHash: `0x${(i + 1).toString(16).padStart(64, "0")}`, contributor: `0x${(c + 1).toString(16).padStart(40, "0")}`, text }));
const attributed = adapters.get(2)!;
let t = performance.now();
const attribution = await ModelAttribution.open(mkdtempSync(join(tmpdir(), "poa-bench-attr-")), base.model, attributed, async () => attributionDocs);
const indexBuildMs = performance.now() - t;
const attributionMs: number[] = [], generationMs: number[] = [];
for (let i = 0; i < 64; i++) {
  const prompt = `User: ${["How do I make pancakes?", "A quick soup?", "Roast potatoes?", "What goes in a salad?"][i % 4]}\nAssistant:`;
  t = performance.now();
  const g = generate(base.model, attributed, prompt, { maxTokens: MAX_TOKENS, temperature: 0.8, topP: 0.95, seed: i + 1 });
  generationMs.push(performance.now() - t);
  t = performance.now();
  attribution.attribute(base.model, attributed, prompt, g.text);
  attributionMs.push(performance.now() - t);
}
attribution.close();
await initCrypto();
const testParams = loadInstance("test").params;
const bundle: Receipt[] = Array.from({ length: testParams.bundleSize }, (_, i) => ({ providerIdx: 2, owner: 0xa1n, fee: 10n ** 15n, nonce: BigInt(i), inputHash: 1n, outputHash: 2n, entries: [{ contributor: 0xc1n, score: 1n }] }));
const signMs: number[] = [];
for (let i = 0; i < 10; i++) {
  t = performance.now();
  await signBundle(new Uint8Array(32).fill(7), bundle, testParams, 1n);
  signMs.push(performance.now() - t);
}
const attr = {
  indexBuildMs: Math.round(indexBuildMs), documents: attributionDocs.length,
  p50: Number(quantile(attributionMs, 0.5).toFixed(1)), p99: Number(quantile(attributionMs, 0.99).toFixed(1)),
  generationP50: Number(quantile(generationMs, 0.5).toFixed(1)),
  overhead: Number((quantile(attributionMs, 0.5) / quantile(generationMs, 0.5)).toFixed(2)),
  signBundleMs: Number(quantile(signMs, 0.5).toFixed(1)),
};
console.log("attribution", attr);

const meta = runMeta();
writeResults({ openlora: { machine: meta.machine, date: meta.date, commit: meta.commit, tokensPerSecond, mergedTokensPerSecond, ratioVsMerged: Number((tokensPerSecond[64] / mergedTokensPerSecond[64]).toFixed(2)), latencyMs: latency, coldLoadMs: coldLoad, bytesPerResidentAdapter: Math.round(bytesPerAdapter), adaptersPerGiB, attributionMs: attr, attributedAnswersPerSecond: Math.round(1000 / attr.p50), decodedAnswersPerSecond: Math.round(tokensPerSecond[64] / MAX_TOKENS) } });
writeSection(
  "OpenLoRA",
  `${meta.line} \`npx tsx bench/openlora.ts\` (run with \`node --expose-gc\` for the memory figure).

Small base, rank-8 adapters on all six projections, ${CLIENTS} concurrent clients in closed loops inside the process, ${REQUESTS} requests of ${MAX_TOKENS} tokens
(temperature 0.8) per row, adapters drawn round-robin from the first N; batch up to ${CLIENTS} sequences. The naive baseline merges each request's adapter
into a copy of the base weights and decodes it alone, in the same run.

| distinct adapters | served tokens/s | naive merged tokens/s | ratio | time to first token p50 / p99 (ms) | per-token latency p50 / p99 (ms) |
|---:|---:|---:|---:|---:|---:|
${rows.join("\n")}

Cold load (registry entry, read from the disk tier, SHA-256 check, decode): p50 ${coldLoad.p50} ms, p99 ${coldLoad.p99} ms. A resident adapter takes
${(bytesPerAdapter / 1024).toFixed(1)} KiB (weights ${(weightsBytes / 1024).toFixed(1)} KiB): **${adaptersPerGiB.toLocaleString()} adapters per GiB**.
Time to first token includes waiting for a batch slot and reading the prompt; the throughput rows are the decode loop alone.

**Attribution and receipts per answer** (on the receipt thread, off the decode loop): a training set of ${attr.documents} passages (the demo's recipes)
is indexed once in ${attr.indexBuildMs} ms (suffix array + one projected gradient per passage). Attributing one ${MAX_TOKENS}-token answer (token runs +
LoRA-space gradient: one forward and backward pass over the answer's window) takes p50 ${attr.p50} ms, p99 ${attr.p99} ms, against
${attr.generationP50} ms to generate it alone: **${attr.overhead}× the generation time**. Signing a bundle of ${testParams.bundleSize} receipts (EdDSA-Poseidon): ${attr.signBundleMs} ms.
The receipt thread runs beside the decode loop on the second core, so one receipt thread attributes about ${Math.round(1000 / attr.p50)} answers/s
while the decode loop finishes about ${Math.round(tokensPerSecond[64] / MAX_TOKENS)} answers/s of this size (64 adapters): at full load on 2 cores,
attribution${1000 / attr.p50 < tokensPerSecond[64] / MAX_TOKENS ? ", not decoding," : " does not"} bound${1000 / attr.p50 < tokensPerSecond[64] / MAX_TOKENS ? "s" : ""} the paid answers per second.

${tokensPerSecond[64] / mergedTokensPerSecond[64] < 1.2
    ? `Reading: on this 2-core CPU the batched server is not yet faster than merging per request (${(tokensPerSecond[64] / mergedTokensPerSecond[64]).toFixed(2)}× at 64 adapters). With a ${base.info.parameters.toLocaleString()}-parameter base the weights stay in cache either way, so batching saves no memory traffic; each row costs the same arithmetic, and merging a rank-8 adapter costs ~1 ms against ~10 ms of decoding. What batching buys here is memory (one base; an adapter takes ${(weightsBytes / 1024).toFixed(0)} KiB against ${(base.bytes.length / 1024).toFixed(0)} KiB for a merged copy) and the next step: spreading a batch's rows over both cores, which one request at a time cannot use.`
    : `Batching over one shared base serves ${(tokensPerSecond[64] / mergedTokensPerSecond[64]).toFixed(2)}× the tokens of per-request merging at 64 adapters.`}`,
);
