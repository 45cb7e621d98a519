// The ticket templates (circuits/lib/ticket.circom) against the reference model
// (core/ticket.ts, core/ticket-tree.ts): the same expected values, the same win
// rule, the same ticket-tree roots; and each rule broken is refused.
import { expect } from "chai";
import { FIELD_MODULUS, initCrypto } from "../core/crypto.js";
import { TicketTree, type SumNode } from "../core/ticket-tree.js";
import { drawWins, winDraw } from "../core/ticket.js";
import { witness, witnessFails as fails } from "./lib/circom.js";

const path = (t: TicketTree, index: number) => {
  const s = t.siblings(index);
  return { siblingHash: s.map((l) => l.map((n) => n.hash)), siblingSum: s.map((l) => l.map((n) => n.sum)) };
};

describe("ticket templates against the reference model", function () {
  before(initCrypto);

  it("TicketValue: face·winProb/2^32 when it is whole, refused when it is not", async () => {
    expect((await witness("ticket_value", { face: 3n << 10n, winProb: 1n << 22n }))[1]).to.equal(3n);
    const face = 104_000_000_000_003n << 10n;
    expect((await witness("ticket_value", { face, winProb: 1n << 22n }))[1]).to.equal(104_000_000_000_003n);
    await fails("ticket_value", { face: 3n, winProb: 1n << 31n }); // 1.5 base units
    await fails("ticket_value", { face: (1n << 80n) + (1n << 32n), winProb: 1n << 32n }); // ev past 2^80
  });

  it("TicketWin: accepts exactly the draws the model calls winning", async () => {
    // Find tickets whose draw's low 32 bits are known, then test just below and at them.
    let checked = 0;
    for (let h = 1n; checked < 3; h++) {
      const beacon = 0xbeac0n + h;
      const low = winDraw(h, beacon) & 0xffffffffn;
      if (low === 0n || low === 0xffffffffn) continue;
      expect(drawWins(winDraw(h, beacon), low + 1n)).to.equal(true);
      expect(drawWins(winDraw(h, beacon), low)).to.equal(false);
      await witness("ticket_win", { enabled: 1n, ticketHash: h, beacon, winProb: low + 1n });
      await fails("ticket_win", { enabled: 1n, ticketHash: h, beacon, winProb: low });
      // Another beacon is another draw: the circuit agrees with the model on it.
      const other = { enabled: 1n, ticketHash: h, beacon: beacon + 1n, winProb: low + 1n };
      if (drawWins(winDraw(h, beacon + 1n), low + 1n)) await witness("ticket_win", other);
      else await fails("ticket_win", other);
      checked++;
    }
  });

  it("TicketWin: refuses an unrecorded (zero) beacon and a probability of 1 or more", async () => {
    // A ticket that would win under beacon 0 must still be refused.
    let h = 1n;
    while (!drawWins(winDraw(h, 0n), 1n << 31n)) h++;
    await fails("ticket_win", { enabled: 1n, ticketHash: h, beacon: 0n, winProb: 1n << 31n });
    await fails("ticket_win", { enabled: 1n, ticketHash: 5n, beacon: 9n, winProb: 1n << 32n });
    await fails("ticket_win", { enabled: 1n, ticketHash: 5n, beacon: 9n, winProb: FIELD_MODULUS - 1n });
  });

  const leaves: SumNode[] = [11n, 12n, 13n, 14n, 15n, 16n, 17n].map((h, i) => ({ hash: h, sum: BigInt(1000 * (i + 1)) }));

  it("TicketPath: the model's root hash and sum from every leaf, and its index bits", async () => {
    const t = new TicketTree(2, leaves);
    expect(t.root.sum).to.equal(28_000n);
    for (const index of [0, 3, 4, 6]) {
      const w = await witness("ticket_path", { leafHash: leaves[index].hash, leafSum: leaves[index].sum, index: BigInt(index), ...path(t, index) });
      expect(w.slice(1, 3)).to.deep.equal([t.root.hash, t.root.sum]);
      expect(TicketTree.rootFrom(leaves[index], index, t.siblings(index))).to.deep.equal(t.root);
      expect(w.slice(3, 7)).to.deep.equal([0, 1, 2, 3].map((b) => BigInt((index >> b) & 1)));
    }
  });

  it("TicketPath: another leaf value gives another root; an index past 4^DT and a leaf sum past 2^96 are refused", async () => {
    const t = new TicketTree(2, leaves);
    const w = await witness("ticket_path", { leafHash: leaves[2].hash, leafSum: leaves[2].sum + 1n, index: 2n, ...path(t, 2) });
    expect(w[1]).to.not.equal(t.root.hash);
    expect(w[2]).to.equal(t.root.sum + 1n);
    await fails("ticket_path", { leafHash: leaves[2].hash, leafSum: leaves[2].sum, index: 2n + 16n, ...path(t, 2) });
    await fails("ticket_path", { leafHash: leaves[2].hash, leafSum: 1n << 96n, index: 2n, ...path(t, 2) });
  });

  it("TicketPath: refuses a 'negative' sibling sum that would make one ticket worth more than its whole bundle", async () => {
    // A dishonest provider's tree: ticket 0 claims 10^20 while its neighbour's sum
    // is r − (10^20 − 1000), so the root's sum is 1,000 in the field.
    const cheat = 10n ** 20n;
    const bad = [{ hash: 21n, sum: cheat }, { hash: 22n, sum: FIELD_MODULUS - (cheat - 1000n) }];
    const sib = [[bad[1], { hash: 0n, sum: 0n }, { hash: 0n, sum: 0n }], [0, 1, 2].map(() => ({ hash: 0n, sum: 0n }))];
    const input = { leafHash: 21n, leafSum: cheat, index: 0n, siblingHash: sib.map((l) => l.map((n) => n.hash)), siblingSum: sib.map((l) => l.map((n) => n.sum)) };
    await fails("ticket_path", input);
  });
});

// ---- Settlement templates: commit, winner, pool (circuits/lib/ticket_bundle.circom) ----

import { leafHash, type Account } from "../core/account.js";
import { payout } from "../core/payout.js";
import { MerkleTree } from "../core/tree.js";
import { bundleLeafHash, POOL_ADDRESS, signTicketBundle, ticketFor, ticketLeaf, ticketTree, ticketWins, type BundleRecord, type TicketBundle } from "../core/ticket.js";
import type { Receipt } from "../core/receipt.js";
import { DOMAIN, params, provider } from "./helpers.js";

const K = params.entries; // the test instance's K = 2, as the wrappers use
const cfg = { protocolBps: 500, ownerBps: 2000 };

describe("ticket settlement templates against the reference model", function () {
  before(initCrypto);

  // A 2-level account tree: the treasury at 0, the provider at 1 (index 1 in the
  // bundles), an empty leaf 5 for the bundle.
  const world = async () => {
    const prov = await provider(4);
    const account: Account = { address: prov.address, balance: 10n ** 18n, ax: prov.pub.ax, ay: prov.pub.ay, nonce: 3n };
    const tree = new MerkleTree(2);
    tree.set(0, leafHash({ address: 0x7ea5n, balance: 0n, ax: 0n, ay: 0n, nonce: 0n }));
    tree.set(1, leafHash(account));
    const receipt = (j: number): Receipt => ({
      providerIdx: 1, owner: 0xb0b0n, fee: 10n ** 12n + BigInt(j), nonce: 3n + BigInt(j), inputHash: 100n + BigInt(j), outputHash: 200n + BigInt(j),
      entries: [{ contributor: 0xc1n, score: 1n }, { contributor: 0xc2n, score: 2n }],
    });
    const bundle: TicketBundle = { providerIdx: 1, firstNonce: 3n, tickets: Array.from({ length: 6 }, (_, j) => ticketFor(receipt(j), 1)) };
    const signed = await signTicketBundle(prov.key, bundle, params, 2, DOMAIN);
    return { prov, account, tree, bundle, signed, root: ticketTree(bundle, K, 2).root };
  };

  const commitInput = (w: Awaited<ReturnType<typeof world>>, over: Record<string, unknown> = {}) => {
    const after = w.tree.clone();
    const a = w.account;
    after.set(1, leafHash({ ...a, balance: a.balance - w.root.sum, nonce: a.nonce + 6n }));
    return {
      input: {
        enabled: 1n, domain: DOMAIN, batchNumber: 9n, providerIdx: 1n, address: a.address, balance: a.balance, ax: a.ax, ay: a.ay, nonce: a.nonce,
        providerSiblings: w.tree.siblings(1), sigS: w.signed.signature.S, sigR8x: w.signed.signature.R8x, sigR8y: w.signed.signature.R8y,
        count: 6n, rootHash: w.root.hash, rootSum: w.root.sum, bundleIdx: 5n, bundleOldLeaf: 0n, bundleSiblings: after.siblings(5), rootIn: w.tree.root, ...over,
      },
      after,
    };
  };

  it("TicketCommit: the provider pays the bundle's expected value, its nonce advances by the count, the bundle leaf is written", async () => {
    const w = await world();
    const { input, after } = commitInput(w);
    const rec: BundleRecord = { root: w.root, providerIdx: 1, firstNonce: 3n, count: 6, commitBatch: 9, cursor: 0 };
    after.set(5, bundleLeafHash(rec));
    const out = await witness("ticket_commit", input);
    expect(out[1]).to.equal(after.root);
    expect(w.root.sum).to.equal(3n * (2n * 10n ** 12n) + 15n * 2n / 2n);
  });

  it("TicketCommit: refuses another signer's bundle, a count or sum it did not sign, a replayed nonce, an unaffordable bundle and an occupied leaf", async () => {
    const w = await world();
    const { input } = commitInput(w);
    await fails("ticket_commit", { ...input, count: 5n });
    await fails("ticket_commit", { ...input, rootSum: input.rootSum - 1n });
    await fails("ticket_commit", { ...input, domain: DOMAIN + 1n });
    const other = await provider(5);
    await fails("ticket_commit", { ...input, ax: other.pub.ax, ay: other.pub.ay });
    // Signed at nonce 3; the leaf has moved on to 9 (a replay of the same signed commitment).
    const moved = w.tree.clone();
    moved.set(1, leafHash({ ...w.account, nonce: 9n }));
    await fails("ticket_commit", { ...input, nonce: 9n, rootIn: moved.root, providerSiblings: moved.siblings(1) });
    // A provider whose balance does not cover the expected value.
    const poor = await world();
    poor.account.balance = poor.root.sum - 1n;
    poor.tree.set(1, leafHash(poor.account));
    await fails("ticket_commit", commitInput(poor).input);
    // The bundle leaf must have been empty.
    await fails("ticket_commit", { ...input, bundleOldLeaf: 77n });
    // A count past 4^DT and 0 are refused.
    await fails("ticket_commit", { ...input, count: 17n });
  });

  it("TicketCommit: disabled, it changes nothing and refuses any value", async () => {
    const w = await world();
    const t = w.tree;
    const treasury = { address: 0x7ea5n, balance: 0n, ax: 0n, ay: 0n, nonce: 0n };
    const off = {
      enabled: 0n, domain: DOMAIN, batchNumber: 9n, providerIdx: 0n, ...treasury, providerSiblings: t.siblings(0), sigS: 0n, sigR8x: 0n, sigR8y: 1n,
      count: 0n, rootHash: 0n, rootSum: 0n, bundleIdx: 0n, bundleOldLeaf: t.leaf(0), bundleSiblings: t.siblings(0), rootIn: t.root,
    };
    expect((await witness("ticket_commit", off))[1]).to.equal(t.root);
    await fails("ticket_commit", { ...off, rootSum: 1n });
    await fails("ticket_commit", { ...off, count: 1n });
  });

  // A committed bundle in leaf 5 and a beacon under which some of its tickets win.
  const committed = async () => {
    const w = await world();
    const rec: BundleRecord = { root: w.root, providerIdx: 1, firstNonce: 3n, count: 6, commitBatch: 9, cursor: 0 };
    w.tree.set(5, bundleLeafHash(rec));
    let beacon = 1n;
    while (!w.bundle.tickets.some((t) => ticketWins(t, K, beacon)) || w.bundle.tickets.every((t) => ticketWins(t, K, beacon))) beacon++;
    const win = w.bundle.tickets.findIndex((t) => ticketWins(t, K, beacon));
    const lose = w.bundle.tickets.findIndex((t) => !ticketWins(t, K, beacon));
    return { ...w, rec, beacon, win, lose };
  };

  const winnerInput = (c: Awaited<ReturnType<typeof committed>>, j: number, rec = c.rec, tree = c.tree) => {
    const t = c.bundle.tickets[j];
    const sib = ticketTree(c.bundle, K, 2).siblings(j);
    return {
      enabled: 1n, beaconBatch: 9n, beacon: c.beacon, bundleIdx: 5n, bundleOldLeaf: tree.leaf(5),
      rootHash: rec.root.hash, rootSum: rec.root.sum, providerIdx: 1n, firstNonce: rec.firstNonce, count: BigInt(rec.count), commitBatch: BigInt(rec.commitBatch), cursor: BigInt(rec.cursor),
      bundleSiblings: tree.siblings(5), ticketIndex: BigInt(j), owner: t.receipt.owner, face: t.receipt.fee, inputHash: t.receipt.inputHash, outputHash: t.receipt.outputHash,
      contributor: t.receipt.entries.map((e) => e.contributor), score: t.receipt.entries.map((e) => e.score), winProb: t.winProb,
      ticketSiblingHash: sib.map((l) => l.map((n) => n.hash)), ticketSiblingSum: sib.map((l) => l.map((n) => n.sum)), rootIn: tree.root,
    };
  };

  it("TicketWinner: pays a winning ticket at face value by the payout rule, the pool all but the protocol's share, and moves the cursor", async () => {
    const c = await committed();
    const t = c.bundle.tickets[c.win];
    const out = await witness("ticket_winner", winnerInput(c, c.win));
    const after = c.tree.clone();
    after.set(5, bundleLeafHash({ ...c.rec, cursor: c.win + 1 }));
    const pay = payout(t.receipt.fee, t.receipt.entries.map((e) => e.score), cfg);
    // Outputs: rootOut, bundleIdxBits[4], ticketIndexBits[4], creditAddress[3], creditAmount[3], poolOut.
    expect(out[1]).to.equal(after.root);
    expect(out.slice(10, 13)).to.deep.equal([0xc1n, 0xc2n, 0xb0b0n]);
    expect(out.slice(13, 16)).to.deep.equal([...pay.shares, pay.ownerTotal]);
    expect(out[16]).to.equal(t.receipt.fee - pay.protocol);
    expect(ticketLeaf(t, K).sum * 2n).to.equal(t.receipt.fee);
  });

  it("TicketWinner: refuses a losing ticket, a ticket paid twice, another batch's beacon, a ticket past the count and a changed face value", async () => {
    const c = await committed();
    await fails("ticket_winner", winnerInput(c, c.lose));
    // After paying the winner, the cursor has passed it: paying it again is refused.
    const rec2 = { ...c.rec, cursor: c.win + 1 };
    const tree2 = c.tree.clone();
    tree2.set(5, bundleLeafHash(rec2));
    await fails("ticket_winner", winnerInput(c, c.win, rec2, tree2));
    const ok = winnerInput(c, c.win);
    await fails("ticket_winner", { ...ok, beaconBatch: 8n });
    await fails("ticket_winner", { ...ok, commitBatch: 8n, beaconBatch: 8n }); // not the committed record
    await fails("ticket_winner", { ...ok, face: ok.face * 2n, winProb: ok.winProb / 2n }); // same expected value, another ticket
    await fails("ticket_winner", { ...ok, score: [ok.score[1], ok.score[0]] });
    await fails("ticket_winner", { ...ok, beacon: 0n });
    const short = { ...c.rec, count: c.win };
    const tree3 = c.tree.clone();
    tree3.set(5, bundleLeafHash(short));
    if (c.win > 0) await fails("ticket_winner", winnerInput(c, c.win, short, tree3));
  });

  it("TicketPool: takes the inflow, pays the outflow, never below zero, and opens only as the pool", async () => {
    const POOL = POOL_ADDRESS;
    const t = new MerkleTree(2);
    t.set(0, leafHash({ address: 0x7ea5n, balance: 0n, ax: 0n, ay: 0n, nonce: 0n }));
    const z = { ax: 0n, ay: 0n, nonce: 0n };
    const open = { enabled: 1n, poolIdx: 2n, address: 0n, balance: 0n, ...z, siblings: t.siblings(2), inflow: 500n, outflow: 200n, rootIn: t.root };
    const after = t.clone();
    after.set(2, leafHash({ address: POOL, balance: 300n, ...z }));
    expect((await witness("ticket_pool", open))[1]).to.equal(after.root);
    await fails("ticket_pool", { ...open, outflow: 501n });
    // The pool's own leaf pays; another account's leaf cannot stand in for it.
    const pay = { ...open, address: POOL, balance: 300n, siblings: after.siblings(2), rootIn: after.root, inflow: 0n, outflow: 300n };
    await witness("ticket_pool", pay);
    await fails("ticket_pool", { ...pay, outflow: 301n });
    const other = t.clone();
    other.set(2, leafHash({ address: 0xabcn, balance: 300n, ...z }));
    await fails("ticket_pool", { ...pay, address: 0xabcn, siblings: other.siblings(2), rootIn: other.root });
    // Disabled: no flow at all.
    const off = { enabled: 0n, poolIdx: 0n, address: 0x7ea5n, balance: 0n, ...z, siblings: t.siblings(0), inflow: 0n, outflow: 0n, rootIn: t.root };
    expect((await witness("ticket_pool", off))[1]).to.equal(t.root);
    await fails("ticket_pool", { ...off, inflow: 1n });
  });
});

// ---- The model's ticket steps (core/ticket-settlement.ts) drive the templates to the same roots ----

import { RollupState } from "../core/rollup.js";
import { commitTicketBundle, settleWinner, updatePool } from "../core/ticket-settlement.js";
import { expectReject, TREASURY } from "./helpers.js";

describe("ticket settlement: the model's steps and the templates agree, root for root", function () {
  before(initCrypto);
  const settings = { treeDepth: 2 };

  it("commits a bundle, pays two winners in index order, moves the pool, and refuses a loser and a second payment", async () => {
    const s = new RollupState({ ...params, depth: 2 }, TREASURY);
    const prov = await provider(6);
    s.write(1, { address: prov.address, balance: 10n ** 18n, ax: prov.pub.ax, ay: prov.pub.ay, nonce: 2n });
    const bundle: TicketBundle = {
      providerIdx: 1, firstNonce: 2n,
      tickets: Array.from({ length: 9 }, (_, j) => ticketFor({
        providerIdx: 1, owner: 0xb0b0n, fee: 10n ** 12n + BigInt(j), nonce: 2n + BigInt(j), inputHash: BigInt(j), outputHash: 7n,
        entries: [{ contributor: 0xc1n, score: 1n + BigInt(j) }, { contributor: 0xc2n + BigInt(j % 2), score: 2n }],
      }, 1)),
    };
    const signed = await signTicketBundle(prov.key, bundle, params, 2, DOMAIN);

    const commit = await commitTicketBundle(s, signed, settings, DOMAIN, 9);
    expect((await witness("ticket_commit", commit.circuitInput))[1]).to.equal(s.root);
    expect(commit.inflow).to.equal(9n * 10n ** 12n + 36n);
    expect(s.account(1)).to.deep.include({ balance: 10n ** 18n - commit.inflow, nonce: 11n });

    let beacon = 1n;
    while (bundle.tickets.filter((t) => ticketWins(t, K, beacon)).length < 2 || bundle.tickets.every((t) => ticketWins(t, K, beacon))) beacon++;
    const won = bundle.tickets.map((_, j) => j).filter((j) => ticketWins(bundle.tickets[j], K, beacon));
    const lost = bundle.tickets.findIndex((t) => !ticketWins(t, K, beacon));
    expect(() => settleWinner(s.clone(), commit.bundleIdx, bundle, lost, settings, 9, beacon)).to.throw(`ticket ${lost} of bundle ${commit.bundleIdx} did not win`);
    expect(() => settleWinner(s.clone(), commit.bundleIdx, bundle, won[0], settings, 8, beacon)).to.throw("was committed in batch 9; this batch presents the beacon of batch 8");

    let outflow = 0n;
    for (const j of won.slice(0, 2)) {
      const w = settleWinner(s, commit.bundleIdx, bundle, j, settings, 9, beacon);
      const out = await witness("ticket_winner", w.circuitInput);
      expect(out[1]).to.equal(s.root);
      expect(out.slice(10, 13)).to.deep.equal(w.credits.map(([a]) => a));
      expect(out.slice(13, 16)).to.deep.equal(w.credits.map(([, v]) => v));
      expect(out[16]).to.equal(w.outflow);
      const pay = payout(bundle.tickets[j].receipt.fee, bundle.tickets[j].receipt.entries.map((e) => e.score), cfg);
      expect(w.outflow).to.equal(bundle.tickets[j].receipt.fee - pay.protocol);
      outflow += w.outflow;
    }
    expect(s.bundles.get(commit.bundleIdx)!.cursor).to.equal(won[1] + 1);
    expect(() => settleWinner(s.clone(), commit.bundleIdx, bundle, won[0], settings, 9, beacon)).to.throw(`ticket ${won[0]} of bundle ${commit.bundleIdx} is behind its cursor ${won[1] + 1}`);

    const pool = updatePool(s, commit.inflow, outflow);
    expect((await witness("ticket_pool", pool.circuitInput))[1]).to.equal(s.root);
    expect(s.account(pool.poolIdx)).to.deep.include({ address: POOL_ADDRESS, balance: commit.inflow - outflow });
    expect(() => updatePool(s.clone(), 0n, commit.inflow)).to.throw(`the ticket pool holds ${commit.inflow - outflow} base units with this batch's commits; its winners need ${commit.inflow}`);
    // A committed bundle's leaf never becomes an account.
    expect(() => s.write(commit.bundleIdx, { address: 0xdn, balance: 1n, ax: 0n, ay: 0n, nonce: 0n })).to.throw(`leaf ${commit.bundleIdx} holds a committed ticket bundle; it never becomes an account`);
    expect(s.freeLeaf()).to.be.greaterThan(commit.bundleIdx);
  });

  it("refuses to commit a bundle at a used nonce, with another key's signature, or beyond the provider's balance", async () => {
    const s = new RollupState({ ...params, depth: 2 }, TREASURY);
    const prov = await provider(6);
    s.write(1, { address: prov.address, balance: 5n * 10n ** 12n, ax: prov.pub.ax, ay: prov.pub.ay, nonce: 2n });
    const mk = (n: number, firstNonce: bigint): TicketBundle => ({
      providerIdx: 1, firstNonce, tickets: Array.from({ length: n }, (_, j) => ticketFor({ providerIdx: 1, owner: 0xb0b0n, fee: 10n ** 12n, nonce: firstNonce + BigInt(j), inputHash: 1n, outputHash: 2n, entries: [] }, 2)),
    });
    await expectReject(commitTicketBundle(s.clone(), await signTicketBundle(prov.key, mk(2, 1n), params, 2, DOMAIN), settings, DOMAIN, 1), "first nonce 1 does not match provider 1's nonce 2");
    const other = await provider(7);
    await expectReject(commitTicketBundle(s.clone(), await signTicketBundle(other.key, mk(2, 2n), params, 2, DOMAIN), settings, DOMAIN, 1), "the signature does not verify against provider 1's key");
    await expectReject(commitTicketBundle(s.clone(), await signTicketBundle(prov.key, mk(6, 2n), params, 2, DOMAIN), settings, DOMAIN, 1), "its expected value 6000000000000 exceeds provider 1's balance 5000000000000");
  });
});

