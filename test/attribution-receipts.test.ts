// Scores to receipts: the K largest, scaled to integers, ties by address; mixing engines.
import { expect } from "chai";
import { verifyBundle } from "../core/receipt.js";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { attributedReceipt, combineScores, receiptEntries, SCORE_SCALE, signAttributed } from "../attribution/receipts.js";
import { DOMAIN, params, privateKey } from "./helpers.js";

const A = "0x00000000000000000000000000000000000000a1";
const B = "0x00000000000000000000000000000000000000b2";
const C = "0x00000000000000000000000000000000000000c3";

describe("attribution scores to receipts", () => {
  before(() => initCrypto());
  it("keeps the K largest positive scores, scaled so the largest is 2^20, ties by address", () => {
    const scores = new Map([[C, 1.5], [A, 3], [B, 1.5], ["0x00000000000000000000000000000000000000d4", 0], ["0x00000000000000000000000000000000000000e5", -2]]);
    expect(receiptEntries(scores, { entries: 2, scoreBits: 32 })).to.deep.equal([
      { contributor: BigInt(A), score: BigInt(SCORE_SCALE) },
      { contributor: BigInt(B), score: BigInt(SCORE_SCALE / 2) },
    ]);
    expect(receiptEntries(scores, { entries: 8, scoreBits: 32 }).map((e) => e.contributor)).to.deep.equal([BigInt(A), BigInt(B), BigInt(C)]);
    // A score below 2^-20 of the top floors to 0 and is dropped.
    expect(receiptEntries(new Map([[A, 1], [B, 1e-7]]), { entries: 8, scoreBits: 32 })).to.have.length(1);
    expect(receiptEntries(new Map(), { entries: 8, scoreBits: 32 })).to.deep.equal([]);
  });

  it("refuses bad scores by name", () => {
    expect(() => receiptEntries(new Map([["alice", 1]]), { entries: 2, scoreBits: 32 })).to.throw("contributor alice is not a 0x address");
    expect(() => receiptEntries(new Map([[A, NaN]]), { entries: 2, scoreBits: 32 })).to.throw("non-finite score");
    expect(() => receiptEntries(new Map([[A, 1]]), { entries: 2, scoreBits: 16 })).to.throw("cannot hold the scale");
  });

  it("mixes engines after normalizing each to sum 1", () => {
    const m = combineScores([{ weight: 0.5, scores: new Map([[A, 30], [B, 10]]) }, { weight: 0.5, scores: new Map([[B, 2], [C, -1]]) }]);
    expect([...m.entries()]).to.deep.equal([[A, 0.375], [B, 0.125 + 0.5]]);
  });

  it("builds and signs a receipt the sequencer will verify", async () => {
    const key = privateKey(3);
    const inf = { providerIdx: 1, owner: C, fee: 1000n, nonce: 0n, input: "q", output: "a", scores: new Map([[A, 2], [B, 1]]) };
    const r = attributedReceipt(inf, params);
    expect(r.entries.map((e) => e.score)).to.deep.equal([BigInt(SCORE_SCALE), BigInt(SCORE_SCALE / 2)]);
    const bundle = await signAttributed(key, [inf, { ...inf, nonce: 1n }], params, DOMAIN);
    expect(await verifyBundle(bundle, await publicKeyOf(key), params, DOMAIN)).to.equal(true);
  });
});
