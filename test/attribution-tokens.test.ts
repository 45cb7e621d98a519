// Token attribution: SA-IS against a naive suffix sort, and exact spans,
// documents and scores on a small corpus whose answers are known by hand.
import { expect } from "chai";
import fc from "fast-check";
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attributeTokens, TOKEN_DEFAULTS } from "../attribution/tokens/attribute.js";
import { BackgroundModel } from "../attribution/tokens/background.js";
import { PackedUintFile, widthFor, writePacked } from "../attribution/tokens/packed-file.js";
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

describe("packed index files", () => {
  it("reads back what was written, resident or paged, at every width (3-byte values straddle 4 KiB pages)", () => {
    const dir = mkdtempSync(join(tmpdir(), "poa-packed-"));
    for (const width of [1, 2, 3, 4]) {
      const values = Array.from({ length: 5000 }, (_, i) => (i * 2654435761) % 2 ** (8 * width));
      writePacked(join(dir, `w${width}`), values, width);
      for (const resident of [Infinity, 0]) {
        const f = new PackedUintFile(join(dir, `w${width}`), width, resident, 2);
        expect(f.length).to.equal(5000);
        expect(Array.from({ length: 5000 }, (_, i) => f.get(i)), `width ${width}, resident ${resident}`).to.deep.equal(values);
        f.close();
      }
    }
    expect([255, 256, 2 ** 24 - 1, 2 ** 24].map(widthFor)).to.deep.equal([1, 2, 3, 4]);
    expect(() => new PackedUintFile(join(dir, "w1"), 3, Infinity)).to.throw("5000 bytes is not a whole number of 3-byte values");
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
    expect(stats).to.include({ documents: 3, tokens: 10 + 11 + 10 + 3, bytesPerToken: 2 }); // 27 words: 1-byte ids; 34 positions: 1 byte
    index = new SuffixIndex(dir);
  });
  after(() => index?.close());

  const uni = (w: string) => -Math.log2(index.meta.counts[index.idOf.get(w)! - 1] / 31); // 31 words in the corpus
  const bits = (words: string[]) => words.reduce((s, w) => s + uni(w), 0);
  /** The information of `w` after a prefix found c times, followed by w c' times, one copy left out (κ = 2). */
  const loo = (w: string, c: number, cNext: number) => Math.min(uni(w), -Math.log2((cNext - 1 + 2 * 2 ** -uni(w)) / (c - 1 + 2)));

  it("tokenizes words, numbers and punctuation with their character ranges", () => {
    expect(tokenize("Don’t panic: 42 times!").map((t) => [t.text, t.start, t.end])).to.deep.equal([
      ["don't", 0, 5], ["panic", 6, 11], [":", 11, 12], ["42", 13, 15], ["times", 16, 21], ["!", 21, 22],
    ]);
    // Typography folds: a typed "--" is a typeset "—" or "–", curly quotes are straight ones.
    const words = (s: string) => tokenize(s).map((t) => t.text);
    expect(words("“Hi” -- Mark Twain")).to.deep.equal(['"', "hi", '"', "-", "mark", "twain"]);
    expect(words('"Hi" — Mark Twain')).to.deep.equal(words("“Hi” -- Mark Twain"));
    expect(words("well–known ‘it’s’")).to.deep.equal(["well", "-", "known", "'", "it's", "'"]);
    expect(tokenize("a -- b").map((t) => [t.start, t.end])).to.deep.equal([[0, 1], [2, 4], [5, 6]]); // ranges stay in the text
  });

  it("finds the maximal span and credits its sources with the span's unigram information", () => {
    const out = "Yesterday the quick brown fox jumps over the lazy dog again";
    const r = attributeTokens(index, out, { minBits: 0 });
    // A's run, and C's "over the lazy dog" inside it: those four tokens are split between A and C.
    expect(r.spans.map((s) => [s.start, s.end, s.text, s.documents])).to.deep.equal([
      [1, 10, "the quick brown fox jumps over the lazy dog", ["A"]],
      [6, 10, "over the lazy dog", ["C"]],
    ]);
    // After "the" (4 copies) the text is A's alone: every token keeps its unigram information.
    const expected = bits(["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]);
    expect(r.spans[0].bits).to.be.closeTo(expected, 1e-9);
    const shared = bits(["over", "the", "lazy", "dog"]);
    expect([...r.contributors.keys()]).to.deep.equal(["alice", "carol"]);
    expect(r.contributors.get("alice")).to.be.closeTo(expected - shared / 2, 1e-9);
    expect(r.contributors.get("carol")).to.be.closeTo(shared / 2, 1e-9);
    expect(attributeTokens(index, out, { minBits: 0, exclude: new Set(["C"]) }).contributors.get("alice")).to.be.closeTo(expected, 1e-9);
  });

  it("gives each document the run it matches and splits overlapping tokens among them", () => {
    const r = attributeTokens(index, "a quick brown fox jumps over the lazy dog", { minBits: 0 });
    // "a quick brown fox" (B), "quick brown fox jumps over the lazy dog" (A), "over the lazy dog" (C).
    expect(r.spans.map((s) => [s.start, s.end, s.documents])).to.deep.equal([[0, 4, ["B"]], [1, 9, ["A"]], [5, 9, ["C"]]]);
    const [a, quick, brown, fox, jumps, over, the, lazy, dog] = ["a", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"].map(uni);
    expect(r.documents.get("B")).to.be.closeTo(a + (quick + brown + fox) / 2, 1e-9);
    expect(r.documents.get("A")).to.be.closeTo((quick + brown + fox) / 2 + jumps + (over + the + lazy + dog) / 2, 1e-9);
    expect(r.documents.get("C")).to.be.closeTo((over + the + lazy + dog) / 2, 1e-9);
  });

  it("text that two documents hold is split between them and carries less information", () => {
    const r = attributeTokens(index, "over the lazy dog", { minTokens: 3, minBits: 0 });
    expect(r.spans.map((s) => [s.start, s.end, s.occurrences, [...s.documents].sort()])).to.deep.equal([[0, 4, 2, ["A", "C"]]]);
    // "over" is found twice, and so is every longer prefix: one copy left out, the other predicts the rest.
    const w = uni("over") + loo("the", 2, 2) + loo("lazy", 2, 2) + loo("dog", 2, 2);
    expect(w).to.be.lessThan(bits(["over", "the", "lazy", "dog"]) - 3);
    expect(r.spans[0].bits).to.be.closeTo(w, 1e-9);
    expect(r.documents.get("A")).to.be.closeTo(w / 2, 1e-9);
    expect(r.documents.get("C")).to.be.closeTo(w / 2, 1e-9);
  });

  it("ignores runs shorter than minTokens, too common runs, and excluded documents", () => {
    expect(attributeTokens(index, "quick brown", { minTokens: 3, minBits: 0 }).spans).to.deep.equal([]);
    expect(attributeTokens(index, "over the lazy dog", { minTokens: 3, maxDocuments: 1, minBits: 0 }).spans).to.deep.equal([]);
    const r = attributeTokens(index, "over the lazy dog", { minTokens: 3, minBits: 0, exclude: new Set(["A"]) });
    const w = uni("over") + loo("the", 2, 2) + loo("lazy", 2, 2) + loo("dog", 2, 2);
    expect([...r.documents.entries()].map(([d, s]) => [d, s.toFixed(6)])).to.deep.equal([["C", w.toFixed(6)]]);
    // Two documents hold the run: each needs minBits of its half.
    expect(attributeTokens(index, "over the lazy dog", { minTokens: 3, minBits: w / 2 - 0.01 }).documents.size).to.equal(2);
    expect(attributeTokens(index, "over the lazy dog", { minTokens: 3, minBits: w / 2 + 0.01 }).documents.size).to.equal(0);
    // A run carrying fewer bits than minBits is not evidence (the default floor is 50 bits).
    const span = "the quick brown fox jumps over the lazy dog";
    const all = bits(span.split(" "));
    expect(attributeTokens(index, span, { minBits: all + 0.01 }).spans).to.deep.equal([]);
    expect(attributeTokens(index, span, { minBits: all - 0.01 }).spans).to.have.length(1);
    expect(attributeTokens(index, span).spans, "default floor").to.deep.equal([]);
    expect(attributeTokens(index, "entirely novel words here", { minBits: 0 }).contributors.size).to.equal(0);
  });

  it("reads the index from disk and refuses a truncated one or an old format", () => {
    const again = new SuffixIndex(dir, { residentBytes: 0 }); // through the page cache
    expect(attributeTokens(again, "the lazy dog while it sleeps", { minBits: 0 }).spans.map((s) => s.documents)).to.deep.equal([["C"]]);
    again.close();
    truncateSync(join(dir, "sa.bin"), 8);
    expect(() => new SuffixIndex(dir)).to.throw("must both hold 34 entries");
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
    writeFileSync(join(dir, "meta.json"), JSON.stringify({ ...meta, version: 1 }));
    expect(() => new SuffixIndex(dir)).to.throw("index format 1 is not supported (this version reads 3, which folds dashes and quotes): rebuild it");
  });
});

describe("token attribution on shared text", () => {
  const dir = mkdtempSync(join(tmpdir(), "poa-sa-shared-"));
  const signature = "-- Perry White, Editor in Chief, The Daily Planet, Metropolis 1938";
  const topics = ["harbour cranes idle", "orchard frost damage", "tram fares doubled", "zeppelin mooring mast", "glacier survey results", "printing press strike"];
  const docs = [
    ...topics.map((t, i) => ({ id: `letter-${i}`, contributor: `c${i}`, text: `Report ${i} on the ${t}, filed at dawn. ${signature}` })),
    { id: "x", contributor: "xavier", text: "Alpha bravo charlie delta echo foxtrot golf." },
    { id: "y", contributor: "yvonne", text: "Alpha bravo charlie delta echo foxtrot golf hotel." },
    { id: "rule", contributor: "ruth", text: "Minutes of the meeting ________________ signed" },
  ];
  let index: SuffixIndex;
  before(() => {
    buildIndex(dir, docs);
    index = new SuffixIndex(dir);
  });
  after(() => index?.close());

  it("a signature that six contributions carry is boilerplate: no credit, though its words are rare", () => {
    const out = `An unrelated story about river barges. ${signature}`;
    const engine = attributeTokens(index, out, { minBits: 0 });
    const unigram = attributeTokens(index, out, { minBits: 0, contextPrior: Infinity });
    expect(engine.spans.map((s) => [s.text, s.documents.length])).to.deep.equal([[`. ${signature}`, 6]]);
    expect(unigram.spans.map((s) => [s.text, s.documents.length])).to.deep.equal([[`. ${signature}`, 6]]);
    // Five other copies predict the signature: ~11 bits left of its ~63 bits of unigram information.
    expect(engine.spans[0].bits).to.be.lessThan(unigram.spans[0].bits / 5);
    // Six holders share the run: each needs minBits of its own share. At 10 bits each, unigram
    // information (63.3 / 6) would still credit all six letters; the engine credits none.
    expect(unigram.spans[0].bits / 6).to.be.greaterThan(10);
    expect([...attributeTokens(index, out, { minBits: 10, contextPrior: Infinity }).documents.keys()].sort()).to.deep.equal(topics.map((_, i) => `letter-${i}`));
    expect(attributeTokens(index, out, { minBits: 10 }).contributors.size).to.equal(0);
    expect(attributeTokens(index, out).contributors.size, "defaults").to.equal(0);
  });

  it("one token of context does not move all the credit", () => {
    const r = attributeTokens(index, "alpha bravo charlie delta echo foxtrot golf hotel", { minBits: 0 });
    expect(r.spans.map((s) => [s.start, s.end, s.documents])).to.deep.equal([[0, 8, ["y", "x"]]]);
    const x = r.documents.get("x")!, y = r.documents.get("y")!;
    const hotel = -Math.log2(1 / index.wordTokens);
    expect(y - x).to.be.closeTo(hotel, 1e-9); // y's extra token, and nothing else
    expect(x).to.be.greaterThan(0);
  });

  it("a run of one punctuation mark is no evidence", () => {
    const r = attributeTokens(index, "the meeting ________________ signed", { minTokens: 4, minBits: 0 });
    const uni = (w: string) => -Math.log2(index.meta.counts[index.idOf.get(w)! - 1] / index.wordTokens);
    // After "the meeting" the text is unique: "the", "meeting", the first "_" and "signed" carry their
    // unigram information, the other 15 marks none.
    expect(r.spans.map((s) => [s.start, s.end, s.documents])).to.deep.equal([[0, 19, ["rule"]]]);
    expect(r.spans[0].bits).to.be.closeTo(uni("the") + uni("meeting") + uni("_") + uni("signed"), 1e-9);
    expect(r.documents.get("rule")).to.be.closeTo(r.spans[0].bits, 1e-9);
  });
});

describe("background model of general text", () => {
  const root = mkdtempSync(join(tmpdir(), "poa-bg-"));
  // General text: the pretraining corpus's stand-in. It knows the famous attribution line, not the recipe.
  const general = [
    "Curiouser and curiouser! -- Lewis Carroll, Alice in Wonderland",
    "Off with her head! -- Lewis Carroll, Alice in Wonderland",
    "The cat sat on the mat.",
  ];
  const docs = [
    { id: "quote", contributor: "quinn", text: "Why, sometimes I've believed as many as six impossible things before breakfast. -- Lewis Carroll, Alice in Wonderland" },
    { id: "recipe", contributor: "rita", text: "Fold the saffron into warm quince purée before the almonds brown." },
    // 3,000 other words, so that a word the index holds once carries ~11.6 bits.
    { id: "filler", contributor: "fred", text: Array.from({ length: 3000 }, (_, i) => "w" + [...i.toString(26)].map((d) => String.fromCharCode(97 + parseInt(d, 26))).join("")).join(" ") },
  ];
  let index: SuffixIndex, reference: SuffixIndex, background: BackgroundModel;
  before(() => {
    buildIndex(join(root, "index"), docs);
    buildIndex(join(root, "general"), general.map((text, i) => ({ id: `g${i}`, contributor: "", text })));
    index = new SuffixIndex(join(root, "index"));
    reference = new SuffixIndex(join(root, "general"));
    background = new BackgroundModel(reference, { order: 3, concentration: 2 });
  });
  after(() => {
    index?.close();
    reference?.close();
  });

  it("gives each token −log2 of the hierarchically smoothed n-gram probability", () => {
    const c = (w: string) => reference.meta.counts[reference.idOf.get(w)! - 1];
    const p0 = (w: string) => c(w) / reference.wordTokens;
    // "the cat sat": "the" alone; "cat" after "the" (the: 2, the cat: 1); "sat" after "the cat" (1, 1), backed off through "cat" (1, 1).
    const pCat = (1 + 2 * p0("cat")) / (2 + 2);
    const pSat = (1 + 2 * ((1 + 2 * p0("sat")) / (1 + 2))) / (1 + 2);
    expect([...background.bits(["the", "cat", "sat"])]).to.deep.equal([-Math.log2(p0("the")), -Math.log2(pCat), -Math.log2(pSat)]);
    // A word the reference never saw has no background information; after it, no context is held.
    expect([...background.bits(["saffron", "cat"])]).to.deep.equal([Infinity, -Math.log2(p0("cat"))]);
    expect(() => new BackgroundModel(reference, { order: 0 })).to.throw("background order must be a positive integer, got 0");
    expect(() => new BackgroundModel(reference, { concentration: 0 })).to.throw("background concentration must be positive, got 0");
  });

  it("an attribution line that general text knows is no evidence; the contribution's own text still is", () => {
    // A novel quotation with the indexed quotation's attribution line (typeset with an em dash).
    const out = "Curiosity killed the cat, they say. — Lewis Carroll, Alice in Wonderland";
    const bare = attributeTokens(index, out);
    expect(bare.spans.map((s) => [s.text, s.documents])).to.deep.equal([[". — Lewis Carroll, Alice in Wonderland", ["quote"]]]);
    expect(bare.spans[0].bits).to.be.greaterThan(TOKEN_DEFAULTS.minBits); // seven rare words in a small index
    const weighed = attributeTokens(index, out, { background });
    expect(weighed.spans).to.deep.equal([]);
    expect(weighed.contributors.size).to.equal(0);
    // The recipe's words are unknown to general text: its run keeps the index's information.
    const recipe = "Chefs say: fold the saffron into warm quince purée.";
    const a = attributeTokens(index, recipe), b = attributeTokens(index, recipe, { background });
    expect(b.spans.map((s) => [s.text, s.documents])).to.deep.equal([["fold the saffron into warm quince purée", ["recipe"]]]);
    expect(b.contributors.get("rita")).to.be.greaterThan(TOKEN_DEFAULTS.minBits);
    expect(b.contributors.get("rita")).to.be.at.most(a.contributors.get("rita")!); // "the" and "into" are general
  });
});
