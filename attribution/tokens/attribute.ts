// Token attribution of a model output against a suffix-array index, in the
// manner of infini-gram / OLMoTrace:
//   1. for every output position i, the longest run of output tokens starting
//      at i that occurs verbatim in the corpus (SA range narrowed token by token);
//   2. keep the maximal spans (not inside an earlier span) of at least
//      `minTokens` tokens that occur in at most `maxDocuments` documents;
//   3. weigh each span by its self-information, Σ -log2 p(token) under the
//      corpus unigram distribution, so that spans of very common tokens
//      ("of the", ",") count for little, and split that weight evenly among
//      the documents that contain the span.
// A document's score is the sum of its shares; contributors add up their
// documents. Scores are non-negative; slashed contributions can be excluded.
import type { SuffixIndex } from "./suffix-index.js";
import { tokenize } from "./tokenize.js";

export interface SpanMatch {
  /** Token range [start, end) in the output, and its characters [charStart, charEnd). */
  start: number;
  end: number;
  charStart: number;
  charEnd: number;
  text: string;
  /** Occurrences in the corpus and the documents (ids) they fall in. */
  occurrences: number;
  documents: string[];
  /** Self-information of the span in bits. */
  bits: number;
}

export interface TokenAttribution {
  spans: SpanMatch[];
  /** Score per document id (bits), only documents with a share. */
  documents: Map<string, number>;
  /** Score per contributor (bits). */
  contributors: Map<string, number>;
  outputTokens: number;
}

export interface AttributeOptions {
  /** Shortest span that counts (default 4 tokens). */
  minTokens?: number;
  /** Spans found in more documents than this identify no source and are skipped (default 32). */
  maxDocuments?: number;
  /** Spans carrying less self-information than this (bits) are set phrases, not evidence: skipped (default 60, measured in bench/RESULTS.md). */
  minBits?: number;
  /** Document ids that earn nothing (e.g. slashed contributions). */
  exclude?: Set<string>;
}

export function attributeTokens(index: SuffixIndex, output: string, opts: AttributeOptions = {}): TokenAttribution {
  const minTokens = opts.minTokens ?? 4;
  const minBits = opts.minBits ?? 60;
  const maxDocuments = opts.maxDocuments ?? 32;
  const toks = tokenize(output);
  const ids = toks.map((t) => index.idOf.get(t.text) ?? -1);
  const total = index.meta.tokens - index.meta.docs.length; // word tokens, without separators
  const bitsOf = (id: number) => -Math.log2(index.meta.counts[id - 1] / total);

  const spans: SpanMatch[] = [];
  let coveredTo = 0;
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] <= 0) continue; // a token the corpus never saw starts no span
    let [lo, hi] = index.rangeOf(ids[i]);
    let len = 1;
    while (i + len < ids.length && ids[i + len] > 0) {
      const [a, b] = index.narrow(lo, hi, len, ids[i + len]);
      if (a === b) break;
      [lo, hi, len] = [a, b, len + 1];
    }
    if (i + len <= coveredTo || len < minTokens) continue; // inside an earlier span, or too short
    coveredTo = i + len;
    const occurrences = hi - lo;
    const docs = new Set<number>();
    for (let k = lo; k < hi && docs.size <= maxDocuments; k++) docs.add(index.docAt(index.sa.get(k)));
    if (docs.size > maxDocuments) continue;
    let bits = 0;
    for (let k = i; k < i + len; k++) bits += bitsOf(ids[k]);
    if (bits < minBits) continue;
    spans.push({
      start: i, end: i + len, charStart: toks[i].start, charEnd: toks[i + len - 1].end,
      text: output.normalize("NFC").slice(toks[i].start, toks[i + len - 1].end),
      occurrences, documents: [...docs].map((d) => index.meta.docs[d].id), bits,
    });
  }

  const documents = new Map<string, number>();
  const contributors = new Map<string, number>();
  for (const s of spans) {
    const eligible = s.documents.filter((d) => !opts.exclude?.has(d));
    for (const d of eligible) documents.set(d, (documents.get(d) ?? 0) + s.bits / eligible.length);
  }
  const contributorOf = new Map(index.meta.docs.map((d) => [d.id, d.contributor]));
  for (const [d, score] of documents) {
    const c = contributorOf.get(d)!;
    contributors.set(c, (contributors.get(c) ?? 0) + score);
  }
  return { spans, documents, contributors, outputTokens: toks.length };
}
