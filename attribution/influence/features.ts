// Sparse feature vectors for small specialized models. Text: unigram and
// bigram counts of attribution tokens, hashed (FNV-1a) into `dim` buckets,
// log(1 + tf), L2-normalized. Tabular: the numbers as given. Every vector gets
// a constant bias feature at index `dim`.
import { tokenize } from "../tokens/tokenize.js";

export interface SparseVector {
  idx: Int32Array;
  val: Float32Array;
}

export const DEFAULT_TEXT_DIM = 1 << 14;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function textFeatures(text: string, dim = DEFAULT_TEXT_DIM): SparseVector {
  const words = tokenize(text).map((t) => t.text);
  const tf = new Map<number, number>();
  const add = (s: string) => {
    const k = fnv1a(s) % dim;
    tf.set(k, (tf.get(k) ?? 0) + 1);
  };
  for (let i = 0; i < words.length; i++) {
    add(words[i]);
    if (i > 0) add(`${words[i - 1]} ${words[i]}`);
  }
  const keys = [...tf.keys()].sort((a, b) => a - b);
  const vals = keys.map((k) => Math.log1p(tf.get(k)!));
  const norm = Math.hypot(...vals) || 1;
  return { idx: Int32Array.from([...keys, dim]), val: Float32Array.from([...vals.map((v) => v / norm), 1]) };
}

export function denseFeatures(x: number[]): SparseVector {
  return { idx: Int32Array.from([...x.keys(), x.length]), val: Float32Array.from([...x, 1]) };
}

export function dot(a: SparseVector, w: Float64Array, offset: number): number {
  let s = 0;
  for (let k = 0; k < a.idx.length; k++) s += a.val[k] * w[offset + a.idx[k]];
  return s;
}
