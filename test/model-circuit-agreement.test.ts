// "The model accepts ⇒ the circuit proves": the sequencer seals only what the
// reference model accepts with every check, so any batch the model builds
// must have a witness. These tests hold the model's full checks against the
// real witness generator of the test instance, for the attacks of issue 9
// (a key rotated after acceptance, small-order keys, replays, a payer that
// withdrew) and for random adversarial sequences of them.
import { expect } from "chai";
import { buildEddsa } from "circomlibjs";
import fc from "fast-check";
import { initCrypto, keyProblem, verifySignature, type EdDSASignature, type PublicKey } from "../core/crypto.js";
import { bundleMessage, signBundle, type SignedBundle } from "../core/receipt.js";
import { buildBatch, BundleError, type RollupState } from "../core/rollup.js";
import type { QueueOp } from "../core/queue.js";
import { calculateWitness, WITNESS_FAILED } from "../prover/groth16.js";
import { bundleFor, deposit, DOMAIN, fundedWorld, INSTANCE, OPEN, params, privateKey, provider, withdrawal, type Provider } from "./helpers.js";

const OWNER = 0xb0b0n;
/** A signature that circomlibjs accepts for any message under a key A with 8·A = identity. */
const FORGED: EdDSASignature = { R8x: 0n, R8y: 1n, S: 0n };

/** Keys that no private key of prv2pub makes: a point of order 8, and a point of order 8·l (outside the subgroup). */
async function oddKeys(): Promise<{ smallOrder: PublicKey; offSubgroup: PublicKey }> {
  const jub = (await buildEddsa()).babyJub as unknown as {
    F: { toObject(x: Uint8Array): bigint };
    Generator: [Uint8Array, Uint8Array];
    subOrder: bigint;
    mulPointEscalar(P: [Uint8Array, Uint8Array], e: bigint): [Uint8Array, Uint8Array];
  };
  const toKey = (P: [Uint8Array, Uint8Array]) => ({ ax: jub.F.toObject(P[0]), ay: jub.F.toObject(P[1]) });
  // The generator of the whole curve has order 8·l, so l·G has order 8.
  return { smallOrder: toKey(jub.mulPointEscalar(jub.Generator, jub.subOrder)), offSubgroup: toKey(jub.Generator) };
}

async function witnessFails(input: Record<string, unknown>): Promise<string | undefined> {
  try {
    await calculateWitness(INSTANCE, input);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

describe("model accepts ⇒ circuit proves, under adversarial providers", function () {
  let alice: Provider, bob: Provider;
  let world: RollupState;
  let smallOrder: PublicKey, offSubgroup: PublicKey;

  before(async () => {
    await initCrypto();
    [alice, bob] = await Promise.all([provider(1), provider(2)]);
    world = (await fundedWorld([alice, bob], 100n * OPEN)).state;
    ({ smallOrder, offSubgroup } = await oddKeys());
  });

  it("names the problem of every key that cannot sign, and passes keys made by prv2pub", async () => {
    expect(await keyProblem(alice.pub)).to.equal(undefined);
    expect(await keyProblem(smallOrder)).to.equal("the key is a point of small order (8·A is the identity)");
    expect(await keyProblem({ ax: 0n, ay: 1n })).to.equal("the key is a point of small order (8·A is the identity)");
    expect(await keyProblem(offSubgroup)).to.equal("the key is not in Baby Jubjub's prime-order subgroup");
    expect(await keyProblem({ ax: 1n, ay: 2n })).to.equal("the key is not a point of Baby Jubjub");
    expect(await keyProblem({ ax: 0n, ay: 0n })).to.equal("the account has no signing key");
  });

  it("refuses the small-order forgery that circomlibjs alone accepts, as the circuit does", async () => {
    const receipts = (await bundleFor(world, alice, [{ owner: OWNER, fee: 5n, entries: [] }])).receipts;
    const message = bundleMessage(receipts, params, DOMAIN);
    const F = (await buildEddsa()).F;
    const raw = (await buildEddsa()).verifyPoseidon(F.e(message), { R8: [F.e(0n), F.e(1n)], S: 0n }, [F.e(smallOrder.ax), F.e(smallOrder.ay)]);
    expect(raw, "circomlibjs verifyPoseidon on its own").to.equal(true);
    expect(await verifySignature(message, FORGED, smallOrder)).to.equal(false);

    // Alice's deposit sets the small-order key; her forged bundle in the same batch.
    const op: QueueOp = { ...deposit(alice, 1n), ax: smallOrder.ax, ay: smallOrder.ay };
    const err = await buildBatch(world, { ops: [op], bundles: [{ receipts, signature: FORGED }] }, DOMAIN).catch((e) => e);
    expect(err).to.be.instanceOf(BundleError);
    expect(err.message).to.equal("bundle 0: provider 1's key cannot sign: the key is a point of small order (8·A is the identity)");
    // What the old sequencer sealed (no signature check at sealing) has no witness.
    const sealed = await buildBatch(world, { ops: [op], bundles: [{ receipts, signature: FORGED }] }, DOMAIN, { skipSignatureCheck: true });
    expect(await witnessFails(sealed.circuitInput)).to.contain(WITNESS_FAILED).and.contain("EdDSAPoseidonVerifier");
    // The deposit alone is applied: a key is data, and the queue must move.
    const opOnly = await buildBatch(world, { ops: [op], bundles: [] }, DOMAIN);
    expect(await witnessFails(opOnly.circuitInput)).to.equal(undefined);
  });

  it("checks a bundle against the key its batch will hold, not the key it was accepted under", async () => {
    const bundle = await bundleFor(world, alice, [{ owner: OWNER, fee: 5n, entries: [] }]);
    const newKey = await provider(7);
    const rotate: QueueOp = deposit({ address: alice.address, pub: newKey.pub }, 1n);
    const acceptedUnder = (_: number, key: PublicKey) => key.ax === alice.pub.ax && key.ay === alice.pub.ay;
    const err = await buildBatch(world, { ops: [rotate], bundles: [bundle] }, DOMAIN, { verifiedAgainst: acceptedUnder }).catch((e) => e);
    expect(err).to.be.instanceOf(BundleError);
    expect(err.message).to.equal("bundle 0: the signature does not verify against provider 1's current key");
    const sealed = await buildBatch(world, { ops: [rotate], bundles: [bundle] }, DOMAIN, { skipSignatureCheck: true });
    expect(await witnessFails(sealed.circuitInput)).to.contain("EdDSAPoseidonVerifier");
    // Without the rotation the acceptance-time check stands and the circuit agrees.
    const fine = await buildBatch(world, { ops: [], bundles: [bundle] }, DOMAIN, { verifiedAgainst: acceptedUnder });
    expect(await witnessFails(fine.circuitInput)).to.equal(undefined);
  });

  it("holds for random sequences of rotations, small-order keys, forgeries, replays and withdrawals", async () => {
    const goodKeys = await Promise.all([0, 1, 2].map(async (i) => ({ key: privateKey(40 + i), pub: (await provider(40 + i)).pub })));
    const action = fc.oneof(
      fc.record({ t: fc.constant("bundle" as const), p: fc.nat(1), signer: fc.nat(2), fee: fc.bigInt(1n, 60n * OPEN), nonceShift: fc.constantFrom(0n, 0n, 0n, -1n, 1n), score: fc.bigInt(0n, 9n) }),
      fc.record({ t: fc.constant("forge" as const), p: fc.nat(1) }),
      fc.record({ t: fc.constant("replay" as const) }),
      fc.record({ t: fc.constant("rotate" as const), p: fc.nat(1), to: fc.nat(4) }),
      fc.record({ t: fc.constant("withdraw" as const), p: fc.nat(1) }),
      fc.record({ t: fc.constant("seal" as const) }),
    );
    let batches = 0, rejected = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 4, maxLength: 10 }), async (actions) => {
        let state = world;
        const people = [alice, bob];
        const signing = people.map((p) => ({ key: p.key, pub: p.pub })); // the key each provider signs with now
        const ops: QueueOp[] = [];
        const pending: SignedBundle[] = [];
        const applied: SignedBundle[] = [];
        const nextNonce = (p: number) => {
          const idx = state.indexOf(people[p].address)!;
          return state.account(idx).nonce + BigInt(pending.filter((b) => b.receipts[0].providerIdx === idx).reduce((a, b) => a + b.receipts.length, 0));
        };
        const seal = async () => {
          for (;;) {
            const input = { ops: ops.slice(0, params.queueOps), bundles: pending.slice(0, params.bundles) };
            let r;
            try {
              r = await buildBatch(state, input, DOMAIN);
            } catch (e) {
              if (!(e instanceof BundleError)) throw e;
              // As the sequencer does: reject it and the same provider's later bundles.
              const bad = input.bundles[e.bundle];
              const from = pending.indexOf(bad);
              for (let i = pending.length - 1; i >= from; i--) if (pending[i].receipts[0].providerIdx === bad.receipts[0].providerIdx) pending.splice(i, 1);
              rejected++;
              continue;
            }
            const failure = await witnessFails(r.circuitInput);
            expect(failure, `the model sealed a batch the circuit refuses: ${failure}`).to.equal(undefined);
            ops.splice(0, input.ops.length);
            applied.push(...pending.splice(0, input.bundles.length));
            state = r.state;
            batches++;
            return;
          }
        };
        for (const a of actions) {
          if (a.t === "bundle") {
            const idx = state.indexOf(people[a.p].address)!;
            const signer = a.signer === 2 ? goodKeys[0] : signing[a.p];
            const nonce = nextNonce(a.p) + a.nonceShift;
            if (nonce < 0n) continue;
            const receipts = [{ providerIdx: idx, owner: OWNER, fee: a.fee, nonce, inputHash: 1n, outputHash: 2n, entries: [{ contributor: 0xc1n, score: a.score }] }];
            pending.push(await signBundle(signer.key, receipts, params, DOMAIN));
          } else if (a.t === "forge") {
            const idx = state.indexOf(people[a.p].address)!;
            pending.push({ receipts: [{ providerIdx: idx, owner: OWNER, fee: 1n, nonce: nextNonce(a.p), inputHash: 3n, outputHash: 4n, entries: [] }], signature: FORGED });
          } else if (a.t === "replay") {
            if (applied.length > 0) pending.push(applied[applied.length - 1]);
          } else if (a.t === "rotate") {
            const to = a.to < 3 ? goodKeys[a.to] : { key: undefined, pub: a.to === 3 ? smallOrder : offSubgroup };
            if (to.key) signing[a.p] = { key: to.key, pub: to.pub };
            ops.push(deposit({ address: people[a.p].address, pub: to.pub }, 1n));
          } else if (a.t === "withdraw") {
            ops.push(withdrawal(people[a.p].address, state.indexOf(people[a.p].address)!));
          } else {
            await seal();
          }
        }
        while (ops.length > 0 || pending.length > 0) await seal();
      }),
      { numRuns: 16, seed: Number(process.env.AGREEMENT_SEED ?? 9009), endOnFailure: true },
    );
    console.log(`      ${batches} batches proved witness-valid, ${rejected} bundles rejected by the model`);
    expect(batches).to.be.greaterThan(10);
    expect(rejected).to.be.greaterThan(0);
  });
});
