// Payment tickets on L1 (docs/PROTOCOL.md §16.5): a real Hardhat chain, real
// Groth16 proofs of the test instance (which has ticket steps) and the
// contract's beacon. A bundle committed beside an exact receipt, its beacon
// recorded only in a later block, winners paid at face value by the payout
// rule under that beacon and withdrawn on L1 to the unit; the sequencer cannot
// use a beacon it guessed, another batch's beacon, or a beacon from the commit's
// own block; a validator rebuilds and checks it all from L1 data.
import { expect } from "chai";
import type { Contract } from "ethers";
import hre from "hardhat";
import "@nomicfoundation/hardhat-ethers";
import { ticketShape } from "../core/params.js";
import { payout } from "../core/payout.js";
import { buildBatch } from "../core/rollup.js";
import { POOL_ADDRESS, winners, type SignedTicketBundle } from "../core/ticket.js";
import { deployRollup } from "../ops/deploy.js";
import { proofCalldata } from "../prover/groth16.js";
import { readBatches, submitArgs } from "../sequencer/l1.js";
import { Operator, type PreparedBatch } from "../sequencer/operator.js";
import { replayL1, verifyBatch } from "../sequencer/validator.js";
import { bundleFor, expectReject, INSTANCE, OPEN, params, provider, ticketBundleFor, type Provider } from "./helpers.js";

type Signer = Awaited<ReturnType<typeof hre.ethers.getSigners>>[number];
const K = params.entries;
const FEE = 10n ** 15n; // 0.001 OPEN per answer: face 0.004 OPEN at p = 1/4
const BEACON_SHIFT = 3n;

/** A 32-byte prevrandao whose beacon (>> 3) makes `count` of the bundle's first tickets win, at least one losing. */
function prevrandaoFor(b: SignedTicketBundle, count: number): { prevrandao: bigint; beacon: bigint; wins: number[] } {
  for (let seed = 1n; ; seed++) {
    const prevrandao = (seed * 0x9e3779b97f4a7c15f39cc0605cedc834n) % 2n ** 256n;
    const beacon = prevrandao >> BEACON_SHIFT;
    const wins = winners(b, K, beacon);
    if (wins.length === count) return { prevrandao, beacon, wins };
  }
}

const setPrevRandao = (v: bigint) => hre.network.provider.send("hardhat_setPrevRandao", [`0x${v.toString(16).padStart(64, "0")}`]);

describe("tickets on L1: the beacon, nine public inputs, winners paid and withdrawn (real chain, real proofs)", function () {
  this.timeout(900_000);
  let op: Operator;
  let token: Contract;
  let deployer: Signer, seqSigner: Signer, provL1: Signer, c1: Signer, c2: Signer, owner: Signer;
  let prov: Provider;
  let tickets: SignedTicketBundle;
  let chosen: ReturnType<typeof prevrandaoFor>;
  const addr = async (s: Signer) => BigInt(await s.getAddress());

  before(async () => {
    expect(ticketShape(params).enabled, "the test instance has ticket steps").to.equal(true);
    await hre.run("compile", { quiet: true });
    [deployer, seqSigner, provL1, c1, c2, owner] = await hre.ethers.getSigners();
    const d = await deployRollup(deployer, { instance: INSTANCE, treasury: await deployer.getAddress(), sequencer: await seqSigner.getAddress(), exitDelay: 1000 });
    op = new Operator(INSTANCE, d.rollup.connect(seqSigner as never) as Contract, d.genesis, await d.rollup.domain());
    token = d.token;
    prov = { ...(await provider(41)), address: await addr(provL1) };
    await (await (token.connect(deployer as never) as Contract).transfer(await provL1.getAddress(), 10n * OPEN)).wait();
    await (await (token.connect(provL1 as never) as Contract).approve(await d.rollup.getAddress(), 10n * OPEN)).wait();
    await (await (d.rollup.connect(provL1 as never) as Contract).deposit(10n * OPEN, prov.pub.ax, prov.pub.ay)).wait();
    await op.next(); // batch 1 (0-based 0): the deposit, no tickets
    expect(await op.rollup.publicInputCount()).to.equal(9n);
  });

  it("records a beacon only in a block after the commit, and only for a batch that committed tickets", async () => {
    const rollup = op.rollup;
    // Batch 2 (0-based 1): one exact receipt and a bundle of 16 tickets at p = 1/4, in one batch.
    const c1Addr = await addr(c1), c2Addr = await addr(c2), ownerAddr = await addr(owner);
    const spec = (j: number) => ({ owner: ownerAddr, fee: FEE, entries: [{ contributor: j % 2 ? c2Addr : c1Addr, score: 1n + BigInt(j % 3) }, { contributor: c1Addr, score: 2n }] });
    const exact = await bundleFor(op.state, prov, [{ owner: ownerAddr, fee: FEE, entries: [{ contributor: c1Addr, score: 1n }] }], op.domain);
    // The tickets' nonces follow the exact receipt's, which the batch applies first.
    const afterExact = (await buildBatch(op.state, { ops: [], bundles: [exact], tickets: { batchNumber: 1, commits: [], beaconBatch: 0, beacon: 0n, winners: [] } }, op.domain)).state;
    tickets = await ticketBundleFor(afterExact, prov, Array.from({ length: 16 }, (_, j) => spec(j)), 2, op.domain);
    chosen = prevrandaoFor(tickets, 2);
    const commit = await op.prepare([exact], { commits: [tickets] });
    const rootSum = commit.batch.decoded.commits![0].rootSum;
    expect(rootSum).to.equal(16n * FEE); // each ticket is worth its fee in expectation, to the unit
    expect(commit.batch.decoded.pool!.inflow).to.equal(rootSum);

    // The commit and a recordBeacon in the same block: the beacon is not due yet (threat 1: nobody sees it before the root is stored).
    await hre.network.provider.send("evm_setAutomine", [false]);
    try {
      const sent = await rollup.submitBatch(...submitArgs(commit.batch.publicInputs.newRoot, 0, 0n, commit.batch.body, proofCalldata(commit.proved.proof)), { gasLimit: 3_000_000 });
      const early = await rollup.recordBeacon(1, { gasLimit: 300_000 });
      await hre.network.provider.send("evm_mine", []);
      const [a, b] = await Promise.all([hre.ethers.provider.getTransactionReceipt(sent.hash), hre.ethers.provider.getTransactionReceipt(early.hash)]);
      expect([a!.status, b!.status, a!.blockNumber === b!.blockNumber]).to.deep.equal([1, 0, true]);
      const log = a!.logs.map((l) => rollup.interface.parseLog(l)).find((e) => e?.name === "TicketsCommitted");
      expect([log!.args[0], log!.args[1]]).to.deep.equal([1n, BigInt(a!.blockNumber)]);
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }
    op.state = commit.batch.state;
    expect(await rollup.beacon(1)).to.equal(0n);
    // Batch 0-based 0 committed no tickets: it never gets a beacon.
    await expectReject(rollup.recordBeacon(0), "BeaconNotDue");
  });

  it("refuses winners proved under a guessed beacon, then under another batch's number", async () => {
    const rollup = op.rollup;
    // The sequencer proves the winners under the beacon it hopes the next block will have; the block's prevrandao differs.
    const guessed = await op.prepare([], { beaconBatch: 1, beacon: chosen.beacon, winners: chosen.wins.map((index) => ({ bundleIdx: leafOfBundle(), index, tickets })) });
    await setPrevRandao(chosen.prevrandao + 8n); // another beacon (the low 3 bits are dropped)
    await expectReject(op.commit(guessed), "InvalidProof");
    expect(await rollup.beacon(1)).to.equal(0n); // the reverted submission recorded nothing
    // Recorded in a later block, by anyone.
    await setPrevRandao(chosen.prevrandao);
    const rec = await (await (rollup.connect(c2 as never) as Contract).recordBeacon(1)).wait();
    const ev = rec!.logs.map((l: never) => rollup.interface.parseLog(l)).find((e: { name: string } | null) => e?.name === "BeaconRecorded");
    expect([ev!.args[0], ev!.args[1]]).to.deep.equal([1n, chosen.beacon]);
    expect(await rollup.beacon(1)).to.equal(chosen.beacon);
    // The right proof, sent with another beaconBatch, refers to beacon[0] = 0: refused.
    const right = await op.prepare([], { beaconBatch: 1, beacon: chosen.beacon, winners: chosen.wins.map((index) => ({ bundleIdx: leafOfBundle(), index, tickets })) });
    await expectReject(rollup.submitBatch(...submitArgs(right.batch.publicInputs.newRoot, 0, 0n, right.batch.body, proofCalldata(right.proved.proof))), "InvalidProof");
    winnersBatch = right;
  });

  let winnersBatch: PreparedBatch;
  const leafOfBundle = () => [...op.state.bundles.keys()][0];

  it("pays exactly the winners at face value by the payout rule from the pool, and they withdraw it on L1 to the unit", async () => {
    const rollup = op.rollup;
    const before = new Map(await Promise.all([c1, c2, owner].map(async (s) => [await addr(s), op.state.account(op.state.indexOf(await addr(s))!).balance] as [bigint, bigint])));
    const poolBefore = op.state.account(op.state.indexOf(POOL_ADDRESS)!).balance;
    await op.commit(winnersBatch);
    // Every credit from the winners' receipts at face value; losers moved nothing.
    const expected = new Map(before);
    let outflow = 0n;
    for (const j of chosen.wins) {
      const r = tickets.tickets[j].receipt;
      const pay = payout(r.fee, [...r.entries.map((e) => e.score)], params);
      r.entries.forEach((e, i) => expected.set(e.contributor, expected.get(e.contributor)! + pay.shares[i]));
      expected.set(r.owner, expected.get(r.owner)! + pay.ownerTotal);
      outflow += r.fee - pay.protocol;
    }
    for (const [a, v] of expected) expect(op.state.account(op.state.indexOf(a)!).balance, `balance of ${a.toString(16)}`).to.equal(v);
    const poolIdx = op.state.indexOf(POOL_ADDRESS)!;
    expect(op.state.account(poolIdx).balance).to.equal(poolBefore - outflow);
    expect(winnersBatch.batch.decoded.pool).to.deep.equal({ poolIdx, inflow: 0n, outflow });
    expect(op.state.bundles.get(leafOfBundle())!.cursor).to.equal(chosen.wins[1] + 1);

    // c1 withdraws everything it earned (the exact receipt's share and the winners') on L1.
    const c1Leaf = op.state.indexOf(await addr(c1))!;
    const earned = op.state.account(c1Leaf).balance;
    await (await (rollup.connect(c1 as never) as Contract).requestWithdrawal(c1Leaf)).wait();
    await op.next();
    const l1Before = await token.balanceOf(await c1.getAddress());
    await (await (rollup.connect(c1 as never) as Contract).claim(await c1.getAddress())).wait();
    expect((await token.balanceOf(await c1.getAddress())) - l1Before).to.equal(earned);
  });

  it("lets a validator rebuild every root and check the winners' proof from L1 data alone", async () => {
    const { state, rootChainValid } = await replayL1(op.rollup, INSTANCE);
    expect(rootChainValid).to.equal(true);
    expect(state.root).to.equal(op.state.root);
    const batches = await readBatches(op.rollup);
    expect(batches.map((b) => b.beaconBatch)).to.deep.equal([0, 0, 1, 0]);
    expect((await verifyBatch(op.rollup, INSTANCE, 3)).proofValid).to.equal(true);
    expect((await verifyBatch(op.rollup, INSTANCE, 2)).proofValid).to.equal(true);
  });
});
