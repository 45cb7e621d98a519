// Adapters resolved by their ModelRegistry id, kept in tiers (as LoRAX and
// S-LoRA do): resident adapters in an LRU within a count and a byte budget, the
// content-addressed store on disk behind it. A cold load reads and checks the
// weights without blocking the event loop, and concurrent requests for the same
// adapter share one load; requests for other adapters go on meanwhile.
import type { RegisteredModel } from "../models/registry.js";
import type { Adapter, Transformer } from "../models/lm/transformer.js";
import { loadAdapter } from "../models/lm/weights.js";

/** Why a model cannot be served: the API turns each into a 4xx (or 5xx for a damaged store). */
export class ServeError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface AdapterSource {
  /** The registry entry of a model id (undefined when there is none). */
  entry(id: number): Promise<RegisteredModel | undefined>;
  /** The model's weights file, checked against its artifact hash (the disk tier, or a fetch into it). */
  bytes(entry: RegisteredModel): Promise<Uint8Array>;
}

export interface CacheLimits {
  /** Most adapters resident at once. */
  maxAdapters: number;
  /** Most bytes of adapter weights resident at once. */
  maxBytes: number;
  /** How long a resident adapter's registry entry is trusted before it is read again (a retirement takes effect within this; default 5 s). */
  entryTtlMs?: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  /** Milliseconds of each cold load (registry lookup, read, hash check, decode). */
  loadMs: number[];
}

interface Resident {
  adapter: Adapter;
  entry: RegisteredModel;
  checkedAt: number;
  bytes: number;
  /** Requests using it now: a pinned adapter is never evicted. */
  pins: number;
}

export class AdapterCache {
  private readonly resident = new Map<number, Resident>(); // insertion order = LRU order
  private readonly loading = new Map<number, Promise<Resident>>();
  readonly stats: CacheStats = { hits: 0, misses: 0, evictions: 0, loadMs: [] };

  constructor(
    readonly base: { model: Transformer; artifactHash: string },
    private readonly source: AdapterSource,
    readonly limits: CacheLimits,
    /** Told of every hit, miss, eviction and cold load (metrics). */
    private readonly observe: (event: "hit" | "miss" | "eviction" | "loaded", ms?: number) => void = () => {},
  ) {}

  /** Resident bytes (adapter weights as float32). */
  get residentBytes(): number {
    let n = 0;
    for (const r of this.resident.values()) n += r.bytes;
    return n;
  }

  residentIds(): number[] {
    return [...this.resident.keys()];
  }

  isResident(id: number): boolean {
    return this.resident.has(id);
  }

  /** The adapter of model `id`, pinned until `release(id)`; loads it when cold. */
  async acquire(id: number): Promise<{ adapter: Adapter; entry: RegisteredModel }> {
    let hit = this.resident.get(id);
    if (hit && Date.now() - hit.checkedAt > (this.limits.entryTtlMs ?? 5_000)) {
      const entry = await this.source.entry(id);
      if (entry?.status !== "active" || entry.artifactHash !== hit.entry.artifactHash) {
        if (hit.pins === 0) this.resident.delete(id);
        hit = undefined; // reload: the load refuses a retired model by name
      } else {
        hit.checkedAt = Date.now();
        hit.entry = entry;
      }
    }
    if (hit) {
      this.stats.hits++;
      this.observe("hit");
      this.resident.delete(id); // move to the most recently used end
      this.resident.set(id, hit);
      hit.pins++;
      return hit;
    }
    this.stats.misses++;
    this.observe("miss");
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    const r = await pending;
    r.pins++;
    return r;
  }

  release(id: number): void {
    const r = this.resident.get(id);
    if (r && r.pins > 0) r.pins--;
  }

  /** Loads adapters at start-up (--preload); refuses the first one that cannot be served. */
  async preload(ids: number[]): Promise<void> {
    for (const id of ids) {
      await this.acquire(id);
      this.release(id);
    }
  }

  private async load(id: number): Promise<Resident> {
    const t0 = performance.now();
    const entry = await this.source.entry(id);
    if (!entry) throw new ServeError(404, "model_not_found", `no model ${id} in the ModelRegistry`);
    if (entry.status !== "active") throw new ServeError(410, "model_retired", `model ${id} is retired by its owner`);
    if (entry.kind !== "adapter") throw new ServeError(400, "not_an_adapter", `model ${id} is a ${entry.kind}; ${entry.kind === "classifier" ? "classifiers answer at POST /v1/classifications" : "completions come from adapters"}`);
    const parent = await this.source.entry(entry.parent);
    if (parent?.artifactHash !== this.base.artifactHash) throw new ServeError(400, "wrong_base", `model ${id} is an adapter on base model ${entry.parent}, not on the base this server runs (${this.base.artifactHash.slice(0, 10)}…)`);
    let bytes: Uint8Array;
    try {
      bytes = await this.source.bytes(entry);
    } catch (e) {
      const corrupted = /corrupted/.test((e as Error).message);
      throw new ServeError(corrupted ? 502 : 503, corrupted ? "artifact_corrupted" : "artifact_unavailable", `model ${id}'s weights ${entry.artifactHash}: ${(e as Error).message}`);
    }
    const adapter = loadAdapter(bytes, this.base.model, this.base.artifactHash);
    const r: Resident = { adapter, entry, checkedAt: Date.now(), bytes: adapter.params.byteLength, pins: 0 };
    if (r.bytes > this.limits.maxBytes) throw new ServeError(503, "adapter_too_large", `model ${id}'s adapter takes ${r.bytes} bytes; the adapter memory budget is ${this.limits.maxBytes}`);
    this.makeRoom(r.bytes);
    this.resident.set(id, r);
    this.stats.loadMs.push(performance.now() - t0);
    this.observe("loaded", performance.now() - t0);
    return r;
  }

  /** Evicts least recently used, unpinned adapters until one more of `bytes` fits. */
  private makeRoom(bytes: number): void {
    for (const [id, r] of this.resident) {
      if (this.resident.size < this.limits.maxAdapters && this.residentBytes + bytes <= this.limits.maxBytes) return;
      if (r.pins > 0) continue;
      this.resident.delete(id);
      this.stats.evictions++;
      this.observe("eviction");
    }
    // Every resident adapter is in use: go over budget rather than fail a request; the next load evicts.
  }
}
