// Proved token scores of a receipt: ProvedTokenScores (circuits/lib/proved_scores.circom)
// against its model (core/proved-scores.ts). A score higher than the committed
// data gives, a span counted twice, spans out of order, a gap in the slots and
// a declared receipt that smuggles in a span each fail witness generation; the
// model refuses each by name.
import { expect } from "chai";
import { initCrypto } from "../core/crypto.js";
import { checkProvedScores, provedScores, provedScoresInput, type CreditedSpan, type ScoreShape, type ScoredEntry } from "../core/proved-scores.js";
import { TokenCommitment, tokenValues } from "../core/token-commitment.js";
import { witness, witnessFails as fails } from "./lib/circom.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attributeTokens } from "../attribution/tokens/attribute.js";
import { provedTokenClaims } from "../attribution/tokens/proved.js";
import { buildIndex, SuffixIndex } from "../attribution/tokens/suffix-index.js";

// test/circuits/proved_scores.circom: ProvedTokenScores(K 2, S 3, DA 2, DC 3, L 16, LMIN 4).
const SHAPE: ScoreShape = { entries: 2, slots: 3, answerDepth: 2, sourceDepth: 3, maxLen: 16, minLen: 4 };
const ALICE = 0xa11ce0000000000000000000000000000000a11cen, BOB = 0xb0b0000000000000000000000000000000000b0bn;

describe("ProvedTokenScores: a receipt's scores are the tokens its spans prove", () => {
  before(() => initCrypto());
  const aliceText = "Knead the dough with cold butter until it shines like river stones at dusk, then rest it overnight.";
  const bobText = "Simmer the onions slowly in a wide pan and season them with sea salt.";
  const answer = "First knead the dough with cold butter until it shines like river stones at dusk. Meanwhile simmer the onions slowly in a wide pan.";
  const ans = () => TokenCommitment.ofText(answer, SHAPE.answerDepth);
  const alice = () => TokenCommitment.ofText(aliceText, SHAPE.sourceDepth);
  const bob = () => TokenCommitment.ofText(bobText, SHAPE.sourceDepth);
  // Answer tokens 1..14 ("knead … dusk") are Alice's tokens 0..13; answer tokens 17..24 ("simmer … pan") are Bob's 0..7.
  const aliceSpan = (answerStart = 1, sourceStart = 0, len = 14): CreditedSpan => ({ entry: 0, contributionId: 7, contributor: ALICE, source: alice(), answerStart, sourceStart, len });
  const bobSpan = (): CreditedSpan => ({ entry: 1, contributionId: 9, contributor: BOB, source: bob(), answerStart: 17, sourceStart: 0, len: 8 });
  const entries = (a: bigint, b: bigint): ScoredEntry[] => [{ contributor: ALICE, score: a }, { contributor: BOB, score: b }];
  /** The witness's outputs: binding[3][3], after the constant 1. */
  const binding = (w: bigint[]) => [w.slice(1, 4), w.slice(4, 7), w.slice(7, 10)];

  it("the spans are what the texts hold", () => {
    const t = tokenValues(answer);
    expect(t.slice(1, 15)).to.deep.equal(tokenValues(aliceText).slice(0, 14));
    expect(t.slice(17, 25)).to.deep.equal(tokenValues(bobText).slice(0, 8));
    expect(provedScores([aliceSpan(), bobSpan()], 2)).to.deep.equal([14n, 8n]);
  });

  it("accepts an honest receipt, one span per entry or a run split in two, and binds each slot's contribution for L1", async () => {
    const w = await witness("proved_scores", provedScoresInput(ans(), entries(14n, 8n), [aliceSpan(), bobSpan()], SHAPE));
    expect(binding(w)).to.deep.equal([[7n, ALICE, alice().root], [9n, BOB, bob().root], [0n, 0n, 0n]]);
    const split = [aliceSpan(1, 0, 8), aliceSpan(9, 8, 6), bobSpan()];
    await witness("proved_scores", provedScoresInput(ans(), entries(14n, 8n), split, SHAPE));
    // Fewer tokens than the text shares is a lower claim, and still exact: Alice's score is what her spans prove.
    await witness("proved_scores", provedScoresInput(ans(), entries(10n, 0n), [aliceSpan(1, 0, 10)], SHAPE));
  });

  it("refuses a score higher than the spans prove, for any entry", async () => {
    const spans = [aliceSpan(), bobSpan()];
    expect(() => checkProvedScores(ans(), entries(15n, 8n), spans, SHAPE)).to.throw("entry 0 claims score 15, but its token spans prove 14 tokens");
    const input = provedScoresInput(ans(), entries(14n, 8n), spans, SHAPE);
    await fails("proved_scores", { ...input, score: [15n, 8n] });
    await fails("proved_scores", { ...input, score: [14n, 9n] });
    await fails("proved_scores", { ...input, score: [13n, 8n] }); // exact, not at most
  });

  it("refuses a span counted twice and spans out of answer order", async () => {
    const twice = [aliceSpan(1, 0, 8), aliceSpan(1, 0, 8)];
    expect(() => checkProvedScores(ans(), entries(16n, 0n), twice, SHAPE)).to.throw("token span 1 starts at answer token 1, inside span 0 (which ends at 9): spans are disjoint and in answer order");
    const ok = provedScoresInput(ans(), entries(14n, 8n), [aliceSpan(1, 0, 8), aliceSpan(9, 8, 6), bobSpan()], SHAPE); // a valid input to tamper with
    const once = provedScoresInput(ans(), entries(8n, 0n), [aliceSpan(1, 0, 8)], SHAPE);
    const dup = (key: string) => [(once[key] as unknown[])[0], (once[key] as unknown[])[0], (ok[key] as unknown[])[2]];
    const keys = ["entry", "contributionId", "sourceRoot", "answerChunk", "answerOffset", "answerTokens", "answerSiblings", "sourceChunk", "sourceOffset", "sourceTokens", "sourceSiblings", "active", "inverse"];
    await fails("proved_scores", { ...ok, ...Object.fromEntries(keys.map((k) => [k, dup(k)])), score: [16n, 8n] });
    // Bob's span first, then Alice's: each honest, but the order is not the answer's.
    const reversed = [bobSpan(), aliceSpan()];
    expect(() => checkProvedScores(ans(), entries(14n, 8n), reversed, SHAPE)).to.throw("token span 1 starts at answer token 1, inside span 0");
    const fwd = provedScoresInput(ans(), entries(14n, 8n), [aliceSpan(), bobSpan()], SHAPE);
    const swap = (key: string) => { const v = fwd[key] as unknown[]; return [v[1], v[0], v[2]]; };
    await fails("proved_scores", { ...fwd, ...Object.fromEntries(keys.map((k) => [k, swap(k)])) });
  });

  it("refuses a gap in the slots and an entry the receipt does not have", async () => {
    const input = provedScoresInput(ans(), entries(14n, 8n), [aliceSpan(), bobSpan()], SHAPE);
    const empty = provedScoresInput(ans(), entries(0n, 0n), [], SHAPE);
    const gap = (key: string) => [(empty[key] as unknown[])[0], ...(input[key] as unknown[]).slice(1)];
    const keys = ["entry", "contributionId", "sourceRoot", "answerChunk", "answerOffset", "answerTokens", "answerSiblings", "sourceChunk", "sourceOffset", "sourceTokens", "sourceSiblings", "active", "inverse"];
    await fails("proved_scores", { ...input, ...Object.fromEntries(keys.map((k) => [k, gap(k)])), score: [0n, 8n] });
    await fails("proved_scores", { ...input, entry: [2n, 1n, 0n] });
    expect(() => checkProvedScores(ans(), entries(14n, 8n), [{ ...aliceSpan(), entry: 2 }], SHAPE)).to.throw("token span 0 credits entry 2, which the receipt does not have");
  });

  it("binds a slot to its entry's contributor: a span of Alice's text credited to Bob's entry names Bob, which L1 refuses for Alice's contribution", async () => {
    const stolen = { ...aliceSpan(), entry: 1 };
    expect(() => checkProvedScores(ans(), entries(0n, 14n), [stolen], SHAPE)).to.throw(`token span 0 is in a contribution of 0x${ALICE.toString(16)}, not of entry 1's contributor`);
    const input = provedScoresInput(ans(), entries(0n, 14n), [{ ...stolen, contributor: BOB }], SHAPE); // the model told a lie
    expect(binding(await witness("proved_scores", input))[0]).to.deep.equal([7n, BOB, alice().root]);
  });

  it("a receipt with declared scores (answer root 0) proves no span", async () => {
    const declared = provedScoresInput(undefined, entries(123n, 456n), [], SHAPE);
    expect(binding(await witness("proved_scores", declared))).to.deep.equal([[0n, 0n, 0n], [0n, 0n, 0n], [0n, 0n, 0n]]);
    expect(() => provedScoresInput(undefined, entries(14n, 8n), [aliceSpan()], SHAPE)).to.throw("a receipt with declared scores (no answer commitment) proves no token spans");
    const proved = provedScoresInput(ans(), entries(14n, 8n), [aliceSpan(), bobSpan()], SHAPE);
    await fails("proved_scores", { ...proved, answerRoot: 0n });
  });
});

describe("proved-score claims from the token engine's spans", () => {
  before(() => initCrypto());
  const aliceText = "Knead the dough with cold butter until it shines like river stones at dusk, then rest it overnight.";
  const bobText = "Simmer the onions slowly in a wide pan and season them with sea salt.";
  const long = "Alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november oscar papa quebec romeo sierra tango.";
  const docs = [
    { id: "a", contributor: "alice", text: aliceText },
    { id: "b", contributor: "bob", text: bobText },
    { id: "c", contributor: "carol", text: long },
  ];
  const committed = new Map([
    ["a", { contributionId: 7, contributor: ALICE, text: aliceText }],
    ["b", { contributionId: 9, contributor: BOB, text: bobText }],
    ["c", { contributionId: 11, contributor: 0xca201n, text: long }],
  ]);
  const dir = mkdtempSync(join(tmpdir(), "poa-proved-"));
  let index: SuffixIndex;
  before(() => {
    buildIndex(dir, docs);
    index = new SuffixIndex(dir);
  });
  after(() => index?.close());

  it("credits each span to its contribution in answer order, and the claims prove in the circuit", async () => {
    const answer = "First knead the dough with cold butter until it shines like river stones at dusk. Meanwhile simmer the onions slowly in a wide pan.";
    const claims = provedTokenClaims(answer, attributeTokens(index, answer, { minBits: 0 }), committed, SHAPE);
    expect(claims.entries).to.deep.equal([{ contributor: ALICE, score: 14n }, { contributor: BOB, score: 8n }]);
    expect(claims.spans.map((s) => [s.entry, s.contributionId, s.answerStart, s.sourceStart, s.len])).to.deep.equal([[0, 7, 1, 0, 14], [1, 9, 17, 0, 8]]);
    checkProvedScores(claims.answer, claims.entries, claims.spans, SHAPE);
    await witness("proved_scores", provedScoresInput(claims.answer, claims.entries, claims.spans, SHAPE));
  });

  it("cuts a run longer than a slot into slots, and drops a tail shorter than the floor", () => {
    const answer = "Spelled out: alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november oscar papa quebec romeo sierra tango!";
    const claims = provedTokenClaims(answer, attributeTokens(index, answer, { minBits: 0 }), committed, SHAPE);
    // 20 tokens: 16 + 4.
    expect(claims.spans.map((s) => [s.answerStart, s.sourceStart, s.len])).to.deep.equal([[3, 0, 16], [19, 16, 4]]);
    expect(claims.entries).to.deep.equal([{ contributor: 0xca201n, score: 20n }]);
    const shorter = "Spelled out: alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november oscar papa quebec romeo sierra!";
    const cut = provedTokenClaims(shorter, attributeTokens(index, shorter, { minBits: 0 }), committed, SHAPE);
    expect(cut.spans.map((s) => s.len)).to.deep.equal([16]); // 19 tokens: the 3-token tail is below the floor
    expect(cut.entries[0].score).to.equal(16n);
  });
});
