// L1 contracts on a real Hardhat chain with real Groth16 proofs of real batches.
import { expect } from "chai";
import type { Contract } from "ethers";
import hre from "hardhat";
import "@nomicfoundation/hardhat-ethers";
import { FIELD_MODULUS } from "../core/field.js";
import { payout } from "../core/payout.js";
import { applyBody } from "../core/replay.js";
import { RollupState, type BatchInput, type BatchResult } from "../core/rollup.js";
import { proveExit } from "../prover/exit.js";
import { proofCalldata } from "../prover/groth16.js";
import { deployRollup, type DeployOptions } from "../ops/deploy.js";
import { artifact } from "../artifacts/contracts.js";
import { readBatches, readQueue, submitBatch } from "../sequencer/l1.js";
import { Operator, type PreparedBatch } from "../sequencer/operator.js";
import { replayL1 } from "../sequencer/validator.js";
import { bundleFor, INSTANCE, OPEN, params, provider, type Provider } from "./helpers.js";

type Signer = Awaited<ReturnType<typeof hre.ethers.getSigners>>[number];

/** A rollup on the in-process Hardhat chain, driven by the Operator, with gas bookkeeping. */
class Harness {
  gas: Record<string, bigint[]> = {};
  constructor(readonly op: Operator, readonly token: Contract, readonly sequencer: Signer) {}

  static async deploy(exitDelay = 1000, more: Partial<DeployOptions> = {}): Promise<Harness> {
    await hre.run("compile", { quiet: true });
    const [deployer, sequencer] = await hre.ethers.getSigners();
    const d = await deployRollup(deployer, { instance: INSTANCE, treasury: await deployer.getAddress(), sequencer: await sequencer.getAddress(), exitDelay, ...more });
    const op = new Operator(INSTANCE, d.rollup.connect(sequencer as never) as Contract, d.genesis, await d.rollup.domain());
    return new Harness(op, d.token, sequencer);
  }

  get rollup(): Contract {
    return this.op.rollup;
  }
  get state(): RollupState {
    return this.op.state;
  }
  get domain(): bigint {
    return this.op.domain;
  }

  as(s: Signer): Contract {
    return this.rollup.connect(s as never) as Contract;
  }

  record(name: string, gas: bigint): void {
    (this.gas[name] ??= []).push(gas);
  }

  async fund(who: Signer, amount: bigint): Promise<void> {
    await (await (this.token.connect((await hre.ethers.getSigners())[0] as never) as Contract).transfer(await who.getAddress(), amount)).wait();
    await (await (this.token.connect(who as never) as Contract).approve(await this.rollup.getAddress(), amount)).wait();
  }

  async deposit(who: Signer, amount: bigint, key?: Provider): Promise<void> {
    await this.fund(who, amount);
    const r = await (await this.as(who).deposit(amount, key?.pub.ax ?? 0n, key?.pub.ay ?? 0n)).wait();
    this.record("deposit", r.gasUsed);
  }

  prove(bundles: BatchInput["bundles"] = []): Promise<PreparedBatch> {
    return this.op.prepare(bundles);
  }

  async commit(b: PreparedBatch): Promise<void> {
    this.record("submitBatch", (await this.op.commit(b)).gasUsed);
  }

  async batch(bundles: BatchInput["bundles"] = []): Promise<BatchResult> {
    const b = await this.prove(bundles);
    await this.commit(b);
    return b.batch;
  }

  /** OPEN held by the contract must equal L2 balances + unclaimed withdrawals + queued deposits. */
  async checkInvariant(exited = new Set<number>()): Promise<void> {
    let l2 = 0n;
    for (const [i, a] of this.state.accounts) if (!exited.has(i)) l2 += a.balance;
    const held = await this.token.balanceOf(await this.rollup.getAddress());
    // Unclaimed withdrawals: every address the state knows can have some.
    let claimable = 0n;
    for (const address of this.state.byAddress.keys()) claimable += await this.rollup.claimable(hre.ethers.getAddress(hre.ethers.toBeHex(address, 20)));
    const pending = await this.rollup.pendingDeposits();
    expect(held).to.equal(l2 + claimable + pending);
    expect(await this.rollup.stateRoot()).to.equal(this.state.root);
  }
}

describe("contracts on a Hardhat chain with real proofs", function () {
  let h: Harness;
  let signers: Signer[];
  let alice: Provider;
  let aliceL1: Signer, c1: Signer, c2: Signer, owner: Signer, stranger: Signer;

  before(async () => {
    h = await Harness.deploy();
    signers = await hre.ethers.getSigners();
    [, , aliceL1, c1, c2, owner, stranger] = signers;
    alice = { ...(await provider(1)), address: BigInt(await aliceL1.getAddress()) };
  });

  after(() => {
    const summary = Object.entries(h.gas).map(([k, v]) => `${k}: ${v.map(String).join(", ")}`);
    console.log(`      gas used: ${summary.join("; ")}`);
  });

  it("accepts a real proof of a deposit batch and stores its root", async () => {
    await h.deposit(aliceL1, 1000n * OPEN, alice);
    expect(await h.rollup.pendingDeposits()).to.equal(1000n * OPEN);
    const b = await h.batch();
    expect(b.decoded.ops).to.deep.equal([{ accountIdx: 1, amount: 1000n * OPEN }]);
    expect(await h.rollup.batchCount()).to.equal(1n);
    expect(await h.rollup.batchRoot(1)).to.equal(b.publicInputs.newRoot);
    expect(await h.rollup.queueHead()).to.equal(1n);
    await h.checkInvariant();
  });

  it("credits contributors exactly what the payout rule gives and lets them withdraw it", async () => {
    const fees = [10001n, 333n];
    const bundle = await bundleFor(h.state, alice, fees.map((fee) => ({ owner: BigInt(owner.address), fee, entries: [{ contributor: BigInt(c1.address), score: 1n }, { contributor: BigInt(c2.address), score: 2n }] })), h.domain);
    await h.batch([bundle]);
    const p = fees.map((f) => payout(f, [1n, 2n], params));
    const c1Idx = h.state.indexOf(BigInt(await c1.getAddress()))!;
    const expected = p[0].shares[0] + p[1].shares[0];
    expect(h.state.account(c1Idx).balance).to.equal(expected);
    await h.checkInvariant();

    const r = await (await h.as(c1).requestWithdrawal(c1Idx)).wait();
    h.record("requestWithdrawal", r.gasUsed);
    const w = await h.batch();
    expect(w.withdrawals).to.deep.equal([{ address: BigInt(await c1.getAddress()), amount: expected }]);
    expect(await h.rollup.claimable(await c1.getAddress())).to.equal(expected);
    await h.checkInvariant();

    const before = await h.token.balanceOf(await c1.getAddress());
    const claim = await (await h.as(stranger).claim(await c1.getAddress())).wait();
    h.record("claim", claim.gasUsed);
    expect((await h.token.balanceOf(await c1.getAddress())) - before).to.equal(expected);
    await reverts(h.as(c1).claim(await c1.getAddress()), "NothingToClaim");
    await h.checkInvariant();
  });

  it("refuses bad input with a named error", async () => {
    const FIELD = FIELD_MODULUS;
    await h.fund(stranger, 10n);
    await reverts(h.as(stranger).deposit(0, 0n, 0n), "ZeroAmount");
    await reverts(h.as(stranger).deposit(1, FIELD, 0n), "KeyNotInField");
    await reverts(h.as(stranger).deposit(1, 0n, FIELD), "KeyNotInField");
    await reverts(h.as(stranger).requestWithdrawal(4 ** params.depth), "AccountIndexOutOfRange");
    await reverts(h.as(h.sequencer).submitBatch(FIELD, 0, 0n, new Uint8Array(Number(await h.rollup.bodyLength())), Array(8).fill(0n)), "RootNotInField");
    await reverts(h.as(stranger).exit(1, stranger.address, 0n, Array(8).fill(0n)), "NotInExitMode");
    await reverts(h.as(stranger).refundDeposit(0), "NotInExitMode");
    await reverts(h.as(stranger).activateExitMode(), "NoOverdueOperation");
    expect(await h.rollup.treasury()).to.equal(signers[0].address);
  });

  it("rejects tampered proofs, tampered public data and callers without the sequencer role", async () => {
    const bundle = await bundleFor(h.state, alice, [{ owner: BigInt(await owner.getAddress()), fee: 50n, entries: [{ contributor: BigInt(await c2.getAddress()), score: 1n }] }], h.domain);
    const good = await h.prove([bundle]);
    const seq = h.as(h.sequencer);
    const proof = proofCalldata(good.proved.proof);
    const { newRoot } = good.batch.publicInputs;
    const body = Uint8Array.from(good.batch.body);
    const badProof = [...proof];
    badProof[0] = (badProof[0] + 1n) % (1n << 254n);
    await reverts(seq.submitBatch(newRoot, 0, 0n, body, badProof), "");
    const swapped = [...proof];
    [swapped[6], swapped[0]] = [proof[0], proof[6]];
    await reverts(seq.submitBatch(newRoot, 0, 0n, body, swapped), "");
    const tampered = Uint8Array.from(body);
    tampered[tampered.length - 1] ^= 1; // the last slot's delta
    await reverts(seq.submitBatch(newRoot, 0, 0n, tampered, proof), "InvalidProof");
    await reverts(seq.submitBatch(newRoot + 1n, 0, 0n, body, proof), "InvalidProof");
    await reverts(seq.submitBatch(newRoot, 0, 0n, body.slice(1), proof), "BodyLengthMismatch");
    await reverts(seq.submitBatch(newRoot, 1, 0n, body, proof), "TooManyQueueOps");
    await reverts(h.as(stranger).submitBatch(newRoot, 0, 0n, body, proof), "AccessControlUnauthorizedAccount");
    await h.commit(good);
    // The same batch again: its old root is no longer the contract's root.
    await reverts(seq.submitBatch(newRoot, 0, 0n, body, proof), "InvalidProof");
    await h.checkInvariant();
  });
});

/** Expects a transaction to revert with the named custom error ("" for a verifier failure without one). */
async function reverts(p: Promise<unknown>, error: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(String(e instanceof Error ? e.message : e)).to.contain(error);
    return;
  }
  expect.fail(`expected a revert${error ? ` with ${error}` : ""}`);
}

describe("forced exit when the sequencer ignores the queue", function () {
  let h: Harness;
  let alice: Provider;
  let aliceL1: Signer, c1: Signer, late: Signer, stranger: Signer;

  before(async () => {
    h = await Harness.deploy(5);
    [, , aliceL1, c1, , , stranger, late] = await hre.ethers.getSigners();
    alice = { ...(await provider(1)), address: BigInt(aliceL1.address) };
    await h.deposit(aliceL1, 100n * OPEN, alice);
    await h.batch();
    await h.batch([await bundleFor(h.state, alice, [{ owner: BigInt(stranger.address), fee: 7n * OPEN, entries: [{ contributor: BigInt(c1.address), score: 1n }] }], h.domain)]);
  });

  it("stops batches once the oldest queued operation is overdue, then lets every account exit", async () => {
    await h.deposit(late, 3n * OPEN);
    const pending = await h.prove();
    expect(await h.rollup.overdue()).to.equal(false);
    await reverts(h.as(stranger).activateExitMode(), "NoOverdueOperation");
    // Past the deposit's due block: exitDelay from its block, or blocksPerBatch after the operation ahead of it (PROTOCOL §4).
    const due = (await h.rollup.queuedOps(await h.rollup.queueHead())).dueBlock as bigint;
    await hre.network.provider.send("hardhat_mine", [`0x${(due + 1n - BigInt(await hre.ethers.provider.getBlockNumber())).toString(16)}`]);
    expect(await h.rollup.overdue()).to.equal(true);
    await reverts(submitBatch(h.as(h.sequencer), pending.batch, pending.proved), "BatchesStopped");
    await (await h.as(stranger).activateExitMode()).wait();
    await reverts(h.as(late).deposit(1n, 0n, 0n), "BatchesStopped");

    // Each account proves its leaf from the state rebuilt from L1 data alone (what `poa exit` does).
    const { state: fromL1, rootChainValid } = await replayL1(h.rollup, INSTANCE);
    expect(rootChainValid).to.equal(true);
    expect(fromL1.root).to.equal(h.state.root);
    const exited = new Set<number>();
    for (const who of [aliceL1, c1]) {
      const idx = fromL1.indexOf(BigInt(who.address))!;
      const x = await proveExit(INSTANCE, fromL1, idx);
      expect(x.address).to.equal(BigInt(who.address));
      const balance = x.balance;
      // The proof binds the root, the leaf index, the address paid and the balance paid.
      await reverts(h.as(stranger).exit(idx, who.address, balance + 1n, x.calldata), "InvalidExitProof");
      await reverts(h.as(stranger).exit(idx, stranger.address, balance, x.calldata), "InvalidExitProof");
      await reverts(h.as(stranger).exit(idx + 1, who.address, balance, x.calldata), "InvalidExitProof");
      const forged = [...x.calldata];
      forged[0] = (forged[0] + 1n) % FIELD_MODULUS;
      await reverts(h.as(stranger).exit(idx, who.address, balance, forged), "InvalidExitProof");
      // balance + r would pass the proof's field arithmetic if the contract did not bound it.
      await reverts(h.as(stranger).exit(idx, who.address, balance + FIELD_MODULUS, x.calldata), "LeafFieldOutOfRange");
      await reverts(h.as(stranger).exit(idx, hre.ethers.ZeroAddress, balance, x.calldata), "LeafFieldOutOfRange");
      await reverts(h.as(stranger).exit(4 ** params.depth, who.address, balance, x.calldata), "AccountIndexOutOfRange");
      const before = await h.token.balanceOf(who.address);
      const r = await (await h.as(stranger).exit(idx, who.address, balance, x.calldata)).wait();
      h.record("exit", r.gasUsed);
      expect((await h.token.balanceOf(who.address)) - before).to.equal(balance);
      await reverts(h.as(stranger).exit(idx, who.address, balance, x.calldata), "AlreadyExited");
      exited.add(idx);
      await h.checkInvariant(exited);
    }
    const queueIndex = Number(await h.rollup.queueHead());
    const before = await h.token.balanceOf(late.address);
    await (await h.as(stranger).refundDeposit(queueIndex)).wait();
    expect((await h.token.balanceOf(late.address)) - before).to.equal(3n * OPEN);
    await reverts(h.as(stranger).refundDeposit(queueIndex), "NotRefundable");
    await h.checkInvariant(exited);
    console.log(`      gas used: exit (depth ${params.depth}): ${h.gas.exit.map(String).join(", ")}`);
  });
});

describe("escrow invariant over a random sequence of operations", function () {
  it("holds after every step: OPEN held = L2 balances + unclaimed withdrawals + queued deposits", async () => {
    const h = await Harness.deploy();
    const s = await hre.ethers.getSigners();
    const providers = [s[2], s[3]];
    const keys = await Promise.all(providers.map(async (p, i) => ({ ...(await provider(i + 1)), address: BigInt(p.address) })));
    const people = s.slice(4, 8);
    let seed = Number(process.env.INVARIANT_SEED ?? 20261125);
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed >>> 8) % n;
    };
    console.log(`      seed ${process.env.INVARIANT_SEED ?? 20261125}`);
    for (const [i, p] of providers.entries()) await h.deposit(p, 50n * OPEN, keys[i]);
    await h.checkInvariant();
    let batches = 0;
    for (let step = 0; step < 14 && batches < 6; step++) {
      const choice = rand(4);
      if (choice === 0) {
        await h.deposit(people[rand(people.length)], BigInt(1 + rand(1000)) * 10n ** 15n);
      } else if (choice === 1) {
        const who = people[rand(people.length)];
        const idx = h.state.indexOf(BigInt(who.address));
        if (idx !== undefined) await (await h.as(who).requestWithdrawal(idx)).wait();
      } else if (choice === 2) {
        for (const p of people) {
          if ((await h.rollup.claimable(p.address)) === 0n) continue;
          await (await h.as(p).claim(p.address)).wait();
          break;
        }
      } else {
        const k = rand(2);
        const idx = h.state.indexOf(keys[k].address);
        const bundles = idx === undefined ? [] : [await bundleFor(h.state, keys[k], [{ owner: BigInt(people[0].address), fee: BigInt(rand(10 ** 6)) * 10n ** 9n, entries: [{ contributor: BigInt(people[1 + rand(3)].address), score: BigInt(rand(100)) }] }], h.domain)];
        await h.batch(bundles);
        batches++;
      }
      await h.checkInvariant();
    }
    expect(batches).to.be.greaterThan(0);

    // A validator rebuilds every root from L1 data alone: events and calldata.
    let rebuilt = new RollupState(params, BigInt(await h.rollup.treasury()));
    expect(rebuilt.root).to.equal(await h.rollup.batchRoot(0));
    const posted = await readBatches(h.rollup);
    expect(posted.length).to.equal(batches);
    for (const b of posted) {
      rebuilt = applyBody(rebuilt, b.body, await readQueue(h.rollup, b.firstOp, b.firstOp + b.opsConsumed));
      expect(rebuilt.root).to.equal(b.newRoot);
      expect(rebuilt.root).to.equal(await h.rollup.batchRoot(b.batchNumber));
    }
    expect(rebuilt.root).to.equal(h.state.root);
    expect(rebuilt.queueHash).to.equal(h.state.queueHash);
  });
});

describe("liveness rules on L1: no outsider can make an honest sequencer late", function () {
  const NQ = params.queueOps;

  it("spreads the due blocks of a burst of withdrawal requests over the batches it needs", async () => {
    // The review's reproduction: 150 requests in one block, exitDelay 100, NQ 1.
    const h = await Harness.deploy(100, { blocksPerBatch: 1 });
    const s = await hre.ethers.getSigners();
    const spammer = s[9];
    await hre.network.provider.send("evm_setBlockGasLimit", ["0x" + (60_000_000).toString(16)]); // 150 requests fit one block
    await hre.network.provider.send("evm_setAutomine", [false]);
    try {
      for (let i = 0; i < 150; i++) await h.as(spammer).requestWithdrawal(i % 32, { gasLimit: 400_000 });
      await hre.network.provider.send("evm_mine", []);
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }
    const block = BigInt(await hre.ethers.provider.getBlockNumber());
    expect(await h.rollup.queueLength()).to.equal(150n);
    for (const k of [0, 1, 2, 99, 149]) {
      // Op k may be consumed as late as the block in which a sequencer at one batch of NQ per block reaches it.
      expect((await h.rollup.queuedOps(k)).dueBlock, `op ${k}`).to.equal(block + 100n + BigInt(Math.floor(k / NQ)));
    }
    // Under the old rule (every op due at block + 100) the queue was overdue after 97 batches;
    // now, 100 blocks on, nothing is overdue yet, while a stopped sequencer is overdue one block later.
    await hre.network.provider.send("hardhat_mine", ["0x63"]); // to block + 99
    expect(await h.rollup.overdue()).to.equal(false);
    await reverts(h.as(spammer).activateExitMode(), "NoOverdueOperation");
    await hre.network.provider.send("hardhat_mine", ["0x2"]);
    expect(await h.rollup.overdue()).to.equal(true);
  });

  it("keeps a sequencer at its nominal pace clear of exit mode through a burst, and still lets a stopped one be exited", async () => {
    const blocksPerBatch = 2;
    const h = await Harness.deploy(10, { blocksPerBatch });
    const s = await hre.ethers.getSigners();
    const [spammer, honest] = [s[9], s[10]];
    await hre.network.provider.send("evm_setAutomine", [false]);
    try {
      for (let i = 0; i < 6; i++) await h.as(spammer).requestWithdrawal(i + 1, { gasLimit: 400_000 });
      await hre.network.provider.send("evm_mine", []);
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }
    await h.deposit(honest, 5n * OPEN); // queued behind the burst
    // One batch (NQ ops) every blocksPerBatch blocks: the submitBatch block plus one more.
    while (Number(await h.rollup.queueHead()) < 7) {
      const b = await h.prove();
      expect(await h.rollup.overdue()).to.equal(false);
      await h.commit(b);
      await hre.network.provider.send("hardhat_mine", [`0x${(blocksPerBatch - 1).toString(16)}`]);
      await reverts(h.as(spammer).activateExitMode(), "NoOverdueOperation");
    }
    expect(h.state.account(h.state.indexOf(BigInt(honest.address))!).balance).to.equal(5n * OPEN);
    await h.checkInvariant();

    // A sequencer that stops: the next operation's deadline passes and anyone may begin exit mode.
    await (await h.as(spammer).requestWithdrawal(1)).wait();
    const due = (await h.rollup.queuedOps(7)).dueBlock;
    await hre.network.provider.send("hardhat_mine", [`0x${(due + 1n - BigInt(await hre.ethers.provider.getBlockNumber())).toString(16)}`]);
    expect(await h.rollup.overdue()).to.equal(true);
    await (await h.as(spammer).activateExitMode()).wait();
    expect(await h.rollup.exitMode()).to.equal(true);
  });

  it("admits at most maxDepositors distinct depositors, so a deposit always finds a leaf", async () => {
    const h = await Harness.deploy(1000, { maxDepositors: 2 });
    const s = await hre.ethers.getSigners();
    await h.deposit(s[2], OPEN);
    await h.deposit(s[3], OPEN);
    await h.deposit(s[2], OPEN); // a depositor again: no new leaf
    await h.deposit(s[0], OPEN); // the treasury owns leaf 0 already
    await h.fund(s[4], OPEN);
    await reverts(h.as(s[4]).deposit(OPEN, 0n, 0n), "DepositorLimitReached(2)");
    expect(await h.rollup.depositorCount()).to.equal(2n);
    expect(await h.rollup.maxDepositors()).to.equal(2n);
  });

  it("refuses a zero treasury and impossible liveness settings at deployment", async () => {
    const h = await Harness.deploy();
    const [deployer] = await hre.ethers.getSigners();
    const r = artifact("AttributionRollup");
    const factory = new hre.ethers.ContractFactory(r.abi as never, r.bytecode, deployer);
    const hashers = await Promise.all([h.rollup.poseidon2(), h.rollup.poseidon4(), h.rollup.poseidon5(), h.rollup.poseidon6()]);
    const exitVerifier = await h.rollup.exitVerifier();
    const shape = { depth: params.depth, queueOps: NQ, bundles: params.bundles, slots: params.slots, newAccounts: params.newAccounts, ticketCommits: params.ticketCommits ?? 0, winners: params.winners ?? 0 };
    const args = (treasury: string, liveness: object, s: object = shape) => [h.token.getAddress(), h.rollup.verifier(), exitVerifier, hashers, s, treasury, liveness, deployer.address, deployer.address];
    const ok = { exitDelay: 10, blocksPerBatch: 1, maxDepositors: 4 };
    await reverts(factory.deploy(...(await Promise.all(args(hre.ethers.ZeroAddress, ok)))), "ZeroTreasury");
    for (const bad of [{ ...ok, exitDelay: 0 }, { ...ok, blocksPerBatch: 0 }, { ...ok, maxDepositors: 4 ** params.depth }]) {
      await reverts(factory.deploy(...(await Promise.all(args(deployer.address, bad)))), "InvalidLiveness");
    }
    for (const bad of [{ ...shape, depth: 0 }, { ...shape, depth: 17 }, { ...shape, newAccounts: params.slots }]) {
      await reverts(factory.deploy(...(await Promise.all(args(deployer.address, ok, bad)))), "InvalidLiveness");
    }
    const fine = await factory.deploy(...(await Promise.all(args(deployer.address, ok))));
    expect(await (fine as unknown as Contract).maxDepositors()).to.equal(4n);
  });
});
