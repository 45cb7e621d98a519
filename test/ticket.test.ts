// The ticket reference model (core/ticket.ts): the win rule's threshold to the
// unit, face values whose expectation is the fee exactly, the draw's
// dependence on the beacon and on every ticket field, and named refusals.
import { expect } from "chai";
import { initCrypto } from "../core/crypto.js";
import { FIELD_MODULUS } from "../core/field.js";
import type { Receipt } from "../core/receipt.js";
import { poseidon } from "../core/crypto.js";
import { TicketTree } from "../core/ticket-tree.js";
import {
  bundleLeafHash, checkTicket, checkTicketBundle, drawWins, expectedValue, signTicketBundle, ticketBundleMessage, ticketFor, ticketHash, ticketLeaf,
  ticketTree, ticketWins, verifyTicketBundle, winDraw, winners, type Ticket, type TicketBundle,
} from "../core/ticket.js";
import { DOMAIN, params, provider } from "./helpers.js";

const K = params.entries;
const receipt = (nonce: bigint, fee = 10n ** 12n): Receipt => ({
  providerIdx: 1, owner: 0xb0b0n, fee, nonce, inputHash: 5n, outputHash: 6n, entries: [{ contributor: 0xc1c1n, score: 3n }],
});

describe("tickets: the struct and the win rule (core/ticket.ts)", function () {
  before(initCrypto);

  it("wins exactly when the draw's low 32 bits are below winProb", () => {
    const high = 0x1234_5678_9abc_def0n << 32n;
    for (const winProb of [1n, 2n ** 16n, 2n ** 31n, 2n ** 32n - 1n]) {
      expect([drawWins(high + winProb - 1n, winProb), drawWins(high + winProb, winProb), drawWins(0n, winProb), drawWins(high + 2n ** 32n - 1n, winProb)])
        .to.deep.equal([true, false, true, false]);
    }
    // The largest draw, r − 1, ends in 0xf0000000.
    expect((FIELD_MODULUS - 1n) & (2n ** 32n - 1n)).to.equal(0xf0000000n);
    expect([drawWins(FIELD_MODULUS - 1n, 0xf0000000n), drawWins(FIELD_MODULUS - 1n, 0xf0000001n)]).to.deep.equal([false, true]);
  });

  it("makes a ticket for 2^-k whose face value times its probability is the fee to the unit", () => {
    const fee = 104_000_000_000_003n; // odd: no power of two divides it
    for (const k of [1, 7, 20, 31]) {
      const t = ticketFor(receipt(0n, fee), k);
      expect(t.receipt.fee).to.equal(fee * 2n ** BigInt(k));
      expect(t.winProb).to.equal(2n ** BigInt(32 - k));
      expect(expectedValue(t)).to.deep.equal({ value: fee, exact: true });
    }
    expect(expectedValue({ receipt: receipt(0n, 3n), winProb: 2n ** 31n })).to.deep.equal({ value: 1n, exact: false });
  });

  it("draws differently for each beacon and each ticket field, the same for the same inputs", () => {
    const t = ticketFor(receipt(0n), 4);
    const h = ticketHash(t, K);
    expect(ticketHash(ticketFor(receipt(0n), 4), K)).to.equal(h);
    const variants: Ticket[] = [
      { ...t, winProb: t.winProb - 1n },
      { ...t, receipt: { ...t.receipt, fee: t.receipt.fee + 1n } },
      { ...t, receipt: { ...t.receipt, nonce: 1n } },
      { ...t, receipt: { ...t.receipt, entries: [{ contributor: 0xc1c1n, score: 4n }] } },
    ];
    expect(new Set([h, ...variants.map((v) => ticketHash(v, K))]).size).to.equal(5);
    expect(winDraw(h, 7n)).to.equal(winDraw(h, 7n));
    expect(winDraw(h, 7n)).to.not.equal(winDraw(h, 8n));
  });

  it("lets about p of the tickets win: 4,096 tickets at p = 1/8 under one beacon, within 4σ", () => {
    const beacon = 0x5eedn;
    let winners = 0;
    for (let n = 0n; n < 4096n; n++) if (ticketWins(ticketFor(receipt(n), 3), K, beacon)) winners++;
    // Binomial(4096, 1/8): mean 512, σ = √(4096·1/8·7/8) ≈ 21.2.
    expect(winners).to.be.within(512 - 85, 512 + 85);
  });

  it("refuses a probability of 0 or 1 and beyond, a face value too wide, and a beacon outside the field", () => {
    const t = ticketFor(receipt(0n), 2);
    expect(() => checkTicket({ ...t, winProb: 0n }, params)).to.throw("ticket winProb must be in [1, 2^32)");
    expect(() => checkTicket({ ...t, winProb: 2n ** 32n }, params)).to.throw("p = 1 is an exact receipt");
    expect(() => checkTicket(t, params)).to.not.throw();
    expect(() => checkTicket(ticketFor(receipt(0n, 2n ** 70n), 12), params)).to.throw(`receipt fee must be in [0, 2^${params.feeBits})`);
    expect(() => ticketFor(receipt(0n), 0)).to.throw("an integer k in [1, 31]");
    expect(() => ticketFor(receipt(0n), 32)).to.throw("got k = 32");
    expect(() => winDraw(1n, FIELD_MODULUS)).to.throw("a beacon must be a field element");
  });

  const bundleOf = (n: number, firstNonce = 7n): TicketBundle => ({
    providerIdx: 1, firstNonce, tickets: Array.from({ length: n }, (_, j) => ticketFor(receipt(firstNonce + BigInt(j), 10n ** 12n + BigInt(j)), 3)),
  });

  it("builds the ticket tree as a sum tree: the root's sum is the bundle's expected value to the unit, every path leads to it", () => {
    const b = bundleOf(11);
    const t = ticketTree(b, K, 2);
    expect(t.root.sum).to.equal(11n * 10n ** 12n + 55n);
    for (let j = 0; j < 11; j++) expect(TicketTree.rootFrom(ticketLeaf(b.tickets[j], K), j, t.siblings(j))).to.deep.equal(t.root);
    // Changing one ticket changes the root hash; the sum follows its expected value.
    const b2 = { ...b, tickets: b.tickets.map((x, j) => (j === 4 ? ticketFor({ ...receipt(11n), fee: 2n * 10n ** 12n }, 3) : x)) };
    const t2 = ticketTree(b2, K, 2);
    expect(t2.root.hash).to.not.equal(t.root.hash);
    expect(t2.root.sum).to.equal(t.root.sum + 10n ** 12n - 4n);
    expect(() => t.siblings(11)).to.throw("ticket index 11 is not in this bundle (0..10)");
    expect(() => ticketTree(bundleOf(17), K, 2)).to.throw("holds at most 16 tickets");
  });

  it("signs a ticket bundle once over (domain, provider, first nonce, count, root hash, root sum)", async () => {
    const prov = await provider(3);
    const b = bundleOf(5);
    const signed = await signTicketBundle(prov.key, b, params, 2, DOMAIN);
    expect(await verifyTicketBundle(signed, prov.pub, params, 2, DOMAIN)).to.equal(true);
    expect(await verifyTicketBundle(signed, prov.pub, params, 2, DOMAIN + 1n)).to.equal(false); // another deployment
    const fewer = { ...signed, tickets: signed.tickets.slice(0, 4) };
    expect(await verifyTicketBundle(fewer, prov.pub, params, 2, DOMAIN)).to.equal(false);
    const root = ticketTree(b, K, 2).root;
    expect(ticketBundleMessage(DOMAIN, 1, 7n, 5, root)).to.equal(poseidon([DOMAIN, 1n, 7n, 5n, root.hash, root.sum]));
  });

  it("refuses a bundle whose tickets skip a nonce, name another provider or have a fractional expected value", () => {
    const b = bundleOf(3);
    expect(() => checkTicketBundle({ ...b, tickets: [b.tickets[0], b.tickets[2]] }, params, 2)).to.throw("ticket 1 has nonce 9; a bundle's tickets carry consecutive nonces from 7");
    expect(() => checkTicketBundle({ ...b, providerIdx: 2 }, params, 2)).to.throw("ticket 0 names provider 1, not the bundle's 2");
    const odd = { receipt: receipt(7n, 3n), winProb: 1n << 31n };
    expect(() => checkTicketBundle({ ...b, tickets: [odd] }, params, 2)).to.throw("ticket 0: ticket face value × winProb must be a multiple of 2^32");
    expect(() => checkTicketBundle({ ...b, tickets: [] }, params, 2)).to.throw("at least one ticket");
  });

  it("hashes a committed bundle's leaf over all seven fields, and lists its winners in index order", () => {
    const b = bundleOf(16);
    const rec = { root: ticketTree(b, K, 2).root, providerIdx: 1, firstNonce: 7n, count: 16, commitBatch: 4, cursor: 0 };
    const h = bundleLeafHash(rec);
    const changed = [{ ...rec, cursor: 1 }, { ...rec, commitBatch: 5 }, { ...rec, count: 15 }, { ...rec, firstNonce: 8n }, { ...rec, root: { ...rec.root, sum: rec.root.sum + 1n } }];
    expect(new Set([h, ...changed.map(bundleLeafHash)]).size).to.equal(6);
    const w = winners(b, K, 0x5eedn);
    expect(w).to.deep.equal(b.tickets.map((_, j) => j).filter((j) => ticketWins(b.tickets[j], K, 0x5eedn)));
    expect([...w].sort((x, y) => x - y)).to.deep.equal(w);
  });
});

// ---- Tickets in a batch: buildBatch's ticket steps, the body, the replay (core/rollup.ts, publicData.ts, replay.ts) ----

import { buildBatch, RollupState } from "../core/rollup.js";
import { applyBody } from "../core/replay.js";
import { bodyLength, type BatchParams } from "../core/params.js";
import { decodeBody, publicSignals } from "../core/publicData.js";
import { payout } from "../core/payout.js";
import { POOL_ADDRESS } from "../core/ticket.js";
import { bundleFor, deposit, expectReject, TREASURY } from "./helpers.js";
import { witness, witnessFails } from "./lib/circom.js";

describe("tickets in a batch: commit, winners beside an exact receipt, the pool, the body and a validator's replay", function () {
  before(initCrypto);
  const TP = { ...params, ticketDepth: 2, ticketCommits: 1, winners: 2 };

  it("pays exactly the winners at face value, debits the provider the bundle's expected value, and replays from the body alone", async () => {
    const prov = await provider(8);
    const g = new RollupState(TP, TREASURY);
    const b0 = await buildBatch(g, { ops: [deposit(prov, 10n ** 18n)], bundles: [] }, DOMAIN, {});
    const idx = b0.state.indexOf(prov.address)!;
    const tickets: TicketBundle = {
      providerIdx: idx, firstNonce: 0n,
      tickets: Array.from({ length: 12 }, (_, j) => ticketFor({
        providerIdx: idx, owner: 0xb0b0n, fee: 10n ** 12n, nonce: BigInt(j), inputHash: BigInt(j), outputHash: 9n, entries: [{ contributor: 0xc1n + BigInt(j % 3), score: 5n }],
      }, 2)),
    };
    const signed = await signTicketBundle(prov.key, tickets, TP, 2, DOMAIN);
    const b1 = await buildBatch(b0.state, { ops: [], bundles: [], tickets: { batchNumber: 1, commits: [signed], beaconBatch: 0, beacon: 0n, winners: [] } }, DOMAIN);
    const bundleIdx = b1.decoded.commits![0].bundleIdx;
    const ev = 12n * 10n ** 12n;
    expect(b1.state.account(idx)).to.deep.include({ balance: 10n ** 18n - ev, nonce: 12n });
    expect(b1.decoded.pool).to.deep.equal({ poolIdx: b1.state.indexOf(POOL_ADDRESS), inflow: ev, outflow: 0n });
    expect(b1.body.length).to.equal(bodyLength(TP));
    expect(publicSignals(b1.publicInputs)).to.have.length(9);

    // A beacon under which at least two tickets win; pay the first two with an exact receipt in the same batch.
    let beacon = 1n;
    while (winners(tickets, K, beacon).length < 2) beacon++;
    const [w0, w1] = winners(tickets, K, beacon);
    const exact = await bundleFor(b1.state, prov, [{ owner: 0xb0b0n, fee: 10n ** 9n, entries: [] }]);
    const b2 = await buildBatch(b1.state, {
      ops: [], bundles: [exact],
      tickets: { batchNumber: 2, commits: [], beaconBatch: 1, beacon, winners: [{ bundleIdx, index: w0, tickets }, { bundleIdx, index: w1, tickets }] },
    }, DOMAIN);
    const face = 4n * 10n ** 12n;
    const atFace = payout(face, [5n], TP);
    const paidTo = (a: bigint) => b2.state.account(b2.state.indexOf(a)!).balance - (b1.state.indexOf(a) === undefined ? 0n : b1.state.account(b1.state.indexOf(a)!).balance);
    const byContributor = new Map<bigint, bigint>();
    for (const j of [w0, w1]) byContributor.set(0xc1n + BigInt(j % 3), (byContributor.get(0xc1n + BigInt(j % 3)) ?? 0n) + atFace.shares[0]);
    for (const [a, v] of byContributor) expect(paidTo(a)).to.equal(v);
    const exactPay = payout(10n ** 9n, [], TP);
    expect(paidTo(0xb0b0n)).to.equal(2n * atFace.ownerTotal + exactPay.ownerTotal);
    expect(paidTo(TREASURY)).to.equal(exactPay.protocol); // the winners' protocol share stays in the pool
    expect(b2.state.account(b2.state.indexOf(POOL_ADDRESS)!).balance).to.equal(ev - 2n * (face - atFace.protocol));
    expect(b2.state.bundles.get(bundleIdx)!.cursor).to.equal(w1 + 1);
    expect(b2.decoded.winners).to.deep.equal([{ bundleIdx, ticketIndex: w0 }, { bundleIdx, ticketIndex: w1 }]);

    // A validator rebuilds every root from the bodies alone.
    let v = new RollupState(TP, TREASURY);
    v = applyBody(v, b0.body, [deposit(prov, 10n ** 18n)], 0);
    expect(v.root).to.equal(b0.state.root);
    v = applyBody(v, b1.body, [], 1);
    expect(v.root).to.equal(b1.state.root);
    v = applyBody(v, b2.body, [], 2);
    expect(v.root).to.equal(b2.state.root);
    expect(decodeBody(b2.body, TP).pool).to.deep.equal(b2.decoded.pool);

    // The Batch circuit (test/circuits/batch_tickets.circom: the test instance with DT 2, NTC 1, NW 2)
    // accepts the model's inputs for all three batches, with the model's nine public inputs.
    for (const b of [b0, b1, b2]) {
      const out = await witness("batch_tickets", b.circuitInput);
      expect(out.slice(1, 10)).to.deep.equal(publicSignals(b.publicInputs));
    }
    // …and refuses a winner paid more than the payout rule, and a pool that pays less than the winners cost.
    const tamper = (f: (x: Record<string, any>) => void) => {
      const x = structuredClone(b2.circuitInput) as Record<string, any>;
      f(x);
      return x;
    };
    await witnessFails("batch_tickets", tamper((x) => (x.twFace[0] = x.twFace[0] * 2n)));
    await witnessFails("batch_tickets", tamper((x) => (x.tpOutflow[0] = x.tpOutflow[0] - 1n)));
    await witnessFails("batch_tickets", tamper((x) => (x.beacon = x.beacon + 1n)));

    // The same winner again, a loser, and another batch's beacon are refused.
    await expectReject(buildBatch(b2.state, { ops: [], bundles: [], tickets: { batchNumber: 3, commits: [], beaconBatch: 1, beacon, winners: [{ bundleIdx, index: w1, tickets }] } }, DOMAIN), "is behind its cursor");
    const loser = tickets.tickets.findIndex((t, j) => j > w1 && !ticketWins(t, K, beacon));
    if (loser > 0) await expectReject(buildBatch(b2.state, { ops: [], bundles: [], tickets: { batchNumber: 3, commits: [], beaconBatch: 1, beacon, winners: [{ bundleIdx, index: loser, tickets }] } }, DOMAIN), "did not win");
    await expectReject(buildBatch(b2.state, { ops: [], bundles: [], tickets: { batchNumber: 3, commits: [], beaconBatch: 2, beacon, winners: [{ bundleIdx, index: w1 + 1, tickets }] } }, DOMAIN), "was committed in batch 1");
  });

  it("leaves an instance without tickets exactly as it was: body length, six public inputs, refusal of ticket input", async () => {
    // The test instance without its ticket steps (the production instance has none either).
    const plain: BatchParams = { ...params, ticketDepth: undefined, ticketCommits: undefined, winners: undefined };
    const g = new RollupState(plain, TREASURY);
    const b = await buildBatch(g, { ops: [], bundles: [] }, DOMAIN);
    expect(b.body.length).to.equal(152);
    expect((await buildBatch(new RollupState(params, TREASURY), { ops: [], bundles: [] }, DOMAIN)).body.length).to.equal(152 + 79);
    expect(publicSignals(b.publicInputs)).to.have.length(6);
    expect(Object.keys(b.circuitInput).some((k) => /^t[cwp]/.test(k))).to.equal(false);
    await expectReject(buildBatch(g, { ops: [], bundles: [], tickets: { batchNumber: 0, commits: [await signTicketBundle((await provider(8)).key, { providerIdx: 1, firstNonce: 0n, tickets: [ticketFor(receipt(0n), 2)] }, params, 2, DOMAIN)], beaconBatch: 0, beacon: 0n, winners: [] } }, DOMAIN), "this instance has no ticket steps");
  });
});

