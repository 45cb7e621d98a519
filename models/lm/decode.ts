// Inference: one token at a time per sequence with a key/value cache, many
// sequences (each with its own adapter, or none) in one batched step, on the
// same kernels and the same low-rank update (X·A·s)·B that training uses.
// Positions are learned up to the context length; a longer sequence keeps its
// last half-context and is re-read from position 0.
import { rng } from "../../attribution/influence/model.js";
import { gelu, matmul, rmsNorm, softmaxRow } from "./kernels.js";
import { encode, decode, EOT } from "./tokenizer.js";
import { Transformer, Adapter, projectionShape, type Projection } from "./transformer.js";

export class DecodeState {
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  length = 0;
  readonly tokens: number[] = [];
  constructor(readonly model: Transformer, readonly adapter: Adapter | null) {
    const { layers, context, dim } = model.config;
    this.keys = Array.from({ length: layers }, () => new Float32Array(context * dim));
    this.values = Array.from({ length: layers }, () => new Float32Array(context * dim));
  }
}

/**
 * Y = X·W for all N rows at once (the shared base), then each row's own
 * adapter update Y_r += ((X_r·A)·(α/r))·B in place (the SGMV pattern of Punica
 * and S-LoRA: rows of different adapters share one base matmul, and no weights
 * are merged per request). A row's arithmetic never depends on the other rows.
 */
function batchedLinear(m: Transformer, adapters: (Adapter | null)[], l: number, p: Projection, X: Float32Array, N: number, Y: Float32Array): void {
  const [inDim, outDim] = projectionShape(m.config, p);
  matmul(X, m.w[`l${l}.${p}`], Y, N, inDim, outDim);
  let h = new Float32Array(0);
  for (let row = 0; row < N; row++) {
    const a = adapters[row];
    if (!a || !a.lora.targets.includes(p)) continue;
    const A = a.views[`l${l}.${p}.A`], B = a.views[`l${l}.${p}.B`];
    const rank = a.lora.rank;
    if (h.length < rank) h = new Float32Array(rank);
    h.fill(0, 0, rank);
    const xo = row * inDim, yo = row * outDim;
    for (let i = 0; i < inDim; i++) {
      const xi = X[xo + i];
      const ai = i * rank;
      for (let c = 0; c < rank; c++) h[c] += xi * A[ai + c];
    }
    for (let c = 0; c < rank; c++) {
      const hc = h[c] * a.scale;
      const bc = c * outDim;
      for (let j = 0; j < outDim; j++) Y[yo + j] += hc * B[bc + j];
    }
  }
}

/** A sequence at the context's end keeps its last half-context, re-read from position 0. */
function slideWindow(s: DecodeState): void {
  const keep = s.tokens.slice(-Math.floor(s.model.config.context / 2));
  s.length = 0;
  s.tokens.length = 0;
  prefill(s, keep);
}

/** One token of one sequence at one position, in a batched forward pass. */
interface Row {
  state: DecodeState;
  pos: number;
  token: number;
}

/**
 * The forward pass of N rows: each row's key and value go into its sequence's
 * cache at its position, and each row attends to its sequence's positions up to
 * its own. Rows may be different sequences (decoding) or consecutive positions
 * of one sequence (reading a prompt); either way a row's arithmetic is the same.
 * Returns the logits, N × vocab.
 */
function forwardRows(m: Transformer, rows: Row[]): Float32Array {
  const N = rows.length;
  const { dim, heads, hidden, layers, context, vocab } = m.config;
  for (const r of rows) if (!(r.token >= 0 && r.token < vocab)) throw new Error(`token ${r.token} is outside the vocabulary of ${vocab}`);
  const adapters = rows.map((r) => r.state.adapter);
  const dh = dim / heads;
  const sc = 1 / Math.sqrt(dh);
  let x = new Float32Array(N * dim);
  rows.forEach((row, r) => {
    for (let e = 0; e < dim; e++) x[r * dim + e] = m.w.tok[row.token * dim + e] + m.w.pos[row.pos * dim + e];
  });
  const inv = new Float32Array(N);
  const n = new Float32Array(N * dim);
  const q = new Float32Array(N * dim);
  const k = new Float32Array(N * dim);
  const v = new Float32Array(N * dim);
  const att = new Float32Array(N * dim);
  const o = new Float32Array(N * dim);
  const pre = new Float32Array(N * hidden);
  const act = new Float32Array(N * hidden);
  const scores = new Float32Array(context);
  for (let l = 0; l < layers; l++) {
    rmsNorm(x, m.w[`l${l}.norm1`], 0, n, inv, N, dim);
    batchedLinear(m, adapters, l, "q", n, N, q);
    batchedLinear(m, adapters, l, "k", n, N, k);
    batchedLinear(m, adapters, l, "v", n, N, v);
    rows.forEach((row, r) => {
      row.state.keys[l].set(k.subarray(r * dim, (r + 1) * dim), row.pos * dim);
      row.state.values[l].set(v.subarray(r * dim, (r + 1) * dim), row.pos * dim);
    });
    att.fill(0);
    rows.forEach(({ state: s, pos: p }, r) => {
      const K = s.keys[l], V = s.values[l]; // hoisted: the inner loops touch only typed arrays
      for (let h = 0; h < heads; h++) {
        const qo = r * dim + h * dh;
        for (let j = 0; j <= p; j++) {
          const ko = j * dim + h * dh;
          let d = 0;
          for (let e = 0; e < dh; e++) d += q[qo + e] * K[ko + e];
          scores[j] = d * sc;
        }
        softmaxRow(scores, 0, p + 1);
        for (let j = 0; j <= p; j++) {
          const w = scores[j], vo = j * dim + h * dh;
          for (let e = 0; e < dh; e++) att[qo + e] += w * V[vo + e];
        }
      }
    });
    batchedLinear(m, adapters, l, "o", att, N, o);
    const mid = new Float32Array(N * dim);
    for (let i = 0; i < mid.length; i++) mid[i] = x[i] + o[i];
    rmsNorm(mid, m.w[`l${l}.norm2`], 0, n, inv, N, dim);
    batchedLinear(m, adapters, l, "up", n, N, pre);
    gelu(pre, act);
    batchedLinear(m, adapters, l, "down", act, N, o);
    x = new Float32Array(N * dim);
    for (let i = 0; i < x.length; i++) x[i] = mid[i] + o[i];
  }
  rmsNorm(x, m.w.normF, 0, n, inv, N, dim);
  const logits = new Float32Array(N * vocab);
  matmul(n, m.w.head, logits, N, dim, vocab);
  return logits;
}

/**
 * Feeds one token to each of N sequences (each with its own cache and adapter,
 * all on the same base) in one batched step; returns each row's next-token logits.
 */
export function decodeBatch(states: DecodeState[], tokens: number[]): Float32Array[] {
  if (states.length === 0) return [];
  const m = states[0].model;
  if (states.some((s) => s.model !== m)) throw new Error("a batch decodes sequences of one base model");
  if (new Set(states).size !== states.length) throw new Error("a sequence appears twice in one decode step");
  for (const s of states) if (s.length === m.config.context) slideWindow(s);
  const logits = forwardRows(m, states.map((s, r) => ({ state: s, pos: s.length, token: tokens[r] })));
  states.forEach((s, r) => {
    s.length++;
    s.tokens.push(tokens[r]);
  });
  const V = m.config.vocab;
  return states.map((_, r) => logits.subarray(r * V, (r + 1) * V));
}

/**
 * Reads a run of tokens into one sequence in batched passes (a prompt), up to the
 * context at a time; returns the logits after the last one. Gives exactly what
 * feeding the tokens one by one gives.
 */
export function prefill(s: DecodeState, ids: number[]): Float32Array {
  const { context, vocab } = s.model.config;
  if (ids.length === 0) throw new Error("nothing to read");
  let last: Float32Array = new Float32Array(0);
  for (let i = 0; i < ids.length; ) {
    if (s.length === context) slideWindow(s);
    const n = Math.min(ids.length - i, context - s.length);
    const logits = forwardRows(s.model, ids.slice(i, i + n).map((token, j) => ({ state: s, pos: s.length + j, token })));
    s.length += n;
    s.tokens.push(...ids.slice(i, i + n));
    last = logits.subarray((n - 1) * vocab, n * vocab);
    i += n;
  }
  return last;
}

/** Feeds one token to one sequence; returns the next-token logits (a batch of one). */
export function decodeStep(s: DecodeState, token: number): Float32Array {
  return decodeBatch([s], [token])[0];
}

export interface SampleOptions {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  seed: number;
  stop?: string[];
}

/** Draws a token id from logits with temperature and nucleus (top-p) truncation. */
export function sampleToken(logits: Float32Array, o: Pick<SampleOptions, "temperature" | "topP">, rand: () => number): number {
  if (o.temperature <= 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const p = Float32Array.from(logits, (v) => v / o.temperature);
  softmaxRow(p, 0, p.length);
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
  let mass = 0;
  let cut = order.length;
  for (let i = 0; i < order.length; i++) {
    mass += p[order[i]];
    if (mass >= o.topP) {
      cut = i + 1;
      break;
    }
  }
  let r = rand() * Math.min(mass, 1);
  for (let i = 0; i < cut; i++) {
    r -= p[order[i]];
    if (r <= 0) return order[i];
  }
  return order[cut - 1];
}

export interface Generation {
  text: string;
  /** Prompt tokens read (after folding) and tokens generated. */
  promptTokens: number;
  tokens: number;
  finishReason: "stop" | "length";
}

/**
 * One sequence being generated: its cache, its sampler and its stop rules.
 * `pick()` samples the next token from the current logits (or says the sequence
 * is finished); the caller feeds the token, alone (`generate`) or in a batch with
 * other sequences (serving), and stores the new logits. Both ways give the same text.
 */
export class Sequence {
  readonly state: DecodeState;
  logits: Float32Array;
  readonly out: number[] = [];
  readonly promptTokens: number;
  text = "";
  finishReason: "stop" | "length" | null = null;
  private readonly rand: () => number;

  constructor(model: Transformer, adapter: Adapter | null, prompt: string, readonly o: SampleOptions) {
    this.state = new DecodeState(model, adapter);
    let ids = encode(prompt);
    if (ids.length === 0) ids.push(EOT); // an empty prompt starts a new document
    // The model sees at most its context: a longer prompt keeps its end (reading the rest would only slide it out).
    if (ids.length > model.config.context) ids = ids.slice(-model.config.context);
    this.promptTokens = ids.length;
    this.logits = prefill(this.state, ids);
    this.rand = rng(o.seed);
  }

  /** The next token to feed, or null once the sequence has finished (end token, stop string or maxTokens). */
  pick(): number | null {
    if (this.finishReason) return null;
    if (this.out.length >= this.o.maxTokens) return this.finish("length", this.text);
    const next = sampleToken(this.logits, this.o, this.rand);
    if (next === EOT) return this.finish("stop", this.text);
    this.out.push(next);
    this.text = decode(this.out);
    const hit = (this.o.stop ?? []).map((st) => (st ? this.text.indexOf(st) : -1)).filter((k) => k >= 0);
    if (hit.length > 0) return this.finish("stop", this.text.slice(0, Math.min(...hit)));
    return next;
  }

  /** Text that no later stop string can take back (streaming sends only this much before the end). */
  settledText(): string {
    if (this.finishReason) return this.text;
    const hold = Math.max(0, ...(this.o.stop ?? []).map((st) => st.length - 1));
    return this.text.slice(0, Math.max(0, this.text.length - hold));
  }

  result(): Generation {
    return { text: this.text, promptTokens: this.promptTokens, tokens: this.out.length, finishReason: this.finishReason ?? "length" };
  }

  private finish(reason: "stop" | "length", text: string): null {
    this.finishReason = reason;
    this.text = text;
    return null;
  }
}

/** Continues `prompt` alone; stops at the end-of-text token, a stop string or maxTokens. */
export function generate(model: Transformer, adapter: Adapter | null, prompt: string, o: SampleOptions): Generation {
  const s = new Sequence(model, adapter, prompt, o);
  for (let t = s.pick(); t !== null; t = s.pick()) s.logits = decodeStep(s.state, t);
  return s.result();
}
