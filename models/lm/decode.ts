// Inference: one token at a time with a key/value cache, on the same kernels
// and the same linearForward (adapter path included) that training uses.
// Positions are learned up to the context length; a longer sequence keeps its
// last half-context and is re-read from position 0.
import { rng } from "../../attribution/influence/model.js";
import { gelu, matmul, rmsNorm, softmaxRow } from "./kernels.js";
import { encode, decode, EOT } from "./tokenizer.js";
import { Transformer, Adapter, linear, linearForward } from "./transformer.js";

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

/** Feeds one token; returns the next-token logits. */
export function decodeStep(s: DecodeState, token: number): Float32Array {
  const m = s.model;
  const { dim, heads, hidden, layers, context, vocab } = m.config;
  if (!(token >= 0 && token < vocab)) throw new Error(`token ${token} is outside the vocabulary of ${vocab}`);
  if (s.length === context) {
    const keep = s.tokens.slice(-Math.floor(context / 2));
    s.length = 0;
    s.tokens.length = 0;
    for (const t of keep) decodeStep(s, t);
  }
  const p = s.length;
  const dh = dim / heads;
  const sc = 1 / Math.sqrt(dh);
  let x = new Float32Array(dim);
  for (let e = 0; e < dim; e++) x[e] = m.w.tok[token * dim + e] + m.w.pos[p * dim + e];
  const inv = new Float32Array(1);
  const n = new Float32Array(dim);
  const q = new Float32Array(dim);
  const att = new Float32Array(dim);
  const o = new Float32Array(dim);
  const pre = new Float32Array(hidden);
  const act = new Float32Array(hidden);
  const scores = new Float32Array(p + 1);
  for (let l = 0; l < layers; l++) {
    rmsNorm(x, m.w[`l${l}.norm1`], 0, n, inv, 1, dim);
    linearForward(linear(m, s.adapter, null, l, "q"), n, 1, q);
    const kRow = s.keys[l].subarray(p * dim, (p + 1) * dim);
    const vRow = s.values[l].subarray(p * dim, (p + 1) * dim);
    linearForward(linear(m, s.adapter, null, l, "k"), n, 1, kRow);
    linearForward(linear(m, s.adapter, null, l, "v"), n, 1, vRow);
    att.fill(0);
    for (let h = 0; h < heads; h++) {
      const ho = h * dh;
      for (let j = 0; j <= p; j++) {
        let d = 0;
        for (let e = 0; e < dh; e++) d += q[ho + e] * s.keys[l][j * dim + ho + e];
        scores[j] = d * sc;
      }
      softmaxRow(scores, 0, p + 1);
      for (let j = 0; j <= p; j++) for (let e = 0; e < dh; e++) att[ho + e] += scores[j] * s.values[l][j * dim + ho + e];
    }
    linearForward(linear(m, s.adapter, null, l, "o"), att, 1, o);
    const mid = new Float32Array(dim);
    for (let e = 0; e < dim; e++) mid[e] = x[e] + o[e];
    rmsNorm(mid, m.w[`l${l}.norm2`], 0, n, inv, 1, dim);
    linearForward(linear(m, s.adapter, null, l, "up"), n, 1, pre);
    gelu(pre, act);
    linearForward(linear(m, s.adapter, null, l, "down"), act, 1, o);
    x = new Float32Array(dim);
    for (let e = 0; e < dim; e++) x[e] = mid[e] + o[e];
  }
  rmsNorm(x, m.w.normF, 0, n, inv, 1, dim);
  const logits = new Float32Array(vocab);
  matmul(n, m.w.head, logits, 1, dim, vocab);
  s.length++;
  s.tokens.push(token);
  return logits;
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
  tokens: number;
  finishReason: "stop" | "length";
}

/** Continues `prompt`; stops at the end-of-text token, a stop string or maxTokens. */
export function generate(model: Transformer, adapter: Adapter | null, prompt: string, o: SampleOptions): Generation {
  const s = new DecodeState(model, adapter);
  const ids = encode(prompt);
  if (ids.length === 0) ids.push(EOT); // an empty prompt starts a new document
  let logits: Float32Array = new Float32Array(0);
  for (const id of ids) logits = decodeStep(s, id);
  const rand = rng(o.seed);
  const out: number[] = [];
  for (let i = 0; i < o.maxTokens; i++) {
    const next = sampleToken(logits, o, rand);
    if (next === EOT) return { text: decode(out), tokens: out.length, finishReason: "stop" };
    out.push(next);
    const text = decode(out);
    const hit = o.stop?.map((st) => (st ? text.indexOf(st) : -1)).filter((k) => k >= 0);
    if (hit && hit.length > 0) return { text: text.slice(0, Math.min(...hit)), tokens: out.length, finishReason: "stop" };
    logits = decodeStep(s, next);
  }
  return { text: decode(out), tokens: out.length, finishReason: "length" };
}
