// A small decoder-only transformer (GPT-style, pre-norm, RMSNorm, GELU MLP,
// learned positions, no biases) with optional LoRA adapters on any of its six
// projections per layer. Forward and backward are written out by hand over the
// kernels in kernels.ts; the same functions serve pretraining (all weights
// learn), fine-tuning (only the adapter learns, the base is read-only) and
// inference (forward only, see decode.ts).
import { Layout, gaussian, type TensorSpec } from "./params.js";
import { matmul, matmulBT, matmulATAccumulate, gelu, geluBackward, softmaxRow, rmsNorm, rmsNormBackward } from "./kernels.js";

export interface LMConfig {
  vocab: number;
  /** Longest sequence (learned positions). */
  context: number;
  dim: number;
  layers: number;
  heads: number;
  /** MLP width. */
  hidden: number;
}

/** The projections LoRA can adapt: attention (q, k, v, o) and MLP (up, down). */
export const PROJECTIONS = ["q", "k", "v", "o", "up", "down"] as const;
export type Projection = (typeof PROJECTIONS)[number];

export interface LoraConfig {
  rank: number;
  alpha: number;
  targets: Projection[];
}

export function projectionShape(c: LMConfig, p: Projection): [number, number] {
  if (p === "up") return [c.dim, c.hidden];
  if (p === "down") return [c.hidden, c.dim];
  return [c.dim, c.dim];
}

export function baseLayout(c: LMConfig): Layout {
  if (c.dim % c.heads !== 0) throw new Error(`dim ${c.dim} is not a multiple of heads ${c.heads}`);
  const specs: TensorSpec[] = [
    { name: "tok", rows: c.vocab, cols: c.dim },
    { name: "pos", rows: c.context, cols: c.dim },
  ];
  for (let l = 0; l < c.layers; l++) {
    specs.push({ name: `l${l}.norm1`, rows: 1, cols: c.dim });
    for (const p of ["q", "k", "v", "o"] as const) specs.push({ name: `l${l}.${p}`, rows: c.dim, cols: c.dim });
    specs.push({ name: `l${l}.norm2`, rows: 1, cols: c.dim });
    specs.push({ name: `l${l}.up`, rows: c.dim, cols: c.hidden }, { name: `l${l}.down`, rows: c.hidden, cols: c.dim });
  }
  specs.push({ name: "normF", rows: 1, cols: c.dim }, { name: "head", rows: c.dim, cols: c.vocab });
  return new Layout(specs);
}

export function loraLayout(c: LMConfig, lora: LoraConfig): Layout {
  const specs: TensorSpec[] = [];
  for (let l = 0; l < c.layers; l++)
    for (const p of PROJECTIONS) {
      if (!lora.targets.includes(p)) continue;
      const [inDim, outDim] = projectionShape(c, p);
      specs.push({ name: `l${l}.${p}.A`, rows: inDim, cols: lora.rank }, { name: `l${l}.${p}.B`, rows: lora.rank, cols: outDim });
    }
  return new Layout(specs);
}

/** GPT-2 style initialization: N(0, 0.02), residual projections scaled by 1/√(2·layers), gains 1. */
export function initBase(c: LMConfig, seed: number): Float32Array {
  const layout = baseLayout(c);
  const w = new Float32Array(layout.size);
  const g = gaussian(seed);
  const residual = 0.02 / Math.sqrt(2 * c.layers);
  for (const s of layout.specs) {
    const v = layout.views(w)[s.name];
    if (s.name.includes("norm")) v.fill(1);
    else {
      const std = s.name.endsWith(".o") || s.name.endsWith(".down") ? residual : 0.02;
      for (let i = 0; i < v.length; i++) v[i] = g() * std;
    }
  }
  return w;
}

/** LoRA initialization: A ~ N(0, 1/in), B = 0, so a fresh adapter leaves the model's output unchanged. */
export function initLora(c: LMConfig, lora: LoraConfig, seed: number): Float32Array {
  const layout = loraLayout(c, lora);
  const w = new Float32Array(layout.size);
  const g = gaussian(seed);
  const views = layout.views(w);
  for (const s of layout.specs) {
    if (!s.name.endsWith(".A")) continue;
    const std = 1 / Math.sqrt(s.rows);
    const v = views[s.name];
    for (let i = 0; i < v.length; i++) v[i] = g() * std;
  }
  return w;
}

/** A LoRA adapter's weights with the views of its A and B matrices. */
export class Adapter {
  readonly layout: Layout;
  readonly views: Record<string, Float32Array>;
  readonly scale: number;
  constructor(readonly config: LMConfig, readonly lora: LoraConfig, readonly params: Float32Array) {
    if (!(lora.rank >= 1)) throw new Error(`LoRA rank ${lora.rank} must be at least 1`);
    this.layout = loraLayout(config, lora);
    this.views = this.layout.views(params);
    this.scale = lora.alpha / lora.rank;
  }
}

export class Transformer {
  readonly layout: Layout;
  readonly w: Record<string, Float32Array>;
  constructor(readonly config: LMConfig, readonly params: Float32Array) {
    this.layout = baseLayout(config);
    this.w = this.layout.views(params);
  }
  get headDim(): number {
    return this.config.dim / this.config.heads;
  }
}

/** One linear map Y = X·W (+ s·(X·A)·B) and where its gradients go. */
interface Linear {
  W: Float32Array;
  dW: Float32Array | null;
  A: Float32Array | null;
  B: Float32Array | null;
  dA: Float32Array | null;
  dB: Float32Array | null;
  rank: number;
  scale: number;
  inDim: number;
  outDim: number;
}

interface Grads {
  base: Record<string, Float32Array> | null;
  adapter: Record<string, Float32Array> | null;
}

function linear(m: Transformer, adapter: Adapter | null, grads: Grads | null, l: number, p: Projection): Linear {
  const [inDim, outDim] = projectionShape(m.config, p);
  const key = `l${l}.${p}`;
  const has = adapter !== null && adapter.lora.targets.includes(p);
  return {
    W: m.w[key],
    dW: grads?.base?.[key] ?? null,
    A: has ? adapter.views[`${key}.A`] : null,
    B: has ? adapter.views[`${key}.B`] : null,
    dA: has ? grads?.adapter?.[`${key}.A`] ?? null : null,
    dB: has ? grads?.adapter?.[`${key}.B`] ?? null : null,
    rank: has ? adapter.lora.rank : 0,
    scale: has ? adapter.scale : 0,
    inDim,
    outDim,
  };
}

/** Y = X·W + s·(X·A)·B for N rows; returns s·X·A (kept for the backward pass) or null. */
export function linearForward(f: Linear, X: Float32Array, N: number, Y: Float32Array): Float32Array | null {
  matmul(X, f.W, Y, N, f.inDim, f.outDim);
  if (!f.A || !f.B) return null;
  const H = new Float32Array(N * f.rank);
  matmul(X, f.A, H, N, f.inDim, f.rank);
  for (let i = 0; i < H.length; i++) H[i] *= f.scale;
  matmul(H, f.B, Y, N, f.rank, f.outDim, true);
  return H;
}

/** Backward of linearForward: dX += dY·Wᵀ (+ the adapter's path), weight gradients accumulated where asked. */
function linearBackward(f: Linear, X: Float32Array, H: Float32Array | null, N: number, dY: Float32Array, dX: Float32Array | null): void {
  if (f.dW) matmulATAccumulate(X, dY, f.dW, N, f.inDim, f.outDim);
  if (dX) matmulBT(dY, f.W, dX, N, f.outDim, f.inDim, true);
  if (!f.A || !f.B || !H) return;
  if (f.dB) matmulATAccumulate(H, dY, f.dB, N, f.rank, f.outDim);
  const dH = new Float32Array(N * f.rank);
  matmulBT(dY, f.B, dH, N, f.outDim, f.rank);
  for (let i = 0; i < dH.length; i++) dH[i] *= f.scale;
  if (f.dA) matmulATAccumulate(X, dH, f.dA, N, f.inDim, f.rank);
  if (dX) matmulBT(dH, f.A, dX, N, f.rank, f.inDim, true);
}

interface LayerCache {
  x: Float32Array;
  n1: Float32Array;
  inv1: Float32Array;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  hq: Float32Array | null;
  hk: Float32Array | null;
  hv: Float32Array | null;
  probs: Float32Array;
  att: Float32Array;
  ho: Float32Array | null;
  mid: Float32Array;
  n2: Float32Array;
  inv2: Float32Array;
  pre: Float32Array;
  act: Float32Array;
  hup: Float32Array | null;
  hdown: Float32Array | null;
}

/** Causal multi-head attention over B sequences of T rows; probabilities kept as [B, heads, T, T]. */
function attention(m: Transformer, q: Float32Array, k: Float32Array, v: Float32Array, Bn: number, T: number, out: Float32Array, probs: Float32Array): void {
  const { dim, heads } = m.config;
  const dh = m.headDim;
  const sc = 1 / Math.sqrt(dh);
  out.fill(0);
  for (let b = 0; b < Bn; b++)
    for (let h = 0; h < heads; h++) {
      const pBase = (b * heads + h) * T * T;
      for (let i = 0; i < T; i++) {
        const qi = (b * T + i) * dim + h * dh;
        const pRow = pBase + i * T;
        for (let j = 0; j <= i; j++) {
          const kj = (b * T + j) * dim + h * dh;
          let s = 0;
          for (let e = 0; e < dh; e++) s += q[qi + e] * k[kj + e];
          probs[pRow + j] = s * sc;
        }
        softmaxRow(probs, pRow, i + 1);
        const oi = qi;
        for (let j = 0; j <= i; j++) {
          const p = probs[pRow + j];
          const vj = (b * T + j) * dim + h * dh;
          for (let e = 0; e < dh; e++) out[oi + e] += p * v[vj + e];
        }
      }
    }
}

function attentionBackward(m: Transformer, c: LayerCache, Bn: number, T: number, dOut: Float32Array, dq: Float32Array, dk: Float32Array, dv: Float32Array): void {
  const { dim, heads } = m.config;
  const dh = m.headDim;
  const sc = 1 / Math.sqrt(dh);
  const dP = new Float32Array(T);
  for (let b = 0; b < Bn; b++)
    for (let h = 0; h < heads; h++) {
      const pBase = (b * heads + h) * T * T;
      for (let i = 0; i < T; i++) {
        const oi = (b * T + i) * dim + h * dh;
        const pRow = pBase + i * T;
        let dot = 0;
        for (let j = 0; j <= i; j++) {
          const vj = (b * T + j) * dim + h * dh;
          let s = 0;
          for (let e = 0; e < dh; e++) s += dOut[oi + e] * c.v[vj + e];
          dP[j] = s;
          dot += s * c.probs[pRow + j];
          const p = c.probs[pRow + j];
          for (let e = 0; e < dh; e++) dv[vj + e] += p * dOut[oi + e];
        }
        for (let j = 0; j <= i; j++) {
          const dS = c.probs[pRow + j] * (dP[j] - dot) * sc;
          if (dS === 0) continue;
          const kj = (b * T + j) * dim + h * dh;
          for (let e = 0; e < dh; e++) {
            dq[oi + e] += dS * c.k[kj + e];
            dk[kj + e] += dS * c.q[oi + e];
          }
        }
      }
    }
}

export interface StepResult {
  /** Mean cross-entropy (nats per token) over the B·T predicted tokens. */
  loss: number;
}

/**
 * Forward pass over B sequences of T+1 tokens each (row-major in `tokens`):
 * predicts tokens 1..T from 0..T-1. With `grads`, also the backward pass,
 * accumulating into grads.base (pretraining) and/or grads.adapter (LoRA).
 */
export function forwardBackward(
  m: Transformer,
  adapter: Adapter | null,
  tokens: Int32Array,
  Bn: number,
  T: number,
  grads: Grads | null = null,
): StepResult {
  const { dim, vocab, hidden, heads, layers, context } = m.config;
  if (T > context) throw new Error(`sequence of ${T} tokens is longer than the context ${context}`);
  if (tokens.length !== Bn * (T + 1)) throw new Error(`expected ${Bn * (T + 1)} tokens, got ${tokens.length}`);
  const N = Bn * T;
  // Embeddings.
  let x = new Float32Array(N * dim);
  for (let b = 0; b < Bn; b++)
    for (let t = 0; t < T; t++) {
      const id = tokens[b * (T + 1) + t];
      if (!(id >= 0 && id < vocab)) throw new Error(`token ${id} is outside the vocabulary of ${vocab}`);
      const r = (b * T + t) * dim;
      for (let e = 0; e < dim; e++) x[r + e] = m.w.tok[id * dim + e] + m.w.pos[t * dim + e];
    }
  const caches: LayerCache[] = [];
  for (let l = 0; l < layers; l++) {
    const c = { x } as LayerCache;
    c.n1 = new Float32Array(N * dim);
    c.inv1 = new Float32Array(N);
    rmsNorm(x, m.w[`l${l}.norm1`], 0, c.n1, c.inv1, N, dim);
    c.q = new Float32Array(N * dim);
    c.k = new Float32Array(N * dim);
    c.v = new Float32Array(N * dim);
    c.hq = linearForward(linear(m, adapter, grads, l, "q"), c.n1, N, c.q);
    c.hk = linearForward(linear(m, adapter, grads, l, "k"), c.n1, N, c.k);
    c.hv = linearForward(linear(m, adapter, grads, l, "v"), c.n1, N, c.v);
    c.probs = new Float32Array(Bn * heads * T * T);
    c.att = new Float32Array(N * dim);
    attention(m, c.q, c.k, c.v, Bn, T, c.att, c.probs);
    const o = new Float32Array(N * dim);
    c.ho = linearForward(linear(m, adapter, grads, l, "o"), c.att, N, o);
    c.mid = new Float32Array(N * dim);
    for (let i = 0; i < c.mid.length; i++) c.mid[i] = x[i] + o[i];
    c.n2 = new Float32Array(N * dim);
    c.inv2 = new Float32Array(N);
    rmsNorm(c.mid, m.w[`l${l}.norm2`], 0, c.n2, c.inv2, N, dim);
    c.pre = new Float32Array(N * hidden);
    c.hup = linearForward(linear(m, adapter, grads, l, "up"), c.n2, N, c.pre);
    c.act = new Float32Array(N * hidden);
    gelu(c.pre, c.act);
    const down = new Float32Array(N * dim);
    c.hdown = linearForward(linear(m, adapter, grads, l, "down"), c.act, N, down);
    const next = new Float32Array(N * dim);
    for (let i = 0; i < next.length; i++) next[i] = c.mid[i] + down[i];
    caches.push(c);
    x = next;
  }
  const nF = new Float32Array(N * dim);
  const invF = new Float32Array(N);
  rmsNorm(x, m.w.normF, 0, nF, invF, N, dim);
  const logits = new Float32Array(N * vocab);
  matmul(nF, m.w.head, logits, N, dim, vocab);
  let loss = 0;
  for (let b = 0; b < Bn; b++)
    for (let t = 0; t < T; t++) {
      const r = b * T + t;
      const target = tokens[b * (T + 1) + t + 1];
      softmaxRow(logits, r * vocab, vocab); // logits now hold probabilities
      loss -= Math.log(Math.max(logits[r * vocab + target], 1e-30));
    }
  loss /= N;
  if (!grads) return { loss };

  // Backward. dlogits = (p - onehot) / N.
  const dLogits = logits;
  for (let b = 0; b < Bn; b++)
    for (let t = 0; t < T; t++) {
      const r = b * T + t;
      dLogits[r * vocab + tokens[b * (T + 1) + t + 1]] -= 1;
    }
  for (let i = 0; i < dLogits.length; i++) dLogits[i] /= N;
  const gb = grads.base;
  if (gb) matmulATAccumulate(nF, dLogits, gb.head, N, dim, vocab);
  const dNF = new Float32Array(N * dim);
  matmulBT(dLogits, m.w.head, dNF, N, vocab, dim);
  let dx = new Float32Array(N * dim);
  rmsNormBackward(x, m.w.normF, 0, invF, dNF, dx, gb?.normF ?? null, N, dim);
  for (let l = layers - 1; l >= 0; l--) {
    const c = caches[l];
    // x_out = mid + down(gelu(up(norm2(mid))))
    const dMid = dx; // the residual passes straight through
    const dAct = new Float32Array(N * hidden);
    linearBackward(linear(m, adapter, grads, l, "down"), c.act, c.hdown, N, dx, dAct);
    const dPre = new Float32Array(N * hidden);
    geluBackward(c.pre, dAct, dPre);
    const dN2 = new Float32Array(N * dim);
    linearBackward(linear(m, adapter, grads, l, "up"), c.n2, c.hup, N, dPre, dN2);
    rmsNormBackward(c.mid, m.w[`l${l}.norm2`], 0, c.inv2, dN2, dMid, gb?.[`l${l}.norm2`] ?? null, N, dim);
    // mid = x + o(att(q, k, v))
    const dAtt = new Float32Array(N * dim);
    linearBackward(linear(m, adapter, grads, l, "o"), c.att, c.ho, N, dMid, dAtt);
    const dq = new Float32Array(N * dim);
    const dk = new Float32Array(N * dim);
    const dv = new Float32Array(N * dim);
    attentionBackward(m, c, Bn, T, dAtt, dq, dk, dv);
    const dN1 = new Float32Array(N * dim);
    linearBackward(linear(m, adapter, grads, l, "q"), c.n1, c.hq, N, dq, dN1);
    linearBackward(linear(m, adapter, grads, l, "k"), c.n1, c.hk, N, dk, dN1);
    linearBackward(linear(m, adapter, grads, l, "v"), c.n1, c.hv, N, dv, dN1);
    const dX = dMid; // residual
    rmsNormBackward(c.x, m.w[`l${l}.norm1`], 0, c.inv1, dN1, dX, gb?.[`l${l}.norm1`] ?? null, N, dim);
    dx = dX;
  }
  if (gb)
    for (let b = 0; b < Bn; b++)
      for (let t = 0; t < T; t++) {
        const id = tokens[b * (T + 1) + t];
        const r = (b * T + t) * dim;
        for (let e = 0; e < dim; e++) {
          gb.tok[id * dim + e] += dx[r + e];
          gb.pos[t * dim + e] += dx[r + e];
        }
      }
  return { loss };
}

/** W + s·A·B for every adapted projection: the merged weights (for checks; serving keeps them apart). */
export function mergeAdapter(m: Transformer, a: Adapter): Transformer {
  const merged = new Transformer(m.config, Float32Array.from(m.params));
  for (let l = 0; l < m.config.layers; l++)
    for (const p of a.lora.targets) {
      const [inDim, outDim] = projectionShape(m.config, p);
      const AB = new Float32Array(inDim * outDim);
      matmul(a.views[`l${l}.${p}.A`], a.views[`l${l}.${p}.B`], AB, inDim, a.lora.rank, outDim);
      const W = merged.w[`l${l}.${p}`];
      for (let i = 0; i < W.length; i++) W[i] += a.scale * AB[i];
    }
  return merged;
}

export type { Grads, Linear };
export { linear };
