// The L1 reader under reorganizations, on a real Hardhat node: evm_snapshot and
// evm_revert build a competing chain. With a confirmation depth of 3, a deposit
// that the reorganization removes, and a queue that it reorders, are never
// batched as first seen; the batch follows the chain that won. A reorganization
// deeper than the depth (the block at the reader's persisted cursor changed) is
// detected, alerted, and the queue read again.
import { expect } from "chai";
import { Contract, type Wallet } from "ethers";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { applyBody } from "../core/replay.js";
import { RollupState } from "../core/rollup.js";
import { startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { deployRollup, type Deployment } from "../ops/deploy.js";
import { readBatches, readQueue } from "../sequencer/l1.js";
import { startService, type Service } from "../sequencer/service.js";
import { INSTANCE, OPEN, params, privateKey } from "./helpers.js";
import { http, waitFor } from "./lib/http.js";

describe("L1 reader: confirmations, a persisted cursor and reorganizations (Hardhat snapshot/revert)", function () {
  const CONFIRMATIONS = 3;
  let chain: LocalChain;
  let d: Deployment;
  let svc: Service;
  let deployer: Wallet, alice: Wallet, bob: Wallet, carol: Wallet;

  const rpc = (method: string, params: unknown[] = []) => chain.provider.send(method, params);
  const mine = async (n: number) => {
    for (let i = 0; i < n; i++) await rpc("evm_mine");
  };
  const settle = () => new Promise((r) => setTimeout(r, 1500)); // several sequencer ticks (100 ms each)
  const indexOf = async (w: Wallet) => (await http(svc.url, "GET", `/v1/accounts/${w.address}`)).json.index as number | undefined;

  async function fund(w: Wallet, amount: bigint): Promise<void> {
    await (await (d.token.connect(deployer) as Contract).transfer(w.address, amount)).wait();
    await (await (d.token.connect(w) as Contract).approve(await d.rollup.getAddress(), amount)).wait();
  }
  async function deposit(w: Wallet, seed: number, amount: bigint): Promise<void> {
    const pub = await publicKeyOf(privateKey(seed));
    await (await (d.rollup.connect(w) as Contract).deposit(amount, pub.ax, pub.ay)).wait();
  }

  before(async () => {
    await initCrypto();
    chain = await startLocalChain(15545 + (process.pid % 1000));
    [deployer, alice, bob, carol] = [0, 2, 3, 5].map((i) => devWallet(i, chain.provider));
    d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address });
    for (const w of [alice, bob, carol]) await fund(w, 10n * OPEN);
    svc = await startService({
      rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-reorg-")), "sequencer.db"), port: 0, maxWaitMs: 100, pollMs: 100, proverThreads: 1,
      confirmations: CONFIRMATIONS,
    });
  });

  after(async () => {
    await svc?.close();
    await chain?.stop();
  });

  it("never batches a deposit until it is 3 blocks deep, so a reorganization that removes it and reorders the queue leaves no trace", async () => {
    const snapshot = await rpc("evm_snapshot");
    await deposit(alice, 1, OPEN); // queue index 0 on this branch
    await mine(CONFIRMATIONS - 1); // 2 blocks on top: not yet confirmed
    await settle();
    expect(await svc.sequencer.store.l1OpCount()).to.equal(0);
    expect(await indexOf(alice)).to.equal(undefined);

    // The competing branch: bob's deposit takes index 0, alice's comes after it.
    expect(await rpc("evm_revert", [snapshot])).to.equal(true);
    await deposit(bob, 2, 2n * OPEN);
    await deposit(alice, 1, OPEN);
    await mine(CONFIRMATIONS);
    const [b, a] = [await waitFor("bob's account", () => indexOf(bob)), await waitFor("alice's account", () => indexOf(alice))];
    expect([b, a]).to.deep.equal([1, 2]); // leaf 0 is the treasury; bob deposited first on the chain that won
    const ops = await svc.sequencer.store.l1Ops(0, 5);
    expect(ops.map((o) => [o.address, o.amount])).to.deep.equal([[BigInt(bob.address), 2n * OPEN], [BigInt(alice.address), OPEN]]);
    const cursor = (await svc.sequencer.store.l1Cursor())!;
    expect(cursor.hash).to.equal((await chain.provider.getBlock(cursor.block))!.hash);
    expect(cursor.block).to.be.at.most((await chain.provider.getBlockNumber()) - CONFIRMATIONS);
  });

  it("settles on L1 exactly the queue of the winning chain", async () => {
    await waitFor("both deposits final on L1", async () => Number(await d.rollup.batchCount()) >= 2 && (await svc.sequencer.store.firstBatchIn("sealed", "proving", "proved", "submitted", "failed")) === undefined);
    const onChain = BigInt(await d.rollup.stateRoot());
    let s = new RollupState(params, BigInt(await d.rollup.treasury()));
    for (const batch of await readBatches(d.rollup)) s = applyBody(s, batch.body, await readQueue(d.rollup, batch.firstOp, batch.firstOp + batch.opsConsumed));
    expect(s.root).to.equal(onChain);
    expect(s.account(1).balance).to.equal(2n * OPEN);
    expect(s.account(2).balance).to.equal(OPEN);
  });

  it("detects a reorganization deeper than the confirmation depth at its cursor, alerts, and reads the queue again", async () => {
    const snapshot = await rpc("evm_snapshot");
    await mine(CONFIRMATIONS + 3);
    await settle();
    const before = (await svc.sequencer.store.l1Cursor())!;
    expect(await rpc("evm_revert", [snapshot])).to.equal(true);
    await deposit(carol, 3, 3n * OPEN);
    await mine(CONFIRMATIONS + 3); // the same heights again, other blocks
    expect((await chain.provider.getBlock(before.block))!.hash).to.not.equal(before.hash);
    const alert = await waitFor("the deep-reorg alert", async () => [...svc.sequencer.alerts.keys()].find((k) => k.startsWith("L1 reorganized deeper than 3 confirmations")));
    expect(alert).to.match(new RegExp(`^L1 reorganized deeper than 3 confirmations: block ${before.block} is no longer ${before.hash.slice(0, 10)}…; the queue is read again from block \\d+$`));
    expect(await waitFor("carol's account", () => indexOf(carol))).to.equal(3);
    const after = (await svc.sequencer.store.l1Cursor())!;
    expect(after.hash).to.equal((await chain.provider.getBlock(after.block))!.hash);
    expect(await svc.sequencer.store.l1OpCount()).to.equal(3);
  });
});
