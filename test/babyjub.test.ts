// The native-BigInt Baby Jubjub (core/babyjub.ts) against circomlibjs: the same
// points, and the same verdict on every signature, valid or not.
import { expect } from "chai";
import { buildBabyjub } from "circomlibjs";
import fc from "fast-check";
import { initCrypto, publicKeyOf, signMessage, verifySignature, verifySignatureReference, type EdDSASignature, type PublicKey } from "../core/crypto.js";
import { onCurve, scalarMul, SUB_ORDER } from "../core/babyjub.js";
import { FIELD_MODULUS } from "../core/field.js";

describe("Baby Jubjub in native BigInt (core/babyjub.ts)", function () {
  let jub: Awaited<ReturnType<typeof buildBabyjub>>;
  const keyOf = (seed: number) => Uint8Array.from({ length: 32 }, (_, i) => (seed * 13 + i * 29 + 7) & 0xff);
  const agree = async (m: bigint, s: EdDSASignature, k: PublicKey) => {
    const [fast, ref] = [await verifySignature(m, s, k), await verifySignatureReference(m, s, k)];
    expect(fast, `message ${m}, signature ${JSON.stringify(s, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`).to.equal(ref);
    return fast;
  };

  before(async () => {
    await initCrypto();
    jub = await buildBabyjub();
  });

  it("multiplies points exactly as circomlibjs", () => {
    const F = jub.F;
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), (k) => {
        const [x, y] = scalarMul(F.toObject(jub.Base8[0]), F.toObject(jub.Base8[1]), k);
        const ref = jub.mulPointEscalar(jub.Base8, k);
        expect([x, y]).to.deep.equal([F.toObject(ref[0]), F.toObject(ref[1])]);
        expect(onCurve(x, y)).to.equal(true);
      }),
      { numRuns: 25 },
    );
    expect(SUB_ORDER).to.equal(BigInt(jub.subOrder.toString()));
    expect(scalarMul(F.toObject(jub.Base8[0]), F.toObject(jub.Base8[1]), SUB_ORDER)).to.deep.equal([0n, 1n]);
  });

  it("accepts every valid signature and agrees with circomlibjs on tampered ones", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10_000 }), fc.bigInt({ min: 0n, max: FIELD_MODULUS - 1n }), fc.integer({ min: 0, max: 5 }), async (seed, msg, how) => {
        const priv = keyOf(seed);
        const key = await publicKeyOf(priv);
        const sig = await signMessage(priv, msg);
        expect(await agree(msg, sig, key)).to.equal(true);
        const other = await publicKeyOf(keyOf(seed + 1));
        const bad: [bigint, EdDSASignature, PublicKey][] = [
          [msg + 1n, sig, key],
          [msg, { ...sig, S: (sig.S + 1n) % SUB_ORDER }, key],
          [msg, { ...sig, S: sig.S + SUB_ORDER }, key], // S ≥ l: refused even though S·B8 is the same point
          [msg, { ...sig, R8x: sig.R8x + 1n }, key], // off the curve
          [msg, { ...sig, R8x: (FIELD_MODULUS - sig.R8x) % FIELD_MODULUS }, key], // −R8: on the curve, wrong
          [msg, sig, other],
        ];
        const [m, s, k] = bad[how];
        expect(await agree(m, s, k)).to.equal(false);
      }),
      { numRuns: 30 },
    );
  });

  it("verifies with a key's cached table as without it: many messages under one key, and past the cache's 128 keys", async () => {
    // The first check under a key builds its table and later ones use it; 140 keys evict the oldest tables.
    const privs = Array.from({ length: 140 }, (_, i) => keyOf(20_000 + i));
    const keys = await Promise.all(privs.map((k) => publicKeyOf(k)));
    const sigs = await Promise.all(privs.map((k, i) => signMessage(k, BigInt(i))));
    for (let pass = 0; pass < 2; pass++) {
      for (const [i, key] of keys.entries()) {
        expect(await verifySignature(BigInt(i), sigs[i], key), `key ${i}, pass ${pass}`).to.equal(true);
        expect(await verifySignature(BigInt(i) + 1n, sigs[i], key), `key ${i}, pass ${pass}, another message`).to.equal(false);
        expect(await verifySignature(BigInt(i), sigs[i], keys[(i + 1) % keys.length]), `key ${i}, pass ${pass}, another key`).to.equal(false);
      }
    }
    // A cached key (the last used) and an evicted one (the first), against circomlibjs.
    for (const i of [139, 0]) {
      expect(await agree(BigInt(i), sigs[i], keys[i])).to.equal(true);
      expect(await agree(5n, sigs[i], keys[i])).to.equal(false);
    }
  });

  it("agrees with circomlibjs on coordinates given at or above p (taken mod p by both)", async () => {
    const priv = keyOf(5);
    const key = await publicKeyOf(priv);
    const sig = await signMessage(priv, 42n);
    expect(await agree(42n + FIELD_MODULUS, { ...sig, R8y: sig.R8y + FIELD_MODULUS }, key)).to.equal(true);
  });
});
