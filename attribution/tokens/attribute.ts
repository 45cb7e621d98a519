// Token attribution of a model output against a suffix-array index, in the
// manner of infini-gram / OLMoTrace, made robust to text that many
// contributions share:
//   1. From every output position i, the longest run of output tokens found
//      verbatim in the corpus, narrowing the suffix-array range token by token.
//      The nested ranges say, for each occurrence, how far it matches: so each
//      document gets its own maximal run [i, i + m_d) (an occurrence that the
//      output's previous token also precedes started earlier), and a document
//      that matches one token less than another still gets a run (one token of
//      context does not move all the credit).
//   2. Each token carries information: −log2 of its probability given the run
//      so far, estimated from the corpus with one copy left out (the copy the
//      output may have come from) and smoothed towards the token's unigram
//      frequency with pseudo-count κ, capped at the unigram information:
//          p = (c(prefix + t) − 1 + κ·p₁(t)) / (c(prefix) − 1 + κ)
//      Text that only one contribution holds keeps its unigram information;
//      text that many hold (signatures, headers, quotations) is predictable
//      from the other copies and carries little. A repeated punctuation mark
//      ("_____") carries nothing.
//   3. A document's run is evidence when it has at least `minTokens` tokens,
//      at most `maxDocuments` documents match that long, and its share of the
//      information (the run's bits over the number of documents matching that
//      long) reaches `minBits`: text that several contributions hold must carry
//      that much more to credit each of them.
//   4. Each output token's information is split evenly among the documents
//      whose runs cover it. A document's score is the sum of its shares;
//      contributors add up their documents.
// Cost: O(output length × longest match × log corpus) page reads plus at most
// `maxDocuments` × 8 suffix-array reads per start; nothing scales with the
// number of documents.
import type { BackgroundModel } from "./background.js";
import type { SuffixIndex } from "./suffix-index.js";
import { tokenize } from "./tokenize.js";

export interface SpanMatch {
  /** Token range [start, end) in the output (the longest accepted run from `start`), and its characters. */
  start: number;
  end: number;
  charStart: number;
  charEnd: number;
  text: string;
  /** Occurrences in the corpus of the whole span. */
  occurrences: number;
  /** Documents (ids) with an accepted run starting here. */
  documents: string[];
  /** Information of the span in bits. */
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
  /** Shortest run that counts (default 4 tokens). */
  minTokens?: number;
  /** Runs that more documents than this match identify no source and are skipped (default 32). */
  maxDocuments?: number;
  /** A run whose information per matching document is below this (bits) is not evidence (default 50; bench/RESULTS.md shows the curve). */
  minBits?: number;
  /** κ: how strongly other copies of the text make it predictable (default 2; larger keeps more information in text a few contributions share; Infinity: unigram information). */
  contextPrior?: number;
  /** General text's model: a token carries at most its background information (background.ts). */
  background?: BackgroundModel;
  /** Document ids that earn nothing (e.g. slashed contributions). */
  exclude?: Set<string>;
}

export const TOKEN_DEFAULTS = { minTokens: 4, maxDocuments: 32, minBits: 50, contextPrior: 2 } as const;
/** Suffix-array entries read per start: this many per admissible document. */
const OCCURRENCES_PER_DOCUMENT = 8;
const PUNCTUATION = /^[^\p{L}\p{N}]$/u;

export function attributeTokens(index: SuffixIndex, output: string, opts: AttributeOptions = {}): TokenAttribution {
  const { minTokens, maxDocuments, minBits, contextPrior: kappa } = { ...TOKEN_DEFAULTS, ...opts };
  const maxOccurrences = OCCURRENCES_PER_DOCUMENT * maxDocuments;
  const toks = tokenize(output);
  const ids = toks.map((t) => index.idOf.get(t.text) ?? -1);
  const unigram = (id: number) => index.meta.counts[id - 1] / index.wordTokens;
  const repeatedMark = (j: number) => j > 0 && toks[j].text === toks[j - 1].text && PUNCTUATION.test(toks[j].text);
  const excluded = (d: number) => opts.exclude?.has(index.docId(d)) ?? false;
  const background = opts.background?.bits(toks.map((t) => t.text));
  const capped = (bits: number, j: number) => (background ? Math.min(bits, background[j]) : bits);

  const weight = new Float64Array(toks.length).fill(-1); // a token's information, from the first run that covers it
  const cover: number[][] = toks.map(() => []); // documents whose runs cover the token
  const coveredTo = new Map<number, number>(); // document → end of its latest run
  const spans: SpanMatch[] = [];
  const lo: number[] = [], hi: number[] = [], cum: number[] = [0];
  const prevSize: number[] = []; // range sizes by length from the previous start (empty when it was not a start)

  for (let i = 0; i < ids.length; i++) {
    if (ids[i] <= 0) {
      prevSize.length = 0;
      continue; // a token the corpus never saw starts no run
    }
    // 1. Narrow: [lo[k], hi[k]) holds the suffixes starting with the k tokens at i; cum[k] their information.
    [lo[1], hi[1]] = index.rangeOf(ids[i]);
    cum[1] = repeatedMark(i) ? 0 : capped(-Math.log2(unigram(ids[i])), i);
    let len = 1;
    while (i + len < ids.length && ids[i + len] > 0) {
      const t = ids[i + len];
      const [a, b] = index.narrow(lo[len], hi[len], len, t);
      if (a === b) break;
      const p = kappa === Infinity ? unigram(t) : (b - a - 1 + kappa * unigram(t)) / (hi[len] - lo[len] - 1 + kappa);
      const bits = repeatedMark(i + len) ? 0 : capped(Math.min(-Math.log2(unigram(t)), -Math.log2(p)), i + len);
      len++;
      [lo[len], hi[len], cum[len]] = [a, b, cum[len - 1] + bits];
    }
    if (len < minTokens) {
      for (let k = 1; k <= len; k++) prevSize[k] = hi[k] - lo[k];
      prevSize.length = len + 1;
      continue;
    }

    // 2. How far each document matches: read the shortest admissible range once. Only maximal runs
    // are candidates: an occurrence that the previous output token also precedes belongs to a run
    // that starts earlier (and was judged there). When every occurrence is such a continuation,
    // nothing new can start here.
    let k0 = minTokens;
    while (k0 <= len && hi[k0] - lo[k0] > maxOccurrences) k0++;
    const continuing = k0 + 1 < prevSize.length ? prevSize[k0 + 1] : 0;
    for (let k = 1; k <= len; k++) prevSize[k] = hi[k] - lo[k];
    prevSize.length = len + 1;
    if (k0 > len || continuing === hi[k0] - lo[k0]) continue; // too common at every length, or nothing new
    const matching = new Map<number, number>(); // document → longest match, any occurrence
    const reach = new Map<number, number>(); // document → longest maximal run starting here
    const before = i > 0 ? ids[i - 1] : -1;
    for (let s = lo[k0]; s < hi[k0]; s++) {
      let m = len;
      while (s < lo[m] || s >= hi[m]) m--; // ranges are nested: the longest one holding s
      const pos = index.sa.get(s);
      const d = index.docAt(pos);
      if (m > (matching.get(d) ?? 0)) matching.set(d, m);
      const extendsLeft = before > 0 && pos > 0 && index.tokens.get(pos - 1) === before;
      if (!extendsLeft && m > (reach.get(d) ?? 0)) reach.set(d, m);
    }
    // 3. Accept runs: at most maxDocuments documents match this long, enough information per document, not already covered.
    const lengths = [...matching.values()].sort((x, y) => y - x);
    const accepted: [number, number][] = [];
    for (const [d, m] of reach) {
      const matchingThisLong = lengths.filter((x) => x >= m).length;
      if (matchingThisLong > maxDocuments || cum[m] / matchingThisLong < minBits || excluded(d) || i + m <= (coveredTo.get(d) ?? 0)) continue;
      accepted.push([d, m]);
    }
    if (accepted.length === 0) continue;
    accepted.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    for (const [d, m] of accepted) {
      coveredTo.set(d, i + m);
      for (let j = i; j < i + m; j++) {
        if (weight[j] < 0) weight[j] = cum[j - i + 1] - cum[j - i];
        if (!cover[j].includes(d)) cover[j].push(d);
      }
    }
    const end = i + accepted[0][1];
    spans.push({
      start: i, end, charStart: toks[i].start, charEnd: toks[end - 1].end,
      text: output.normalize("NFC").slice(toks[i].start, toks[end - 1].end),
      occurrences: hi[end - i] - lo[end - i], documents: accepted.map(([d]) => index.docId(d)), bits: cum[end - i],
    });
  }

  // 4. Split each covered token's information among the documents covering it.
  const byDoc = new Map<number, number>();
  cover.forEach((docs, j) => {
    for (const d of docs) byDoc.set(d, (byDoc.get(d) ?? 0) + weight[j] / docs.length);
  });
  const documents = new Map<string, number>();
  const contributors = new Map<string, number>();
  for (const [d, score] of byDoc) {
    if (score <= 0) continue;
    documents.set(index.docId(d), score);
    const c = index.contributorOf(d);
    contributors.set(c, (contributors.get(c) ?? 0) + score);
  }
  return { spans, documents, contributors, outputTokens: toks.length };
}
