// The gradient route's score in a circuit: InfluenceScore
// (circuits/lib/influence_score.circom) against fixedPointInfluence
// (attribution/influence/proved-influence.ts). The sparse dot product is
// proved by lookups into the query's list: a hidden feature, a wrong value, an
// unsorted query and miscounted uses each fail witness generation.
import { expect } from "chai";
import { FIELD_MODULUS } from "../core/field.js";
import { fixedPointInfluence, influenceScoreInput, type InfluenceShape, type QuantizedExample, type QuantizedQuery } from "../attribution/influence/proved-influence.js";
import { witness, witnessFails as fails } from "./lib/circom.js";

// test/circuits/influence_score.circom: InfluenceScore(C 3, R 2, M 4, MQ 4, VB 16, IB 8).
const SHAPE: InfluenceShape = { classes: 3, rank: 2, features: 4, queryFeatures: 4, valueBits: 16, indexBits: 8 };
const GAMMA = 0x2b1e5a7c9d3f0e6b4a8c2d1f3e5a7b9c0d2e4f6a8b1c3d5e7f9a0b2c4d6e8fn % FIELD_MODULUS;
const signed = (v: bigint) => (v > FIELD_MODULUS / 2n ? v - FIELD_MODULUS : v);

describe("InfluenceScore: the fixed-point influence of a training example on a query", () => {
  // Features 3 and 40 are shared; 7 and 200 are the example's alone; 12 and 99 the query's.
  const example: QuantizedExample = { a: [120n, -300n, 180n], idx: [3, 7, 40, 200], x: [900n, -50n, 410n, 77n], P: [-1500n, 2200n] };
  const query: QuantizedQuery = { u: [-20000n, 15000n, 5000n], idx: [3, 12, 40, 99], x: [640n, 333n, -280n, 12n], q: [31n, -7n] };
  const score = (w: bigint[]) => signed(w[1]);

  it("equals the model's exact integer, shared features found and the others proved absent", async () => {
    const expected = fixedPointInfluence(example, query);
    // (120·−20000 − 300·15000 + 180·5000) · (900·640 + 410·−280 + (−1500·31 + 2200·−7))
    expect(expected).to.equal((-2400000n - 4500000n + 900000n) * (576000n - 114800n - 46500n - 15400n));
    expect(score(await witness("influence_score", influenceScoreInput(example, query, SHAPE, GAMMA)))).to.equal(expected);
    // Fewer features than slots, and a query whose last index is below an example feature (the last gap).
    const short: QuantizedQuery = { ...query, idx: [3, 40], x: [640n, -280n] };
    expect(score(await witness("influence_score", influenceScoreInput(example, short, SHAPE, GAMMA)))).to.equal(fixedPointInfluence(example, short));
    const full: QuantizedQuery = { ...query, idx: [1, 2, 3, 4], x: [5n, 6n, 7n, 8n] };
    expect(score(await witness("influence_score", influenceScoreInput(example, full, SHAPE, GAMMA)))).to.equal(fixedPointInfluence(example, full));
  });

  it("refuses a shared feature claimed absent, and a present one with another value", async () => {
    const input = influenceScoreInput(example, query, SHAPE, GAMMA);
    // Feature 3 (shared, slot 0): claim it absent, in the gap below the query's first index… which holds no 3.
    const hide = { ...input, h: [0n, ...(input.h as bigint[]).slice(1)], present: [0n, ...(input.present as bigint[]).slice(1)], lo: [FIELD_MODULUS - 1n, ...(input.lo as bigint[]).slice(1)], hi: [3n, ...(input.hi as bigint[]).slice(1)] };
    const uses = [...(input.uses as bigint[])];
    uses[0]--; // the pair (3, 640) is no longer used…
    uses[4]++; // …and the first gap is
    await fails("influence_score", { ...hide, uses });
    const hide2 = { ...hide, hi: [4n, ...(input.hi as bigint[]).slice(1)] }; // a gap (−1, 4) that the sorted query does not have
    await fails("influence_score", { ...hide2, uses });
    // Feature 40 (slot 2) with a value the query does not give it.
    const h = [...(input.h as bigint[])];
    h[2] = FIELD_MODULUS - 279n;
    await fails("influence_score", { ...input, h });
  });

  it("refuses an unsorted query, a value past the width and miscounted uses", async () => {
    const input = influenceScoreInput(example, query, SHAPE, GAMMA);
    await fails("influence_score", { ...input, qi: [40n, 12n, 3n, 99n] });
    await fails("influence_score", { ...input, qv: [640n, 333n, 40000n, 12n] });
    const uses = [...(input.uses as bigint[])];
    uses[1]++;
    await fails("influence_score", { ...input, uses });
    expect(() => influenceScoreInput({ ...example, x: [40000n, 0n, 0n, 0n] }, query, SHAPE, GAMMA)).to.throw("influence value 40000 does not fit 16 signed bits");
    expect(() => influenceScoreInput({ ...example, idx: [3, 7, 40, 300] }, query, SHAPE, GAMMA)).to.throw("feature index 300 does not fit 8 bits");
    expect(() => influenceScoreInput({ ...example, idx: [1, 2, 3, 4, 5], x: [1n, 1n, 1n, 1n, 1n] }, query, SHAPE, GAMMA)).to.throw("the training example has 5 features; the instance proves at most 4");
  });
});
