// A background model of general text, for token attribution: how predictable a
// token is from text that no contribution owns (the base model's pretraining
// corpus, or any reference text). A run of rare words that one contribution
// happens to hold — an author's name and a book title, a famous quotation — is
// rare in the index but common in general text, and so is cheap evidence that
// the contribution shaped the answer.
//
// The model is an n-gram model read off a suffix-array index of the reference
// text (infini-gram's counts, bounded order), smoothed hierarchically: with
// ctx_n the n tokens before t and β the concentration,
//     p_0(t) = c(t) / W                                   (W tokens)
//     p_n(t) = (c(ctx_n t) + β·p_{n−1}(t)) / (c(ctx_n) + β)   while c(ctx_n) > 0
// A token's background information is −log2 p at the longest order whose
// context the reference holds. Text the reference saw once keeps about
// log2(1 + β) bits per token. A word the reference never saw has no background
// information (Infinity): a small reference says nothing about it, and the
// index's own estimate decides.
import type { SuffixIndex } from "./suffix-index.js";

export interface BackgroundOptions {
  /** Longest n-gram (context + token), default 6. */
  order?: number;
  /** β: how far one occurrence in the reference is trusted (default 2). */
  concentration?: number;
}

export class BackgroundModel {
  readonly order: number;
  readonly concentration: number;

  constructor(readonly index: SuffixIndex, opts: BackgroundOptions = {}) {
    this.order = opts.order ?? 6;
    this.concentration = opts.concentration ?? 2;
    if (!Number.isInteger(this.order) || this.order < 1) throw new Error(`background order must be a positive integer, got ${this.order}`);
    if (!(this.concentration > 0)) throw new Error(`background concentration must be positive, got ${this.concentration}`);
  }

  /** Each token's information in bits, given up to order − 1 tokens before it (Infinity for a word the reference never saw). */
  bits(words: string[]): Float64Array {
    const { index, order, concentration: beta } = this;
    const ids = words.map((w) => index.idOf.get(w) ?? -1);
    // counts[s][l]: occurrences in the reference of the l tokens from s (l ≤ order; 0 once absent).
    const counts = ids.map((id, s) => {
      const row = new Float64Array(order + 1);
      if (id <= 0) return row;
      let [lo, hi] = index.rangeOf(id);
      row[1] = hi - lo;
      for (let l = 1; l < order && s + l < ids.length && ids[s + l] > 0; l++) {
        [lo, hi] = index.narrow(lo, hi, l, ids[s + l]);
        if (lo === hi) break;
        row[l + 1] = hi - lo;
      }
      return row;
    });
    const out = new Float64Array(words.length);
    for (let j = 0; j < words.length; j++) {
      if (ids[j] <= 0) {
        out[j] = Infinity;
        continue;
      }
      let p = counts[j][1] / index.wordTokens;
      for (let n = 1; n < order && n <= j; n++) {
        const context = counts[j - n][n];
        if (context === 0) break;
        p = (counts[j - n][n + 1] + beta * p) / (context + beta);
      }
      out[j] = -Math.log2(p);
    }
    return out;
  }
}
