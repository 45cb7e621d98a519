// Liveness under floods (issue 22), on the real stack: a Hardhat node mining a block a second,
// the sequencer service over HTTP, real Groth16 proofs. A provider with a tiny balance floods
// cheap bundles while honest providers pay real fees and a withdrawal is requested on L1: the
// flood is capped per provider, sealing is fair across providers and never runs ahead of the
// prover, and the withdrawal is consumed before its due block (docs/PROTOCOL.md §8, §12).
import { expect } from "chai";
import { Contract, Wallet } from "ethers";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { signBundle, type Receipt } from "../core/receipt.js";
import { calculateWitness, WITNESS_FAILED } from "../prover/groth16.js";
import { ProverPool, type Prover, type ProverResult } from "../prover/pool.js";
import { startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { deployRollup, type Deployment } from "../ops/deploy.js";
import { bundleToJson } from "../sequencer/schemas.js";
import { DEFAULT_ADMISSION } from "../sequencer/sequencer.js";
import { startService, type Service } from "../sequencer/service.js";
import { INSTANCE, OPEN, params, privateKey } from "./helpers.js";
import { http, waitFor } from "./lib/http.js";

const MIN_FEE = DEFAULT_ADMISSION.minFee;
const fresh = () => BigInt(Wallet.createRandom().address);

/** One chain, one deployment, one service per suite; providers deposit with their Baby Jubjub keys. */
async function world(port: number, prover?: Prover, admission = {}) {
  await initCrypto();
  const chain = await startLocalChain(port);
  const [deployer, , alice, bob, mallory, owner, c1, outsider] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => devWallet(i, chain.provider));
  const d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address, exitDelay: 90, blocksPerBatch: 2 });
  const svc = await startService({
    rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
    dbFile: join(mkdtempSync(join(tmpdir(), "poa-flood-")), "sequencer.db"), port: 0, maxWaitMs: 200, pollMs: 100, proverThreads: 1, admission,
  }, prover);
  const api = (method: string, path: string, body?: unknown) => http(svc.url, method, path, body);
  const keys = new Map<string, Uint8Array>();
  const deposit = async (who: Wallet, amount: bigint, seed: number) => {
    keys.set(who.address, privateKey(seed));
    await (await (d.token.connect(deployer) as Contract).transfer(who.address, amount)).wait();
    await (await (d.token.connect(who) as Contract).approve(await d.rollup.getAddress(), amount)).wait();
    const pub = await publicKeyOf(privateKey(seed));
    await (await (d.rollup.connect(who) as Contract).deposit(amount, pub.ax, pub.ay)).wait();
  };
  const account = (w: Wallet) => waitFor(`${w.address}'s account`, async () => {
    const r = await api("GET", `/v1/accounts/${w.address}`);
    return r.status === 200 ? (r.json as { index: number; nextNonce: string }) : undefined;
  });
  /** Posts one bundle of `who` (at its next nonce) with receipts made by `shape`. */
  const post = async (who: Wallet, shape: Omit<Receipt, "providerIdx" | "nonce" | "inputHash" | "outputHash">[]) => {
    const a = await account(who);
    const receipts = shape.map((r, j) => ({ ...r, providerIdx: a.index, nonce: BigInt(a.nextNonce) + BigInt(j), inputHash: BigInt(a.nextNonce) + 1n + BigInt(j), outputHash: 7n }));
    return api("POST", "/v1/bundles", bundleToJson(await signBundle(keys.get(who.address)!, receipts, params, await d.rollup.domain())));
  };
  const receipt = (id: string) => api("GET", `/v1/receipts/${id}`).then((r) => r.json);
  const finalized = (id: string) => waitFor(`receipt ${id.slice(0, 10)}… finalized`, async () => {
    const s = await receipt(id);
    if (s.status === "rejected") throw new Error(`receipt ${id} was rejected: ${s.error}`);
    return s.status === "finalized" ? s : undefined;
  });
  return { chain, d, svc, api, deposit, account, post, receipt, finalized, deployer, alice, bob, mallory, owner, c1, outsider };
}

describe("floods and backlogs: one provider cannot delay the others or the L1 queue", function () {
  let w: Awaited<ReturnType<typeof world>>;
  let chain: LocalChain;
  let svc: Service;
  let d: Deployment;

  before(async () => {
    w = await world(19545 + (process.pid % 1000), undefined, { maxPendingBundles: 3 });
    ({ chain, svc, d } = w);
    await w.deposit(w.alice, 10n * OPEN, 51);
    await w.deposit(w.bob, 10n * OPEN, 52);
    await w.deposit(w.mallory, 1000n * MIN_FEE, 53); // enough for a thousand minimum fees, nothing more
    for (const p of [w.alice, w.bob, w.mallory]) await w.account(p);
  });
  after(async () => {
    await chain?.provider.send("evm_setIntervalMining", [0]).catch(() => undefined);
    await chain?.provider.send("evm_setAutomine", [true]).catch(() => undefined);
    await svc?.close();
    await chain?.stop();
  });

  it("refuses zero and sub-minimum fees by name, and counts only the accounts a bundle will actually pay", async () => {
    for (const fee of [0n, MIN_FEE - 1n]) {
      const r = await w.post(w.mallory, [{ owner: fresh(), fee, entries: [{ contributor: fresh(), score: 1n }] }]);
      expect([r.status, r.json.error.code]).to.deep.equal([422, "fee_below_minimum"]);
      expect(r.json.error.message).to.equal(`receipt 0 pays a fee of ${fee}; this sequencer takes receipts paying at least ${MIN_FEE} (OPEN base units)`);
    }
    // Two receipts name four addresses without a leaf (a batch opens at most NEW = 3), but a score of 1
    // against 2^32 - 2 earns a share of 0 at this fee: only the owner and the big scorer are paid.
    const [owner, dust1, big, dust2] = [fresh(), fresh(), fresh(), fresh()];
    const huge = (1n << 32n) - 2n;
    const r = await w.post(w.mallory, [
      { owner, fee: MIN_FEE, entries: [{ contributor: dust1, score: 1n }, { contributor: big, score: huge }] },
      { owner, fee: MIN_FEE, entries: [{ contributor: dust2, score: 1n }, { contributor: big, score: huge }] },
    ]);
    expect(r.status, JSON.stringify(r.json)).to.equal(202);
    await w.finalized(r.json.receipts[1].id);
    const leaf = async (a: bigint) => (await w.api("GET", `/v1/accounts/0x${a.toString(16).padStart(40, "0")}`)).status;
    expect(await Promise.all([owner, big, dust1, dust2].map(leaf))).to.deep.equal([200, 200, 404, 404]);
  });

  it("caps a provider's pending bundles (429 with Retry-After), seals fairly, never seals ahead of the prover, and consumes a withdrawal before its due block", async () => {
    await svc.sequencer.stop(); // the flood and the honest bundles arrive faster than batches are sealed
    const flood: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await w.post(w.mallory, [{ owner: fresh(), fee: MIN_FEE, entries: [{ contributor: fresh(), score: 1n }] }]);
      expect(r.status, JSON.stringify(r.json)).to.equal(202);
      flood.push(r.json.receipts[0].id);
    }
    const capped = await w.post(w.mallory, [{ owner: fresh(), fee: MIN_FEE, entries: [{ contributor: fresh(), score: 1n }] }]);
    expect([capped.status, capped.json.error.code]).to.deep.equal([429, "too_many_pending"]);
    expect(capped.json.error.message).to.match(/^provider \d+ has 3 bundles accepted and not yet sealed \(at most 3\); post again once some are batched$/);
    expect(Number(capped.headers.get("retry-after"))).to.be.at.least(1);
    // Honest providers, paying real fees and crediting a contributor with no leaf yet: not tree_full, not behind the flood.
    const bob = await w.post(w.bob, [{ owner: BigInt(w.owner.address), fee: OPEN, entries: [{ contributor: BigInt(w.c1.address), score: 1n }] }]);
    const alice = await w.post(w.alice, [{ owner: BigInt(w.owner.address), fee: OPEN / 2n, entries: [{ contributor: fresh(), score: 1n }] }]);
    expect([bob.status, alice.status]).to.deep.equal([202, 202]);
    const firstAfter = (await svc.sequencer.store.lastBatchNumber()) + 1;

    // Blocks every second from now on, and only then, as on a live chain (a transaction waits for the next block); the pipeline resumes.
    await chain.provider.send("evm_setAutomine", [false]);
    await chain.provider.send("evm_setIntervalMining", [1000]);
    svc.sequencer.start();
    let maxUnproved = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const unproved = (await svc.sequencer.store.batchesFrom(1)).filter((b) => ["sealed", "proving", "failed"].includes(b.status)).length;
        maxUnproved = Math.max(maxUnproved, unproved);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // Bob withdraws in the middle of the flood.
    await waitFor("the first batch after the flood sealed", async () => (await svc.sequencer.store.lastBatchNumber()) >= firstAfter);
    const bobIdx = (await w.account(w.bob)).index;
    const requested = await (await (d.rollup.connect(w.bob) as Contract).requestWithdrawal(bobIdx)).wait();
    const queueIndex = Number(d.rollup.interface.parseLog(requested!.logs.find((l: { topics: string[] }) => l.topics[0] === d.rollup.interface.getEvent("WithdrawalRequested")!.topicHash)!)!.args.queueIndex);
    const due = Number((await d.rollup.queuedOps(queueIndex)).dueBlock);
    const health = await waitFor("/healthz to show the withdrawal's deadline", async () => {
      const h = (await w.api("GET", "/healthz")).json;
      return h.l1Queue?.dueBlock === due ? h : undefined;
    });
    expect(health.l1Queue).to.include({ overdue: false, head: queueIndex, dueBlock: due });
    // Half the exitDelay, or twice what a batch sealed now needs (measured proof time over a block a second), if that is more.
    expect(health.l1Queue.needBlocks).to.be.a("number").and.at.least(1);
    expect(health.l1Queue.alertBelowBlocks).to.equal(Math.max(45, 2 * health.l1Queue.needBlocks));

    const [bobDone, aliceDone] = [await w.finalized(bob.json.receipts[0].id), await w.finalized(alice.json.receipts[0].id)];
    for (const id of flood) await w.finalized(id); // nothing accepted is lost, the flood included
    await waitFor("the withdrawal consumed", async () => Number(await d.rollup.queueHead()) > queueIndex);
    sampling = false;
    await sampler;
    const consumedBy = (await d.rollup.queryFilter(d.rollup.filters.BatchSubmitted())).find((e) => "args" in e && Number(e.args.firstOp) <= queueIndex && queueIndex < Number(e.args.firstOp) + Number(e.args.opsConsumed))!;
    console.log(`      withdrawal (queue op ${queueIndex}) requested in block ${requested!.blockNumber}, due ${due}, consumed in block ${consumedBy.blockNumber} (${due - consumedBy.blockNumber} blocks to spare); bob's bundle in batch ${bobDone.batch}, alice's in ${aliceDone.batch} (first after the flood ${firstAfter}); at most ${maxUnproved} batch(es) sealed and unproved`);
    expect(consumedBy.blockNumber).to.be.at.most(due);
    expect(Math.max(bobDone.batch, aliceDone.batch), "an honest provider waited behind the flood").to.be.at.most(firstAfter + 2); // 3 providers waiting: within 3 batches
    expect(maxUnproved, "sealing ran ahead of the prover").to.equal(1);
    expect(await d.rollup.overdue()).to.equal(false);
    const err = await (d.rollup.connect(w.outsider) as Contract).activateExitMode().catch((e: { data?: string }) => e);
    expect(d.rollup.interface.parseError((err as { data: string }).data)?.name).to.equal("NoOverdueOperation");
    // The deadline is read once a second: the alert raised while the withdrawal waited is withdrawn with it.
    const after = await waitFor("/healthz ok again", async () => {
      const h = (await w.api("GET", "/healthz")).json;
      return h.l1Queue?.unconsumed === 0 ? h : undefined;
    }, 10_000);
    expect(after.ok, JSON.stringify(after.alerts)).to.equal(true);
    const metrics = await fetch(`${svc.url}/metrics`).then((r) => r.text());
    expect(metrics).to.match(/^poa_l1_op_margin_blocks 90$/m); // empty queue: the full exitDelay
  });
});

/** A farm worker that lies: it says the circuit refuses every batch with a bundle, the first two times it is asked. */
class LyingWorker implements Prover {
  private readonly pool = new ProverPool(1);
  lies = 0;
  readonly capacity = 1;
  async prove(instance: string, input: Record<string, unknown>): Promise<ProverResult> {
    if ((input.bEnabled as bigint[][]).flat().includes(1n) && this.lies < 2) {
      this.lies++;
      await calculateWitness(instance, input); // the truth: the circuit takes it
      throw Object.assign(new Error(`${WITNESS_FAILED}Error: Assert Failed. Error in template Batch_999 line: 1`), { worker: "mallory-prover" });
    }
    return { ...(await this.pool.prove(instance, input)), worker: "honest-prover" };
  }
  close() {
    return this.pool.close();
  }
}

describe("a prover that says the circuit refuses a batch is checked, not believed", function () {
  let w: Awaited<ReturnType<typeof world>>;
  const liar = new LyingWorker();

  before(async () => {
    w = await world(20545 + (process.pid % 1000), liar);
    await w.deposit(w.bob, 10n * OPEN, 61);
  });
  after(async () => {
    await w?.svc.close();
    await w?.chain.stop();
  });

  it("keeps an honest bundle whose batch a worker falsely refuses, records the false refusals against that worker, and finalizes it", async () => {
    const posted = await w.post(w.bob, [{ owner: BigInt(w.owner.address), fee: OPEN, entries: [{ contributor: BigInt(w.c1.address), score: 1n }] }]);
    expect(posted.status).to.equal(202);
    const done = await w.finalized(posted.json.receipts[0].id);
    expect(liar.lies).to.equal(2);
    const batch = (await w.api("GET", `/v1/batches/${done.batch}`)).json;
    expect(batch.proofAttempts.map((a: { worker: string; outcome: string }) => `${a.worker}:${a.outcome}`)).to.deep.equal(["mallory-prover:false_refusal", "mallory-prover:false_refusal", "honest-prover:proved"]);
    expect(batch.proofAttempts[0].error).to.match(/^worker mallory-prover said the circuit refuses batch \d+, but the sequencer's own witness generation takes it: witness generation failed: /);
    expect(batch.previousAttempts).to.deep.equal([]); // never taken apart
    const health = (await w.api("GET", "/healthz")).json;
    expect(health.alerts.map((a: { problem: string }) => a.problem)).to.include(`worker mallory-prover said the circuit refuses batch ${done.batch}, but the sequencer's own witness generation takes it (the worker is lying or broken; its refusals are recorded in the batch's proof attempts)`);
    expect((await w.account(w.bob)).nextNonce).to.equal("1"); // the receipt kept its nonce
  });
});
