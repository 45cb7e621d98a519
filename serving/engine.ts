// Continuous, heterogeneous batching over one base model (LoRAX, vLLM,
// Punica's SGMV): every decode step feeds one token to each running sequence,
// whatever its adapter, in one batched pass over the shared base (decodeBatch);
// sequences join between steps as their adapters become resident and leave as
// they finish. A full queue is refused at once (429), never buffered without bound.
import { Sequence, decodeBatch, type Generation, type SampleOptions } from "../models/lm/decode.js";
import { decode } from "../models/lm/tokenizer.js";
import type { RegisteredModel } from "../models/registry.js";
import { ServeError, type AdapterCache } from "./adapter-cache.js";

export interface CompletionRequest extends SampleOptions {
  /** The adapter's ModelRegistry id. */
  model: number;
  prompt: string;
  /** Streaming: called with each piece of text as it is settled (no stop string can take it back). */
  onText?: (delta: string) => void;
  /**
   * Called once the model's registry entry is known and before any token is generated, with the
   * prompt's length in tokens; a ServeError thrown here refuses the request (the deposit check).
   */
  admit?: (entry: RegisteredModel, promptTokens: number) => void;
  /** Aborted when the client goes away: decoding stops at the next step and the slot is freed. */
  signal?: AbortSignal;
}

export interface Completion extends Generation {
  model: RegisteredModel;
  /** From acceptance to the first generated token, and to the end. */
  timeToFirstTokenMs: number;
  totalMs: number;
  /** Time spent waiting for the adapter to load (0 when resident). */
  loadMs: number;
  /**
   * The client went away before the end: `text` and `tokens` are then what was sent to it (streamed
   * text settled and written; nothing for a plain request), which is all the answer is charged for.
   */
  clientClosed: boolean;
}

export interface EngineLimits {
  /** Sequences decoded together in one step. */
  maxBatch: number;
  /** Requests waiting (for an adapter or a batch slot) beyond the running batch. */
  maxQueue: number;
}

export interface EngineObserver {
  step?(rows: number, ms: number): void;
  firstToken?(ms: number): void;
  finished?(c: Completion): void;
}

interface Pending {
  req: CompletionRequest;
  acceptedAt: number;
  loadMs: number;
  entry?: RegisteredModel;
  seq?: Sequence;
  sent: number;
  firstTokenAt?: number;
  resolve(c: Completion): void;
  reject(e: Error): void;
}

export class ServingEngine {
  private readonly ready: Pending[] = []; // adapter resident, waiting for a batch slot
  private readonly running: Pending[] = [];
  private loadingCount = 0;
  private scheduled = false;
  private closed = false;

  constructor(private readonly cache: AdapterCache, readonly limits: EngineLimits, private readonly observer: EngineObserver = {}) {}

  /** Requests accepted and not finished: loading, waiting and running. */
  get depth(): { loading: number; waiting: number; running: number } {
    return { loading: this.loadingCount, waiting: this.ready.length, running: this.running.length };
  }

  /** Generates a completion; refuses with 429 when the queue is full. */
  complete(req: CompletionRequest): Promise<Completion> {
    if (this.closed) return Promise.reject(new ServeError(503, "shutting_down", "the server is shutting down"));
    const outstanding = this.loadingCount + this.ready.length + this.running.length;
    if (outstanding >= this.limits.maxBatch + this.limits.maxQueue) {
      return Promise.reject(new ServeError(429, "queue_full", `${outstanding} requests are running or waiting (the limit is a batch of ${this.limits.maxBatch} and ${this.limits.maxQueue} waiting); retry shortly`));
    }
    return new Promise<Completion>((resolve, reject) => {
      const p: Pending = { req, acceptedAt: performance.now(), loadMs: 0, sent: 0, resolve, reject };
      this.loadingCount++;
      const t0 = performance.now();
      const wasResident = this.cache.isResident(req.model);
      // The adapter loads (or is found resident) off the decode loop: other requests keep decoding meanwhile.
      this.cache.acquire(req.model).then(
        ({ adapter, entry }) => {
          this.loadingCount--;
          p.loadMs = wasResident ? 0 : performance.now() - t0;
          p.entry = entry;
          try {
            p.seq = new Sequence(this.cache.base.model, adapter, req.prompt, req);
            req.admit?.(entry, p.seq.promptTokens);
          } catch (e) {
            this.cache.release(req.model);
            return reject(e as Error);
          }
          this.ready.push(p);
          this.schedule();
        },
        (e) => {
          this.loadingCount--;
          reject(e);
        },
      );
    });
  }

  /** Stops taking requests; running ones finish. */
  close(): void {
    this.closed = true;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.step();
    });
  }

  /** One decode step for the running batch, after admitting waiting sequences. */
  private step(): void {
    while (this.running.length < this.limits.maxBatch && this.ready.length > 0) {
      const p = this.ready.shift()!;
      if (p.req.signal?.aborted) this.finish(p, true);
      else this.running.push(p);
    }
    if (this.running.length === 0) return;
    const t0 = performance.now();
    const feeding: Pending[] = [];
    const tokens: number[] = [];
    for (const p of this.running) {
      if (p.req.signal?.aborted) {
        this.finish(p, true);
        continue;
      }
      const t = p.seq!.pick();
      this.stream(p);
      if (t === null) this.finish(p);
      else {
        feeding.push(p);
        tokens.push(t);
      }
    }
    this.running.splice(0, this.running.length, ...feeding);
    if (feeding.length > 0) {
      const logits = decodeBatch(feeding.map((p) => p.seq!.state), tokens);
      feeding.forEach((p, i) => (p.seq!.logits = logits[i]));
      this.observer.step?.(feeding.length, performance.now() - t0);
    }
    if (this.running.length > 0 || this.ready.length > 0) this.schedule();
  }

  private stream(p: Pending): void {
    const seq = p.seq!;
    if (p.firstTokenAt === undefined && (seq.out.length > 0 || seq.finishReason)) {
      p.firstTokenAt = performance.now();
      this.observer.firstToken?.(p.firstTokenAt - p.acceptedAt);
    }
    if (!p.req.onText) return;
    const settled = seq.settledText();
    if (settled.length > p.sent) {
      p.req.onText(settled.slice(p.sent));
      p.sent = settled.length;
    }
  }

  private finish(p: Pending, clientClosed = false): void {
    this.cache.release(p.req.model);
    const now = performance.now();
    const c: Completion = {
      ...(clientClosed ? sentPart(p.seq!, p.sent) : p.seq!.result()),
      clientClosed,
      model: p.entry!,
      timeToFirstTokenMs: (p.firstTokenAt ?? now) - p.acceptedAt,
      totalMs: now - p.acceptedAt,
      loadMs: p.loadMs,
    };
    this.observer.finished?.(c);
    p.resolve(c);
  }
}

/** What a client that went away was sent: the first `chars` characters of the answer, and the tokens whose text they are. */
function sentPart(seq: Sequence, chars: number): Generation {
  const all = seq.result();
  let tokens = seq.out.length;
  while (tokens > 0 && decode(seq.out.slice(0, tokens)).length > chars) tokens--;
  return { ...all, text: all.text.slice(0, chars), tokens };
}
