// Attacks on liveness through the real stack (issue 9): a Hardhat node, the
// sequencer service over HTTP, real prover threads and real proofs on L1.
// After each attack, honest users' batches still finalize and exit mode stays
// out of the attacker's reach.
import { expect } from "chai";
import { buildEddsa } from "circomlibjs";
import { Contract, type Wallet } from "ethers";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCrypto, publicKeyOf, type PublicKey } from "../core/crypto.js";
import { signBundle, type Receipt } from "../core/receipt.js";
import { ProverPool, type Prover } from "../prover/pool.js";
import { startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { deployRollup, type Deployment } from "../ops/deploy.js";
import { bundleToJson } from "../sequencer/schemas.js";
import { startService, type Service } from "../sequencer/service.js";
import { INSTANCE, OPEN, params, privateKey } from "./helpers.js";
import { http, waitFor } from "./lib/http.js";

/** Fees that make the prover corrupt a batch's input: a fault injected to stand for a model/circuit disagreement. */
const CORRUPT_ONCE = 7_770_001n, CORRUPT_ALWAYS = 7_770_002n;

/** The real prover pool, except that a batch carrying a marked fee gets its signature's S changed, so its real witness fails. */
class FaultyProver implements Prover {
  private readonly pool = new ProverPool(1);
  private corruptedOnce = false;
  prove(instance: string, input: Record<string, unknown>) {
    const fees = (input.rFee as bigint[][]).flat();
    const corrupt = fees.includes(CORRUPT_ALWAYS) || (fees.includes(CORRUPT_ONCE) && !this.corruptedOnce);
    if (fees.includes(CORRUPT_ONCE)) this.corruptedOnce = true;
    if (!corrupt) return this.pool.prove(instance, input);
    // Changed in place: the object is the sequencer's own circuit input, so its own witness check (made
    // before it believes a refusal) fails too, as it would if the model and the circuit disagreed.
    input.bSig = (input.bSig as bigint[][]).map(([S, x, y]) => [S + 1n, x, y]);
    return this.pool.prove(instance, input);
  }
  close() {
    return this.pool.close();
  }
}

describe("liveness attacks on the running service", function () {
  let chain: LocalChain;
  let d: Deployment;
  let svc: Service;
  let deployer: Wallet, alice: Wallet, bob: Wallet, mallory: Wallet, owner: Wallet, c1: Wallet, outsider: Wallet;
  const keys = { alice: privateKey(31), aliceNew: privateKey(32), bob: privateKey(33) };
  let domain: bigint;
  const api = (method: string, path: string, body?: unknown) => http(svc.url, method, path, body);
  const idxOf = (w: Wallet) => waitFor(`${w.address}'s account`, async () => (await api("GET", `/v1/accounts/${w.address}`)).json.index as number | undefined);
  const nextNonce = async (w: Wallet) => BigInt((await api("GET", `/v1/accounts/${w.address}`)).json.nextNonce);
  const status = (id: string) => api("GET", `/v1/receipts/${id}`).then((r) => r.json);
  const finalized = (id: string) => waitFor(`receipt ${id} finalized`, async () => ((await status(id)).status === "finalized" ? status(id) : undefined));

  async function deposit(who: Wallet, amount: bigint, key: PublicKey): Promise<void> {
    await (await (d.token.connect(deployer) as Contract).transfer(who.address, amount)).wait();
    await (await (d.token.connect(who) as Contract).approve(await d.rollup.getAddress(), amount)).wait();
    await (await (d.rollup.connect(who) as Contract).deposit(amount, key.ax, key.ay)).wait();
  }

  async function post(key: Uint8Array, who: Wallet, fee: bigint, contributor = c1): Promise<{ status: number; json: any }> {
    const r: Receipt = { providerIdx: await idxOf(who), owner: BigInt(owner.address), fee, nonce: await nextNonce(who), inputHash: fee, outputHash: 1n, entries: [{ contributor: BigInt(contributor.address), score: 1n }] };
    return api("POST", "/v1/bundles", bundleToJson(await signBundle(key, [r], params, domain)));
  }

  /** Exit mode is out of reach: nothing is overdue, an outsider's activateExitMode reverts, every batch so far is on L1. */
  async function stillLive(): Promise<void> {
    expect(await d.rollup.overdue()).to.equal(false);
    const err = await (d.rollup.connect(outsider) as Contract).activateExitMode().catch((e: { data?: string }) => e);
    expect(d.rollup.interface.parseError((err as { data: string }).data)?.name).to.equal("NoOverdueOperation");
    expect(await d.rollup.exitMode()).to.equal(false);
  }

  before(async () => {
    await initCrypto();
    chain = await startLocalChain(16545 + (process.pid % 1000));
    [deployer, , alice, bob, mallory, owner, c1, outsider] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => devWallet(i, chain.provider));
    d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address, exitDelay: 20, blocksPerBatch: 2 });
    domain = await d.rollup.domain();
    svc = await startService({
      rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-attack-")), "sequencer.db"), port: 0, maxWaitMs: 200, pollMs: 100, proverThreads: 1, admission: { minFee: 1n },
    }, new FaultyProver());
    await deposit(alice, 100n * OPEN, await publicKeyOf(keys.alice));
    await deposit(bob, 100n * OPEN, await publicKeyOf(keys.bob));
    await idxOf(alice);
    await idxOf(bob);
  });

  after(async () => {
    await svc?.close();
    await chain?.stop();
  });

  it("rejects a bundle whose provider rotated its key after acceptance, and keeps finalizing", async () => {
    await svc.sequencer.stop(); // hold sealing, so that the key change lands between acceptance and sealing
    const stale = await post(keys.alice, alice, 5n * OPEN);
    expect(stale.status).to.equal(202);
    const later = await post(keys.alice, alice, 1n * OPEN); // depends on the first one's nonce
    expect(later.status).to.equal(202);
    await deposit(alice, 1n, await publicKeyOf(keys.aliceNew)); // deposit(1, newAx, newAy)
    svc.sequencer.start();
    const [first, second] = [stale.json.receipts[0].id, later.json.receipts[0].id];
    const rejected = await waitFor("the stale bundle rejected", async () => ((await status(first)).status === "rejected" ? status(first) : undefined));
    expect(rejected.error).to.equal("the signature does not verify against provider 1's current key");
    expect((await status(second)).status).to.equal("rejected");
    expect((await status(second)).error).to.match(/^follows bundle \d+ of the same provider, which was rejected: the signature does not verify/);

    // The nonce is free again: the same receipts signed under the new key are a new attempt, and finalize, as does bob's.
    const fresh = await post(keys.aliceNew, alice, 5n * OPEN);
    expect(fresh.status).to.equal(202);
    expect(fresh.json.receipts[0].id).to.equal(first); // the receipt follows its new bundle
    const bobs = await post(keys.bob, bob, 3n * OPEN);
    await finalized(fresh.json.receipts[0].id);
    await finalized(bobs.json.receipts[0].id);
    const health = (await api("GET", "/healthz")).json;
    expect(health.batches_failed ?? 0).to.equal(0);
    expect(health.ok).to.equal(true);
    await stillLive();
  });

  it("refuses a small-order key's forged bundle at acceptance, and a bundle whose key became small-order at sealing", async () => {
    const jub = (await buildEddsa()).babyJub as unknown as { F: { toObject(x: Uint8Array): bigint }; Generator: [Uint8Array, Uint8Array]; subOrder: bigint; mulPointEscalar(P: unknown, e: bigint): [Uint8Array, Uint8Array] };
    const P = jub.mulPointEscalar(jub.Generator, jub.subOrder); // order 8
    const smallOrder = { ax: jub.F.toObject(P[0]), ay: jub.F.toObject(P[1]) };
    await deposit(mallory, 10n * OPEN, smallOrder);
    const idx = await idxOf(mallory);
    const acct = (await api("GET", `/v1/accounts/${mallory.address}`)).json;
    expect(acct.publicKey.problem).to.equal("the key is a point of small order (8·A is the identity)");
    const receipt: Receipt = { providerIdx: idx, owner: BigInt(owner.address), fee: OPEN, nonce: 0n, inputHash: 1n, outputHash: 1n, entries: [] };
    const forged = await api("POST", "/v1/bundles", bundleToJson({ receipts: [receipt], signature: { R8x: 0n, R8y: 1n, S: 0n } }));
    expect(forged.status).to.equal(422);
    expect(forged.json.error.code).to.equal("invalid_key");
    expect(forged.json.error.message).to.contain("the key is a point of small order");

    // Alice's bundle is accepted under her key; then she sets a small-order key before it is sealed.
    await svc.sequencer.stop();
    const doomed = await post(keys.aliceNew, alice, OPEN);
    expect(doomed.status).to.equal(202);
    await deposit(alice, 1n, smallOrder);
    svc.sequencer.start();
    const id = doomed.json.receipts[0].id;
    const r = await waitFor("the bundle rejected at sealing", async () => ((await status(id)).status === "rejected" ? status(id) : undefined));
    expect(r.error).to.equal("provider 1's key cannot sign: the key is a point of small order (8·A is the identity)");
    await finalized((await post(keys.bob, bob, OPEN)).json.receipts[0].id);
    await stillLive();
  });

  it("takes apart a batch whose witness fails, re-seals it and goes on; a bundle refused twice is rejected with an alert", async () => {
    // Once: the batch is unsealed, its bundle re-checked and sealed again, and the second proof lands.
    const once = await post(keys.bob, bob, CORRUPT_ONCE);
    const onceId = once.json.receipts[0].id;
    const done = await finalized(onceId);
    const batch = (await api("GET", `/v1/batches/${done.batch}`)).json;
    expect(batch.previousAttempts).to.have.length(1);
    expect(batch.previousAttempts[0].error).to.contain("witness generation failed").and.contain("EdDSAPoseidonVerifier");
    expect(batch.previousAttempts[0].receipts).to.deep.equal([onceId]);

    // Always: after the second refusal the bundle is rejected with the reason; bob's next bundle still finalizes.
    const always = await post(keys.bob, bob, CORRUPT_ALWAYS);
    const alwaysId = always.json.receipts[0].id;
    const r = await waitFor("the refused bundle rejected", async () => ((await status(alwaysId)).status === "rejected" ? status(alwaysId) : undefined));
    expect(r.error).to.match(/^the circuit refuses this bundle although the sequencer's checks accept it \(witness generation failed/);
    const health = (await api("GET", "/healthz")).json;
    expect(health.ok).to.equal(false);
    expect(health.alerts[0].problem).to.match(/^the model accepted bundles \d+ that the circuit refused/);
    const next = await post(keys.bob, bob, 2n); // the rejected bundle's nonce again
    expect(next.status).to.equal(202);
    await finalized(next.json.receipts[0].id);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).to.match(/poa_batches_unsealed_total 3/); // once, then twice
    await stillLive();
  });
});

describe("a full state tree", function () {
  let chain: LocalChain;
  let d: Deployment;
  let svc: Service;
  const key = privateKey(51);

  before(async () => {
    await initCrypto();
    chain = await startLocalChain(15545 + (process.pid % 1000));
    // 64 leaves: the treasury, 56 reserved for depositors, so credits may take 7.
    d = await deployRollup(devWallet(0, chain.provider), { instance: INSTANCE, treasury: devWallet(0).address, sequencer: devWallet(1).address, maxDepositors: 56 });
    svc = await startService({
      rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-full-")), "sequencer.db"), port: 0, maxWaitMs: 200, pollMs: 100, proverThreads: 1, admission: { minFee: 1n },
    });
  });

  after(async () => {
    await svc?.close();
    await chain?.stop();
  });

  it("refuses at acceptance the credits that would not fit, counting accepted work, and finalizes everything it accepted", async () => {
    const deployer = devWallet(0, chain.provider);
    const provider = devWallet(2, chain.provider);
    const pub = await publicKeyOf(key);
    await (await (d.token.connect(deployer) as Contract).transfer(provider.address, 10n * OPEN)).wait();
    await (await (d.token.connect(provider) as Contract).approve(await d.rollup.getAddress(), 10n * OPEN)).wait();
    await (await (d.rollup.connect(provider) as Contract).deposit(10n * OPEN, pub.ax, pub.ay)).wait();
    const idx = await waitFor("the provider's account", async () => (await http(svc.url, "GET", `/v1/accounts/${provider.address}`)).json.index as number | undefined);
    const domain = await d.rollup.domain();
    const addr = (n: number) => BigInt(0xf00000 + n);
    let nonce = 0n;
    const post = async (owner: bigint, contributors: bigint[]) => {
      const r: Receipt = { providerIdx: idx, owner, fee: 1000n, nonce, inputHash: nonce, outputHash: 0n, entries: contributors.map((c) => ({ contributor: c, score: 1n })) };
      const res = await http(svc.url, "POST", "/v1/bundles", bundleToJson(await signBundle(key, [r], params, domain)));
      if (res.status === 202) nonce++;
      return res;
    };
    await svc.sequencer.stop(); // everything below is accepted but unsealed: acceptance must count it
    const accepted: string[] = [];
    for (const [owner, cs, expected] of [
      [addr(1), [addr(2), addr(3)], 202],
      [addr(4), [addr(5), addr(6)], 202],
      [addr(7), [addr(8), addr(9)], 422], // 3 new accounts, room for 1
      [addr(1), [addr(10)], 202], // 1 new account
      [addr(1), [addr(11)], 422], // room for none
      [addr(4), [addr(2), addr(5)], 202], // only accounts accepted before
    ] as const) {
      const res = await post(owner, [...cs]);
      expect(res.status, `bundle for ${owner}`).to.equal(expected);
      if (expected === 422) {
        expect(res.json.error.code).to.equal("tree_full");
        expect(res.json.error.message).to.match(/the state tree has room for [01] more/);
      } else accepted.push(res.json.receipts[0].id);
    }
    svc.sequencer.start();
    for (const id of accepted) await waitFor(`receipt ${id} finalized`, async () => (await http(svc.url, "GET", `/v1/receipts/${id}`)).json.status === "finalized");
    // Depositors keep their reserved leaves: a new depositor still gets one and the queue moves on.
    const late = devWallet(3, chain.provider);
    await (await (d.token.connect(deployer) as Contract).transfer(late.address, OPEN)).wait();
    await (await (d.token.connect(late) as Contract).approve(await d.rollup.getAddress(), OPEN)).wait();
    await (await (d.rollup.connect(late) as Contract).deposit(OPEN, 0n, 0n)).wait();
    const acct = await waitFor("the late depositor's account", async () => (await http(svc.url, "GET", `/v1/accounts/${late.address}`)).json.index as number | undefined);
    expect(acct).to.equal(9); // treasury, provider, 7 credited accounts, then the depositor
    expect((await http(svc.url, "GET", "/healthz")).json.ok).to.equal(true);
  });
});
