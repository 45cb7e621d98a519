// Template-level tests: each small circuit template against its rule, with
// inputs that break the rule failing witness generation.
import { expect } from "chai";
import fc from "fast-check";
import { FIELD_MODULUS, initCrypto, poseidon } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { MerkleTree } from "../core/tree.js";
import { witness, witnessFails as fails } from "./lib/circom.js";

describe("DivModCheck: quotient and remainder are range-checked", () => {
  it("accepts the true quotient and remainder", async () => {
    await witness("divmod", { a: 200n, b: 7n, q: 28n, r: 4n });
    await witness("divmod", { a: 3839n, b: 15n, q: 255n, r: 14n });
  });
  it("rejects a remainder that is not below the divisor", async () => {
    await fails("divmod", { a: 200n, b: 7n, q: 27n, r: 11n });
  });
  it("rejects a negative (wrapped) remainder", async () => {
    await fails("divmod", { a: 200n, b: 7n, q: 29n, r: FIELD_MODULUS - 3n });
  });
  it("rejects a wrapped quotient that satisfies a = q*b + r in the field", async () => {
    const r = 5n; // 195 is not a multiple of 7, so q is a huge field element
    const inv7 = modPow(7n, FIELD_MODULUS - 2n);
    await fails("divmod", { a: 200n, b: 7n, q: ((200n - r) * inv7) % FIELD_MODULUS, r });
  });
});

describe("Prefix: used slots come first", () => {
  it("accepts prefixes of ones", async () => {
    for (const f of [[0n, 0n, 0n], [1n, 0n, 0n], [1n, 1n, 1n]]) await witness("prefix", { flags: f });
  });
  it("rejects a gap and a non-bit", async () => {
    await fails("prefix", { flags: [1n, 0n, 1n] });
    await fails("prefix", { flags: [0n, 1n, 0n] });
    await fails("prefix", { flags: [2n, 0n, 0n] });
  });
});

describe("QuadPosition + QuadChildren: a node placed among its three siblings", () => {
  it("puts the node at position b0 + 2*b1 and keeps the siblings in order", async () => {
    const s = [11n, 22n, 33n];
    for (let p = 0; p < 4; p++) {
      const w = await witness("quad_children", { node: 99n, b0: BigInt(p & 1), b1: BigInt(p >> 1), siblings: s });
      const expected = [...s];
      expected.splice(p, 0, 99n);
      expect(w.slice(1, 5)).to.deep.equal(expected);
    }
  });
});

describe("LeafUpdate: a 4-ary Merkle path, checked against the old root", () => {
  before(initCrypto);
  const world = () => {
    const t = new MerkleTree(2);
    [3, 6, 13].forEach((i) => t.set(i, BigInt(100 + i)));
    return t;
  };
  it("returns the root the reference tree has after the write", async () => {
    for (const index of [0, 6, 13, 15]) {
      const t = world();
      const input = { oldRoot: t.root, index: BigInt(index), oldLeaf: t.leaf(index), newLeaf: 7n, siblings: t.siblings(index) };
      t.set(index, 7n);
      const w = await witness("leaf_update", input);
      expect(w[1]).to.equal(t.root);
      expect(w.slice(2, 6)).to.deep.equal([0, 1, 2, 3].map((b) => BigInt((index >> b) & 1)));
    }
  });
  it("rejects another old leaf, another position, a wrong sibling and an index past 4^D", async () => {
    const t = world();
    const ok = { oldRoot: t.root, index: 6n, oldLeaf: t.leaf(6), newLeaf: 7n, siblings: t.siblings(6) };
    await fails("leaf_update", { ...ok, oldLeaf: 0n });
    await fails("leaf_update", { ...ok, index: 5n });
    await fails("leaf_update", { ...ok, index: 6n + 16n });
    const sib = structuredClone(ok.siblings);
    sib[1][2] += 1n;
    await fails("leaf_update", { ...ok, siblings: sib });
  });
});

describe("Exit: a used leaf with its balance under the root", () => {
  before(initCrypto);
  it("accepts the leaf's own path and refuses another balance, an empty leaf, a wrong sibling, a balance of 2^96 and an index past 4^D", async () => {
    const t = new MerkleTree(2);
    const leaf = { address: 0xa11cen, balance: 500n, ax: 3n, ay: 4n, nonce: 2n };
    t.set(9, poseidon([leaf.address, leaf.balance, leaf.ax, leaf.ay, leaf.nonce]));
    const ok = { root: t.root, index: 9n, ...leaf, siblings: t.siblings(9) };
    await witness("exit", ok);
    await fails("exit", { ...ok, balance: 501n });
    await fails("exit", { ...ok, address: 0n, balance: 0n, ax: 0n, ay: 0n, nonce: 0n, siblings: t.siblings(8), index: 8n });
    const sib = structuredClone(ok.siblings);
    sib[0][0] += 1n;
    await fails("exit", { ...ok, siblings: sib });
    await fails("exit", { ...ok, index: 9n + 16n });
    const big = new MerkleTree(2);
    big.set(9, poseidon([leaf.address, 1n << 96n, leaf.ax, leaf.ay, leaf.nonce]));
    await fails("exit", { ...ok, root: big.root, balance: 1n << 96n });
  });
});

describe("ReceiptPayout: the payout rule", () => {
  const cfg = { protocolBps: 500, ownerBps: 2000 };
  const outputs = async (fee: bigint, score: bigint[]) => {
    const w = await witness("payout", { fee, score });
    return { protocol: w[1], ownerTotal: w[2], shares: w.slice(3, 7) };
  };
  it("matches the reference model on edge cases", async () => {
    const max = (1n << 80n) - 1n, maxScore = (1n << 32n) - 1n;
    for (const [fee, score] of [
      [0n, [0n, 0n, 0n, 0n]],
      [10001n, [1n, 2n, 0n, 0n]],
      [999n, [0n, 0n, 0n, 0n]],
      [max, [maxScore, maxScore, maxScore, maxScore]],
      [max, [1n, 0n, 0n, maxScore]],
      [7n, [3n, 3n, 3n, 3n]],
    ] as [bigint, bigint[]][]) {
      expect(await outputs(fee, score)).to.deep.equal(payout(fee, score, cfg));
    }
  });
  it("matches the reference model on random receipts", async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt(0n, (1n << 80n) - 1n), fc.array(fc.bigInt(0n, (1n << 32n) - 1n), { minLength: 4, maxLength: 4 }), async (fee, score) => {
        expect(await outputs(fee, score)).to.deep.equal(payout(fee, score, cfg));
      }),
      { numRuns: 40 },
    );
  });
  it("rejects a fee of 2^80 and a score of 2^32", async () => {
    await fails("payout", { fee: 1n << 80n, score: [1n, 0n, 0n, 0n] });
    await fails("payout", { fee: 10n, score: [1n << 32n, 0n, 0n, 0n] });
    await fails("payout", { fee: 10n, score: [FIELD_MODULUS - 1n, 2n, 0n, 0n] });
  });
});

function modPow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b %= FIELD_MODULUS;
  for (; e > 0n; e >>= 1n, b = (b * b) % FIELD_MODULUS) if (e & 1n) r = (r * b) % FIELD_MODULUS;
  return r;
}
