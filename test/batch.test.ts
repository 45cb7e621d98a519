// The batch circuit against the reference model: honest batches (edge cases
// and random ones) must produce a witness for exactly the model's public
// inputs; every rule the circuit enforces has a batch that breaks it and fails.
import { expect } from "chai";
import fc from "fast-check";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { signMessage } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { bundleMessage } from "../core/receipt.js";
import { bodyHash, encodeBody } from "../core/publicData.js";
import { queueStep, QUEUE_GENESIS } from "../core/queue.js";
import { buildBatch, type BatchInput, type BatchResult, type BuildOptions, type RollupState } from "../core/rollup.js";
import { calculateWitness } from "../prover/groth16.js";
import { artifactPaths, ROOT } from "../artifacts/paths.js";
import { bundleFor, deposit, DOMAIN, fundedWorld, INSTANCE, OPEN, params, provider, TREASURY, withdrawal, type Provider } from "./helpers.js";

const OWNER = 0xb0b0n, C1 = 0xc1c1n, C2 = 0xc2c2n;

async function accepts(b: BatchResult): Promise<void> {
  await calculateWitness(INSTANCE, b.circuitInput);
}

/** The line of circuits/<file> that holds `snippet`: where a failing constraint is expected. */
function lineOf(file: string, snippet: string): number {
  const lines = readFileSync(join(ROOT, "circuits", file), "utf8").split("\n");
  const i = lines.findIndex((l) => l.includes(snippet));
  if (i < 0) throw new Error(`${snippet} not found in circuits/${file}`);
  return i + 1;
}

/**
 * Expects witness generation to fail, and to fail at `where`: template names
 * from the innermost failing component outwards, e.g. ["Range", "Bundle"], or
 * a Batch-level constraint given by its source line.
 */
async function rejects(input: Record<string, unknown>, why: string, where: (string | { batchLine: string })[]): Promise<void> {
  let err: unknown;
  try {
    await calculateWitness(INSTANCE, input);
  } catch (e) {
    err = e;
  }
  if (!err) expect.fail(`the circuit accepted a batch that ${why}`);
  const chain = String(err).split("\n").filter((l) => l.startsWith("Error in template ")).map((l) => l.slice(18));
  const expected = where.map((w) => (typeof w === "string" ? w : `Batch line ${lineOf("batch.circom", w.batchLine)}`));
  const actual = chain.map((c) => c.replace(/_\d+ line: (\d+)/, (_, l) => (c.startsWith("Batch_") ? ` line ${l}` : "")));
  expect(actual.slice(0, expected.length), `a batch that ${why} failed at ${chain.join(" < ")}`).to.deep.equal(expected);
}

/** Replaces the body (and its hash) with a re-encoding after `edit`: what a cheating sequencer would post. */
function withBody(b: BatchResult, edit: (body: BatchResult["decoded"]) => void): Record<string, unknown> {
  const body = structuredClone(b.decoded);
  edit(body);
  return { ...b.circuitInput, bodyHash: bodyHash(encodeBody(body, params)) };
}

describe("batch circuit (test instance)", function () {
  let alice: Provider, bob: Provider;
  let world: RollupState;
  let funding: BatchResult[];

  const batch = (state: RollupState, input: Partial<BatchInput>, opts?: BuildOptions) =>
    buildBatch(state, { ops: input.ops ?? [], bundles: input.bundles ?? [] }, DOMAIN, opts);
  const paying = async (state: RollupState, fees: bigint[], scores: bigint[][] = fees.map(() => [1n, 2n]), opts?: BuildOptions) =>
    batch(state, { bundles: [await bundleFor(state, alice, fees.map((fee, j) => ({ owner: OWNER, fee, entries: [{ contributor: C1, score: scores[j][0] }, { contributor: C2, score: scores[j][1] }] })))] }, opts);

  before(async function () {
    if (!existsSync(artifactPaths(INSTANCE).wasm)) throw new Error("run `npm run setup` first: the test circuit is not built");
    alice = await provider(1);
    bob = await provider(2);
    ({ state: world, batches: funding } = await fundedWorld([alice, bob], 1000n * OPEN));
  });

  describe("agrees with the reference model", () => {
    it("on an empty batch and on deposits", async () => {
      await accepts(await batch(world, {}));
      for (const b of funding) await accepts(b);
    });

    it("on a full batch: a deposit, a bundle of two receipts, four credited accounts", async () => {
      const b = await batch(world, { ops: [deposit(bob, 5n)], bundles: [await bundleFor(world, alice, [{ owner: OWNER, fee: 10001n, entries: [{ contributor: C1, score: 1n }, { contributor: C2, score: 2n }] }, { owner: OWNER, fee: 3n, entries: [{ contributor: C2, score: 9n }] }])] });
      await accepts(b);
      const p1 = payout(10001n, [1n, 2n], params), p2 = payout(3n, [9n, 0n], params);
      const next = world.nextIndex;
      expect(b.decoded.slots.map((s) => [s.accountIdx, s.delta])).to.deep.equal([
        [0, p1.protocol + p2.protocol],
        [next, p1.shares[0]],
        [next + 1, p1.shares[1] + p2.shares[0]],
        [next + 2, p1.ownerTotal + p2.ownerTotal],
      ]);
      expect(b.decoded.newAddresses).to.deep.equal([C1, C2, OWNER]);
      expect(b.decoded.bundles[0]).to.deep.equal({ providerIdx: world.indexOf(alice.address), count: 2, totalFee: 10004n });
    });

    it("on a zero fee, one contributor, all dust, and the maximum fee", async () => {
      await accepts(await paying(world, [0n]));
      await accepts(await batch(world, { bundles: [await bundleFor(world, alice, [{ owner: OWNER, fee: 77n, entries: [{ contributor: C1, score: 5n }] }])] }));
      const dust = await paying(world, [1000n], [[0n, 0n]]);
      await accepts(dust);
      expect(dust.decoded.slots.map((s) => s.delta)).to.deep.equal([50n, 950n]);
      const rich = (await batch(world, { ops: [deposit(alice, 1n << 81n)] })).state;
      await accepts(await paying(rich, [(1n << 80n) - 1n], [[(1n << 32n) - 1n, 1n]]));
    });

    it("on a withdrawal, by the owner and by a stranger", async () => {
      const idx = world.indexOf(alice.address)!;
      const own = await batch(world, { ops: [withdrawal(alice.address, idx)] });
      expect(own.withdrawals).to.deep.equal([{ address: alice.address, amount: 1000n * OPEN }]);
      await accepts(own);
      await accepts(await batch(world, { ops: [withdrawal(0xbadn, idx)] }));
    });

    it("on random batches (property)", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ fee: fc.bigInt(0n, 4n * 10n ** 20n), s1: fc.bigInt(0n, (1n << 32n) - 1n), s2: fc.bigInt(0n, 1000n) }), { minLength: 0, maxLength: 2 }),
          fc.option(fc.constantFrom("deposit", "withdrawal"), { nil: undefined }),
          async (receipts, opKind) => {
            const ops = opKind === "deposit" ? [deposit(bob, 123n)] : opKind === "withdrawal" ? [withdrawal(bob.address, world.indexOf(bob.address)!)] : [];
            const bundles = receipts.length ? [await bundleFor(world, alice, receipts.map((r) => ({ owner: OWNER, fee: r.fee, entries: [{ contributor: C1, score: r.s1 }, { contributor: C2, score: r.s2 }] })))] : [];
            await accepts(await batch(world, { ops, bundles }));
          },
        ),
        { numRuns: 5 },
      );
    });
  });

  describe("soundness: breaking a rule fails witness generation", () => {
    let honest: BatchResult;
    before(async () => {
      honest = await paying(world, [10001n, 5n]);
    });

    it("the provider's signature over the bundle", async () => {
      const sig = honest.circuitInput.bSig as bigint[][];
      await rejects({ ...honest.circuitInput, bSig: [[sig[0][0] + 1n, sig[0][1], sig[0][2]]] }, "has a forged signature", ["ForceEqualIfEnabled", "EdDSAPoseidonVerifier", "Bundle"]);
      await rejects({ ...honest.circuitInput, domain: DOMAIN + 1n }, "was signed for another deployment", ["ForceEqualIfEnabled", "EdDSAPoseidonVerifier", "Bundle"]);
      const fee = honest.circuitInput.rFee as bigint[][];
      await rejects({ ...honest.circuitInput, rFee: [[fee[0][0] - 1n, fee[0][1]]] }, "changed a signed fee", ["ForceEqualIfEnabled", "EdDSAPoseidonVerifier", "Bundle"]);
    });

    it("nonces advance: a bundle cannot be applied twice", async () => {
      const bundle = await bundleFor(world, alice, [{ owner: OWNER, fee: 9n, entries: [] }]);
      const once = await batch(world, { bundles: [bundle] });
      await accepts(once);
      await rejects((await batch(once.state, { bundles: [bundle] }, { unchecked: true })).circuitInput, "replayed a bundle", ["ForceEqualIfEnabled", "EdDSAPoseidonVerifier", "Bundle"]);
    });

    it("no balance goes below zero", async () => {
      await rejects((await paying(world, [1000n * OPEN + 1n], undefined, { unchecked: true })).circuitInput, "overdraws the provider", ["Num2Bits", "Range", "Bundle"]);
    });

    it("amounts stay bounded: fees below 2^80, balances below 2^96", async () => {
      const rich = (await batch(world, { ops: [deposit(alice, 1n << 81n)] })).state;
      const idx = rich.indexOf(alice.address)!;
      const receipts = [{ providerIdx: idx, owner: OWNER, fee: 1n << 80n, nonce: rich.account(idx).nonce, inputHash: 1n, outputHash: 2n, entries: [{ contributor: C1, score: 1n }] }];
      const signature = await signMessage(alice.key, bundleMessage(receipts, params, DOMAIN));
      await rejects((await batch(rich, { bundles: [{ receipts, signature }] }, { unchecked: true })).circuitInput, "has a fee of 2^80", ["Num2Bits", "Range", "ReceiptPayout"]);
      const huge = await batch(world, { ops: [deposit(alice, (1n << 96n) - 1n)] }, { unchecked: true });
      await rejects(huge.circuitInput, "pushes a balance to 2^96", ["Num2Bits", "Range", "QueueOp"]);
    });

    it("the payout rule: credits per address equal the slot deltas", async () => {
      const moved = await paying(world, [10001n, 5n], undefined, { adjustCredits: (c) => { c.set(C1, c.get(C1)! + 1n); c.set(OWNER, c.get(OWNER)! - 1n); } });
      await rejects(moved.circuitInput, "moves one unit from the owner to a contributor", [{ batchLine: "credited === applied" }]);
      const minted = await paying(world, [10001n, 5n], undefined, { adjustCredits: (c) => c.set(C2, c.get(C2)! + 1n) });
      await rejects(minted.circuitInput, "credits one unit nobody paid", [{ batchLine: "credited === applied" }]);
      const stranger = await paying(world, [10001n, 5n], undefined, { adjustCredits: (c) => { c.set(0xe7e7n, c.get(C2)!); c.delete(C2); } });
      await rejects(stranger.circuitInput, "pays a contributor's share to someone else", [{ batchLine: "credited === applied" }]);
    });

    it("every leaf update goes from the old root to the new root", async () => {
      const inp = honest.circuitInput;
      const sib = structuredClone(inp.cSiblings as bigint[][][]);
      sib[1][0][2] += 1n;
      await rejects({ ...inp, cSiblings: sib }, "uses a wrong Merkle path", ["LeafUpdate", "CreditSlot"]);
      await rejects({ ...inp, newRoot: (inp.newRoot as bigint) + 1n }, "claims another new root", [{ batchLine: "root[TS + T] === newRoot" }]);
      await rejects({ ...inp, oldRoot: (inp.oldRoot as bigint) + 1n }, "starts from another root", ["LeafUpdate", "QueueOp"]);
      const leaf = structuredClone(inp.bLeaf as bigint[][]);
      leaf[0][1] += 1n;
      await rejects({ ...inp, bLeaf: leaf }, "inflates the provider's balance", ["LeafUpdate", "Bundle"]);
      const squat = await paying(world, [10001n, 5n], undefined, { slotLeaf: (a) => (a === C1 ? world.indexOf(bob.address) : undefined) });
      await rejects(squat.circuitInput, "credits a contributor in another address's leaf", ["CreditSlot"]);
    });

    it("L1 queue operations are consumed in order, none skipped", async () => {
      const first = deposit(bob, 1n), second = deposit(alice, 2n);
      const chainAfterFirst = queueStep(QUEUE_GENESIS, first);
      const skipping = await batch(world, { ops: [second] });
      // The contract supplies the chain after its oldest pending op.
      await rejects({ ...skipping.circuitInput, oldQueueHash: world.queueHash, newQueueHash: chainAfterFirst }, "skips the oldest queued op", [{ batchLine: "queue[NQ] === newQueueHash" }]);
      const honestOp = await batch(world, { ops: [first] });
      await rejects({ ...honestOp.circuitInput, newQueueHash: world.queueHash }, "applies an op but claims none consumed", [{ batchLine: "queue[NQ] === newQueueHash" }]);
      await rejects({ ...honestOp.circuitInput, opAmount: [2n] }, "changes a queued deposit's amount", [{ batchLine: "queue[NQ] === newQueueHash" }]);
    });

    it("a withdrawal moves the account's whole balance into the withdrawal list", async () => {
      const idx = world.indexOf(alice.address)!;
      const w = await batch(world, { ops: [withdrawal(alice.address, idx)] });
      await rejects(withBody(w, (b) => (b.ops[0].amount += 1n)), "withdraws more than the balance", [{ batchLine: "bodyHash === h" }]);
      await rejects(withBody(w, (b) => (b.ops[0].amount -= 1n)), "withdraws less than the balance", [{ batchLine: "bodyHash === h" }]);
      const stranger = await batch(world, { ops: [withdrawal(0xbadn, idx)] });
      await rejects(withBody(stranger, (b) => (b.ops[0].amount = 1000n * OPEN)), "pays a stranger someone else's balance", [{ batchLine: "bodyHash === h" }]);
    });

    it("the public data binds deposits, provider debits and per-account deltas", async () => {
      await rejects(withBody(honest, (b) => (b.slots[1].delta += 1n)), "posts a different delta", [{ batchLine: "bodyHash === h" }]);
      await rejects(withBody(honest, (b) => (b.newAddresses[0] += 1n)), "posts a different new address", [{ batchLine: "bodyHash === h" }]);
      await rejects(withBody(honest, (b) => (b.bundles[0].totalFee -= 1n)), "posts a smaller provider debit", [{ batchLine: "bodyHash === h" }]);
      await rejects(withBody(funding[0], (b) => (b.ops[0].accountIdx += 1)), "posts another deposit leaf", [{ batchLine: "bodyHash === h" }]);
      await rejects({ ...honest.circuitInput, bodyHash: (honest.circuitInput.bodyHash as bigint) ^ 1n }, "has another body hash", [{ batchLine: "bodyHash === h" }]);
    });

    it("new accounts take the first slots, at most newAccounts of them, and their addresses are published", async () => {
      const mixed = await batch(world, { bundles: [await bundleFor(world, alice, [{ owner: bob.address, fee: 1000n, entries: [{ contributor: C1, score: 1n }, { contributor: C2, score: 1n }] }])] });
      await accepts(mixed);
      expect(mixed.decoded.slots.map((x) => x.accountIdx)).to.deep.equal([0, world.nextIndex, world.nextIndex + 1, world.indexOf(bob.address)]);
      expect(mixed.decoded.newAddresses).to.deep.equal([C1, C2, 0n]);
      const late = await batch(world, { bundles: [await bundleFor(world, alice, [{ owner: bob.address, fee: 1000n, entries: [{ contributor: C1, score: 1n }, { contributor: C2, score: 1n }] }])] }, { slotOrder: (e) => [e[2], e[0], e[1]] });
      await rejects(late.circuitInput, "opens a new account after an existing one", [{ batchLine: "slot[t].isNew * (1 - slot[t - 1].isNew) === 0" }]);
      const four = [{ owner: OWNER, fee: 1000n, entries: [{ contributor: C1, score: 1n }, { contributor: C2, score: 1n }] }, { owner: 0x4e40n, fee: 1n, entries: [] }];
      const many = await batch(world, { bundles: [await bundleFor(world, alice, four)] }, { unchecked: true });
      await rejects(many.circuitInput, "opens a fourth new account (the instance publishes three)", [{ batchLine: "slot[t].isNew === 0" }]);
      await rejects(withBody(mixed, (b) => (b.newAddresses[1] = 0n)), "leaves a new account's address out", [{ batchLine: "bodyHash === h" }]);
    });

    it("unused slots are no-ops", async () => {
      const empty = await batch(world, {});
      await rejects({ ...empty.circuitInput, cDelta: [0n, 0n, 0n, 0n, 5n] }, "credits an unused slot", ["CreditSlot"]);
      await rejects({ ...empty.circuitInput, opAccountIdx: [3n] }, "names a leaf in an unused op slot", ["QueueOp"]);
      await rejects({ ...empty.circuitInput, bProviderIdx: [1n] }, "names a provider in an unused bundle", ["Bundle"]);
    });
  });
});
