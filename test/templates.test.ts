// Template-level tests: each small circuit template against its rule, with
// inputs that break the rule failing witness generation.
import { expect } from "chai";
import fc from "fast-check";
import { FIELD_MODULUS } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { witness } from "./lib/circom.js";

async function fails(name: string, input: Record<string, unknown>): Promise<void> {
  try {
    await witness(name, input);
  } catch (e) {
    expect(String(e)).to.match(/Assert Failed|Error/);
    return;
  }
  expect.fail(`witness generation for ${name} accepted ${JSON.stringify(input, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`);
}

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
