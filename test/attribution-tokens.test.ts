// Token attribution: SA-IS against a naive suffix sort, and exact spans,
// documents and scores on a small corpus whose answers are known by hand.
import { expect } from "chai";
import fc from "fast-check";
import { mkdtempSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attributeTokens } from "../attribution/tokens/attribute.js";
import { suffixArray } from "../attribution/tokens/sais.js";
import { buildIndex, SuffixIndex } from "../attribution/tokens/suffix-index.js";
import { tokenize } from "../attribution/tokens/tokenize.js";

function naiveSuffixArray(T: Int32Array): number[] {
  const cmp = (a: number, b: number) => {
    for (let k = 0; ; k++) {
      if (a + k >= T.length) return -1;
      if (b + k >= T.length) return 1;
      if (T[a + k] !== T[b + k]) return T[a + k] - T[b + k];
    }
  };
  return [...T.keys()].sort(cmp);
}

describe("SA-IS suffix array", () => {
  it("sorts banana", () => {
    // b a n a n a $ → 2 1 3 1 3 1 0
    expect([...suffixArray(Int32Array.of(2, 1, 3, 1, 3, 1, 0), 4)]).to.deep.equal([6, 5, 3, 1, 0, 4, 2]);
  });

  it("agrees with a naive suffix sort on random strings over small and large alphabets", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 80 }), fc.integer({ min: 0, max: 1 }), (xs, wide) => {
        const T = Int32Array.from([...xs.map((x) => (wide ? x * 1000 + (x % 7) : x)), 0]);
        const K = wide ? 4000 : 4;
        expect([...suffixArray(T, K)]).to.deep.equal(naiveSuffixArray(T));
      }),
      { numRuns: 500, seed: 5 },
    );
  });

  it("refuses an input without the sentinel", () => {
    expect(() => suffixArray(Int32Array.of(2, 1), 3)).to.throw("must end with the sentinel 0");
  });
});

describe("suffix-array token attribution", () => {
  const dir = mkdtempSync(join(tmpdir(), "poa-sa-"));
  const docs = [
    { id: "A", contributor: "alice", text: "The quick brown fox jumps over the lazy dog." },
    { id: "B", contributor: "bob", text: "A quick brown fox is rarely seen in the city." },
    { id: "C", contributor: "carol", text: "Never jump over the lazy dog while it sleeps." },
  ];
  let index: SuffixIndex;
  before(() => {
    const stats = buildIndex(dir, docs);
    expect(stats).to.include({ documents: 3, tokens: 10 + 11 + 10 + 3 });
    index = new SuffixIndex(dir);
  });
  after(() => index?.close());

  const bits = (words: string[]) => {
    const total = index.meta.tokens - index.meta.docs.length;
    return words.reduce((s, w) => s - Math.log2(index.meta.counts[index.idOf.get(w)! - 1] / total), 0);
  };

  it("tokenizes words, numbers and punctuation with their character ranges", () => {
    expect(tokenize("Don’t panic: 42 times!").map((t) => [t.text, t.start, t.end])).to.deep.equal([
      ["don’t", 0, 5], ["panic", 6, 11], [":", 11, 12], ["42", 13, 15], ["times", 16, 21], ["!", 21, 22],
    ]);
  });

  it("finds the maximal span and credits its only source", () => {
    const out = "Yesterday the quick brown fox jumps over the lazy dog again";
    const r = attributeTokens(index, out, { minBits: 0 });
    expect(r.spans.map((s) => [s.start, s.end, s.text, s.documents])).to.deep.equal([[1, 10, "the quick brown fox jumps over the lazy dog", ["A"]]]);
    const expected = bits(["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]);
    expect(r.spans[0].bits).to.be.closeTo(expected, 1e-9);
    expect([...r.contributors.keys()]).to.deep.equal(["alice"]);
    expect(r.contributors.get("alice")).to.be.closeTo(expected, 1e-9);
  });

  it("keeps only maximal spans: a sub-span found in another document earns nothing", () => {
    const r = attributeTokens(index, "a quick brown fox jumps over the lazy dog", { minBits: 0 });
    // "a quick brown fox" (B), then "quick brown fox jumps over the lazy dog" (A);
    // "over the lazy dog" is also in C but lies inside A's span.
    expect(r.spans.map((s) => [s.start, s.end, s.documents])).to.deep.equal([[0, 4, ["B"]], [1, 9, ["A"]]]);
    expect([...r.contributors.keys()].sort()).to.deep.equal(["alice", "bob"]);
  });

  it("splits a span's weight among the documents that hold it; common-token spans weigh less", () => {
    const r = attributeTokens(index, "over the lazy dog", { minTokens: 3, minBits: 0 });
    expect(r.spans.map((s) => [s.start, s.end, s.occurrences, [...s.documents].sort()])).to.deep.equal([[0, 4, 2, ["A", "C"]]]);
    const w = bits(["over", "the", "lazy", "dog"]);
    expect(r.documents.get("A")).to.be.closeTo(w / 2, 1e-9);
    expect(r.documents.get("C")).to.be.closeTo(w / 2, 1e-9);
    // "the" appears 4 times among 31 words, "lazy" twice: the span's weight favours rare tokens.
    expect(bits(["the"])).to.be.lessThan(bits(["lazy"]));
  });

  it("ignores spans shorter than minTokens, too common spans, and excluded documents", () => {
    expect(attributeTokens(index, "quick brown", { minTokens: 3, minBits: 0 }).spans).to.deep.equal([]);
    expect(attributeTokens(index, "over the lazy dog", { minTokens: 3, maxDocuments: 1, minBits: 0 }).spans).to.deep.equal([]);
    const r = attributeTokens(index, "over the lazy dog", { minTokens: 3, minBits: 0, exclude: new Set(["A"]) });
    expect([...r.documents.entries()].map(([d, s]) => [d, s.toFixed(6)])).to.deep.equal([["C", bits(["over", "the", "lazy", "dog"]).toFixed(6)]]);
    // A span carrying fewer bits than minBits is a set phrase, not evidence (the default floor is 60 bits).
    const span = "the quick brown fox jumps over the lazy dog";
    const w = bits(span.split(" "));
    expect(attributeTokens(index, span, { minBits: w + 0.01 }).spans).to.deep.equal([]);
    expect(attributeTokens(index, span, { minBits: w - 0.01 }).spans).to.have.length(1);
    expect(attributeTokens(index, span).spans, "default floor").to.deep.equal([]);
    expect(attributeTokens(index, "entirely novel words here", { minBits: 0 }).contributors.size).to.equal(0);
  });

  it("reads the index from disk and refuses a truncated one", () => {
    const again = new SuffixIndex(dir);
    expect(attributeTokens(again, "the lazy dog while it sleeps", { minBits: 0 }).spans.map((s) => s.documents)).to.deep.equal([["C"]]);
    again.close();
    truncateSync(join(dir, "sa.u32"), 8);
    expect(() => new SuffixIndex(dir)).to.throw("must both hold 34 entries");
  });
});
