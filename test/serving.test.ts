// OpenLoRA's core without HTTP: the adapter cache (tiers, eviction, pinning,
// tampered weights) and the continuously batched engine (heterogeneous rows give
// each request the tokens it gets alone; streaming equals the final text; a
// cold load does not hold up other adapters; a full queue is refused).
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContentStore } from "../attribution/datanet/store.js";
import { ensureBaseModel } from "../models/base-model.js";
import { generate } from "../models/lm/decode.js";
import { Adapter, initLora, mergeAdapter, PROJECTIONS, type LoraConfig } from "../models/lm/transformer.js";
import { encodeWeights } from "../models/lm/weights.js";
import type { RegisteredModel } from "../models/registry.js";
import { AdapterCache, ServeError, type AdapterSource } from "../serving/adapter-cache.js";
import { ServingEngine } from "../serving/engine.js";

const base = ensureBaseModel("tiny");
const BASE_ID = 1;

/** A registry of n adapters on the tiny base (ids 2..n+1), their weights in a content store, and a gate to slow loads down. */
function world(n: number, lora: LoraConfig = { rank: 4, alpha: 8, targets: [...PROJECTIONS] }) {
  const store = new ContentStore(mkdtempSync(join(tmpdir(), "poa-serving-")));
  const entries = new Map<number, RegisteredModel>();
  const baseEntry = { id: BASE_ID, owner: "0x" + "22".repeat(20), kind: "base", status: "active", registeredAt: 1, contributionCount: 0, parent: 0, artifactHash: base.info.artifactHash, configHash: base.info.artifactHash, trainingSetRoot: "0x" + "00".repeat(32), metricsHash: "0x" + "00".repeat(32), pricePer1kTokens: 0n, datanets: [] } as RegisteredModel;
  entries.set(BASE_ID, baseEntry);
  entries.set(7, { ...baseEntry, id: 7, artifactHash: "0x" + "77".repeat(32) }); // another base
  const adapters = new Map<number, Adapter>();
  for (let i = 0; i < n; i++) {
    const params = initLora(base.model.config, lora, 100 + i);
    for (let j = 0; j < params.length; j++) params[j] = Math.sin(j * 0.37 + i) * 0.4; // B ≠ 0: each adapter changes the output
    adapters.set(i + 2, new Adapter(base.model.config, lora, params));
    const bytes = encodeWeights({ format: "poa-lm/1", kind: "adapter", config: base.model.config, lora, base: base.info.artifactHash }, params);
    const hash = store.put(bytes);
    entries.set(i + 2, { id: i + 2, owner: "0x" + "11".repeat(20), kind: "adapter", status: "active", registeredAt: 1, contributionCount: 1, parent: BASE_ID, artifactHash: hash, configHash: hash, trainingSetRoot: hash, metricsHash: hash, pricePer1kTokens: 0n, datanets: [1] });
  }
  const slow = new Map<number, Promise<void>>();
  const source: AdapterSource = {
    entry: async (id) => entries.get(id),
    bytes: async (entry) => {
      await slow.get(entry.id);
      return store.read(entry.artifactHash);
    },
  };
  return { store, entries, adapters, source, slow };
}

const cacheOf = (w: ReturnType<typeof world>, maxAdapters = 64, maxBytes = 1 << 30) =>
  new AdapterCache({ model: base.model, artifactHash: base.info.artifactHash }, w.source, { maxAdapters, maxBytes });

describe("OpenLoRA engine", () => {
  it("heterogeneous batching: each request gets the tokens it gets alone (and, greedily, those of its merged weights)", async () => {
    const w = world(3);
    const engine = new ServingEngine(cacheOf(w), { maxBatch: 8, maxQueue: 64 });
    const prompts = ["Call me", "The whale", "Fellow citizens", "It was the", "Whale oil", "Ahoy"];
    const requests = prompts.map((prompt, i) => ({ model: 2 + (i % 3), prompt, maxTokens: 30, temperature: i < 3 ? 0 : 0.9, topP: 0.95, seed: 7 + i }));
    const served = await Promise.all(requests.map((r) => engine.complete(r)));
    for (const [i, r] of requests.entries()) {
      const alone = generate(base.model, w.adapters.get(r.model)!, r.prompt, r);
      expect(served[i].text, `request ${i}`).to.equal(alone.text);
      expect(served[i].tokens).to.equal(alone.tokens);
      if (r.temperature === 0) expect(generate(mergeAdapter(base.model, w.adapters.get(r.model)!), null, r.prompt, r).text).to.equal(alone.text);
    }
    expect(new Set(served.slice(0, 3).map((c) => c.text)).size).to.equal(3);
  });

  it("an adapter with B = 0 serves the base model's text", async () => {
    const w = world(1);
    const zero = initLora(base.model.config, { rank: 4, alpha: 8, targets: [...PROJECTIONS] }, 5); // B = 0
    const bytes = encodeWeights({ format: "poa-lm/1", kind: "adapter", config: base.model.config, lora: { rank: 4, alpha: 8, targets: [...PROJECTIONS] }, base: base.info.artifactHash }, zero);
    w.entries.get(2)!.artifactHash = w.store.put(bytes);
    const engine = new ServingEngine(cacheOf(w), { maxBatch: 4, maxQueue: 8 });
    const r = { model: 2, prompt: "The sea", maxTokens: 25, temperature: 0.8, topP: 0.9, seed: 3 };
    expect((await engine.complete(r)).text).to.equal(generate(base.model, null, r.prompt, r).text);
  });

  it("streams exactly the final text, holding back what a stop string could still take", async () => {
    const w = world(1);
    const engine = new ServingEngine(cacheOf(w), { maxBatch: 4, maxQueue: 8 });
    const full = await engine.complete({ model: 2, prompt: "The", maxTokens: 40, temperature: 0, topP: 1, seed: 1 });
    const stop = full.text.slice(10, 13); // a stop string that occurs in the greedy text
    let streamed = "";
    const cut = await engine.complete({ model: 2, prompt: "The", maxTokens: 40, temperature: 0, topP: 1, seed: 1, stop: [stop], onText: (d) => (streamed += d) });
    expect(cut.finishReason).to.equal("stop");
    expect(cut.text).to.equal(full.text.slice(0, full.text.indexOf(stop)));
    expect(streamed).to.equal(cut.text);
  });

  it("evicts the least recently used unpinned adapter under a small budget, and counts hits, misses and evictions", async () => {
    const w = world(4);
    const bytesEach = w.adapters.get(2)!.params.byteLength;
    const cache = cacheOf(w, 2, 10 * bytesEach);
    for (const id of [2, 3, 2, 4]) {
      await cache.acquire(id);
      cache.release(id);
    }
    expect(cache.residentIds()).to.deep.equal([2, 4]); // 3 was the least recently used
    expect(cache.stats).to.include({ hits: 1, misses: 3, evictions: 1 });
    // A pinned adapter stays even when it is the least recently used.
    await cache.acquire(2);
    await cache.acquire(5);
    cache.release(5);
    expect(cache.residentIds()).to.deep.equal([2, 5]);
    cache.release(2);
    const byBytes = cacheOf(w, 64, 2 * bytesEach);
    for (const id of [2, 3, 4]) await byBytes.acquire(id).then(() => byBytes.release(id));
    expect(byBytes.residentIds()).to.deep.equal([3, 4]);
    expect(byBytes.residentBytes).to.equal(2 * bytesEach);
  });

  it("a cold load does not hold up requests for a resident adapter; preload makes an adapter resident at start", async () => {
    const w = world(2);
    const cache = cacheOf(w);
    await cache.preload([2]);
    expect(cache.residentIds()).to.deep.equal([2]);
    let open!: () => void;
    w.slow.set(3, new Promise((r) => (open = r)));
    const engine = new ServingEngine(cache, { maxBatch: 8, maxQueue: 8 });
    const cold = engine.complete({ model: 3, prompt: "Call me", maxTokens: 10, temperature: 0, topP: 1, seed: 1 });
    const warm = await engine.complete({ model: 2, prompt: "Call me", maxTokens: 10, temperature: 0, topP: 1, seed: 1 });
    expect(warm.tokens).to.be.greaterThan(0);
    expect(engine.depth.loading).to.equal(1); // the cold one is still loading
    open();
    const c = await cold;
    expect(c.loadMs).to.be.greaterThan(0);
    expect(warm.loadMs).to.equal(0);
  });

  it("refuses a tampered adapter by its hash, unknown and retired models, adapters on another base, and a full queue", async () => {
    const w = world(3);
    const hash = w.entries.get(2)!.artifactHash;
    const file = join(w.store.dir, hash.slice(2, 4), hash.slice(2));
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(file, bytes);
    const engine = new ServingEngine(cacheOf(w), { maxBatch: 1, maxQueue: 1 });
    const refusal = (model: number) => engine.complete({ model, prompt: "x", maxTokens: 2, temperature: 0, topP: 1, seed: 1 }).then(() => "served", (e: ServeError) => `${e.status} ${e.code}`);
    expect(await refusal(2)).to.equal("502 artifact_corrupted");
    expect(await refusal(9)).to.equal("404 model_not_found");
    w.entries.get(3)!.status = "retired";
    expect(await refusal(3)).to.equal("410 model_retired");
    w.entries.get(4)!.parent = 7;
    expect(await refusal(4)).to.equal("400 wrong_base");
    expect(readdirSync(join(w.store.dir, hash.slice(2, 4)))).to.include(hash.slice(2)); // the store keeps the evidence
    // A batch of one and one waiting: the third request is refused at once, and nothing else changes.
    w.entries.get(4)!.parent = BASE_ID;
    const long = { model: 4, prompt: "x", maxTokens: 50, temperature: 0, topP: 1, seed: 1 };
    const accepted = [engine.complete(long), engine.complete(long)];
    expect(await refusal(4)).to.equal("429 queue_full");
    const done = await Promise.all(accepted);
    expect(done.map((c) => c.tokens)).to.deep.equal([50, 50]);
  });
});
