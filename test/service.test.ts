// The sequencer service end to end: a real `hardhat node`, real HTTP, a real
// database file, real prover worker threads and real proofs on L1.
import { expect } from "chai";
import { Contract, type Wallet } from "ethers";
import { mkdtempSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { signBundle, type Receipt } from "../core/receipt.js";
import { startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { deployRollup, type Deployment } from "../ops/deploy.js";
import { bundleToJson } from "../sequencer/schemas.js";
import { startService, type Service } from "../sequencer/service.js";
import { ProverPool } from "../prover/pool.js";
import { INSTANCE, OPEN, params, privateKey } from "./helpers.js";
import { http, waitFor } from "./lib/http.js";

describe("sequencer service end to end", function () {
  let chain: LocalChain;
  let d: Deployment;
  let svc: Service;
  let deployer: Wallet, alice: Wallet, bob: Wallet, c1: Wallet, c2: Wallet, owner: Wallet;
  const keys = { alice: privateKey(11), bob: privateKey(12) };
  let domain: bigint;
  const api = (method: string, path: string, body?: unknown, raw?: string) => http(svc.url, method, path, body, raw);

  before(async () => {
    await initCrypto();
    chain = await startLocalChain(18545 + (process.pid % 1000));
    [deployer, , alice, bob, c1, c2, owner] = [0, 1, 2, 3, 4, 5, 6].map((i) => devWallet(i, chain.provider));
    d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address });
    domain = await d.rollup.domain();
    svc = await startService({
      rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-")), "sequencer.db"), port: 0, maxWaitMs: 300, pollMs: 100, proverThreads: 1, admission: { minFee: 1n },
    });
  });

  after(async () => {
    await svc?.close();
    await chain?.stop();
  });

  async function depositWithKey(who: Wallet, key: Uint8Array, amount: bigint): Promise<void> {
    const pub = await publicKeyOf(key);
    await (await (d.token.connect(deployer) as Contract).transfer(who.address, amount)).wait();
    await (await (d.token.connect(who) as Contract).approve(await d.rollup.getAddress(), amount)).wait();
    await (await (d.rollup.connect(who) as Contract).deposit(amount, pub.ax, pub.ay)).wait();
  }

  const receipt = (providerIdx: number, nonce: number, fee: bigint, s1: bigint, s2: bigint): Receipt => ({
    providerIdx, owner: BigInt(owner.address), fee, nonce: BigInt(nonce), inputHash: BigInt(nonce + 1), outputHash: BigInt(nonce + 100),
    entries: [{ contributor: BigInt(c1.address), score: s1 }, { contributor: BigInt(c2.address), score: s2 }],
  });

  it("pays two providers' receipts to contributors, who withdraw exactly the payout on L1", async () => {
    await depositWithKey(alice, keys.alice, 100n * OPEN);
    await depositWithKey(bob, keys.bob, 100n * OPEN);
    const aliceAcct = await waitFor("alice's account", async () => ((await api("GET", `/v1/accounts/${alice.address}`)).json.index as number | undefined));
    const bobAcct = await waitFor("bob's account", async () => ((await api("GET", `/v1/accounts/${bob.address}`)).json.index as number | undefined));

    const aliceBundle = await signBundle(keys.alice, [receipt(aliceAcct, 0, 3n * OPEN, 70n, 30n), receipt(aliceAcct, 1, 10001n, 1n, 2n)], params, domain);
    const first = await api("POST", "/v1/bundles", bundleToJson(aliceBundle));
    expect(first.status).to.equal(202);
    expect(first.json.receipts.map((r: { status: string }) => r.status)).to.deep.equal(["accepted", "accepted"]);
    const again = await api("POST", "/v1/bundles", bundleToJson(aliceBundle));
    expect(again.status).to.equal(200);
    expect(again.json.receipts.map((r: { id: string }) => r.id)).to.deep.equal(first.json.receipts.map((r: { id: string }) => r.id));

    const bobOne = await signBundle(keys.bob, [receipt(bobAcct, 0, 2n * OPEN, 0n, 5n)], params, domain);
    const single = bundleToJson(bobOne) as { receipts: unknown[]; signature: unknown };
    const bobRes = await api("POST", "/v1/receipts", { receipt: single.receipts[0], signature: single.signature });
    expect(bobRes.status).to.equal(202);

    const ids: string[] = [...first.json.receipts, ...bobRes.json.receipts].map((r: { id: string }) => r.id);
    for (const id of ids) {
      const final = await waitFor(`receipt ${id} finalized`, async () => {
        const r = await api("GET", `/v1/receipts/${id}`);
        return r.json.status === "finalized" ? r.json : undefined;
      });
      expect(final.txHash).to.match(/^0x[0-9a-f]{64}$/);
    }

    const shares = (fee: bigint, s: bigint[]) => payout(fee, s, params).shares;
    const expected = {
      c1: shares(3n * OPEN, [70n, 30n])[0] + shares(10001n, [1n, 2n])[0] + shares(2n * OPEN, [0n, 5n])[0],
      c2: shares(3n * OPEN, [70n, 30n])[1] + shares(10001n, [1n, 2n])[1] + shares(2n * OPEN, [0n, 5n])[1],
    };
    for (const [who, amount] of [[c1, expected.c1], [c2, expected.c2]] as const) {
      const acct = (await api("GET", `/v1/accounts/${who.address}`)).json;
      expect(BigInt(acct.balance)).to.equal(amount);
      await (await (d.rollup.connect(who) as Contract).requestWithdrawal(acct.index)).wait();
    }
    for (const [who, amount] of [[c1, expected.c1], [c2, expected.c2]] as const) {
      await waitFor(`${who.address}'s withdrawal`, async () => (await d.rollup.claimable(who.address)) === amount);
      const before = await d.token.balanceOf(who.address);
      await (await (d.rollup.connect(who) as Contract).claim(who.address)).wait();
      expect((await d.token.balanceOf(who.address)) - before).to.equal(amount);
    }
    const batch1 = await api("GET", "/v1/batches/1");
    expect(batch1.json.status).to.equal("finalized");
    expect(batch1.json.oldRoot).to.equal(`0x${(await d.rollup.batchRoot(0)).toString(16).padStart(64, "0")}`);
    expect(batch1.json.newRoot).to.equal(`0x${(await d.rollup.batchRoot(1)).toString(16).padStart(64, "0")}`);
    expect(Number(await d.rollup.batchCount())).to.be.greaterThanOrEqual(6);
  });

  it("holds back a bundle whose new accounts do not fit the batch's new-account records, and seals it in the next batch", async () => {
    const idx = async (w: Wallet) => (await api("GET", `/v1/accounts/${w.address}`)).json as { index: number; nextNonce: string };
    const [a, b] = [await idx(alice), await idx(bob)];
    const fresh = (n: number) => 0xabc0000n + BigInt(n);
    // Three new accounts fill the test instance's three new-account records; the fourth must wait.
    const three = await signBundle(keys.alice, [{ ...receipt(a.index, Number(a.nextNonce), 9n, 1n, 1n), owner: fresh(1), entries: [{ contributor: fresh(2), score: 1n }, { contributor: fresh(3), score: 1n }] }], params, domain);
    const one = await signBundle(keys.bob, [{ ...receipt(b.index, Number(b.nextNonce), 9n, 1n, 1n), owner: fresh(4), entries: [] }], params, domain);
    await svc.sequencer.stop();
    const ids: string[] = [];
    for (const bundle of [three, one]) {
      const r = await api("POST", "/v1/bundles", bundleToJson(bundle));
      expect(r.status).to.equal(202);
      ids.push(r.json.receipts[0].id);
    }
    svc.sequencer.start();
    const batches: number[] = [];
    for (const id of ids) {
      const r = await waitFor(`receipt ${id} finalized`, async () => {
        const x = await api("GET", `/v1/receipts/${id}`);
        return x.json.status === "finalized" ? x.json : undefined;
      });
      batches.push(r.batch);
    }
    expect(batches[1]).to.equal(batches[0] + 1);
    for (const n of [1, 2, 3, 4]) expect((await api("GET", `/v1/accounts/0x${fresh(n).toString(16).padStart(40, "0")}`)).json.index).to.be.a("number");
    const health = (await api("GET", "/healthz")).json;
    expect(health.alerts).to.deep.equal([]);
    // The in-process pool proves with the native prover, which is built here.
    expect(health.prover.backend).to.equal("native");
    expect(health.prover.native.built).to.equal(true);
    // Every proof so far was the native prover's, and the metric says so by label.
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    const proofs = Number(/poa_proof_duration_seconds_count\{prover="native"\} (\d+)/.exec(metrics)?.[1]);
    expect(proofs).to.be.greaterThan(0);
    expect(metrics).to.not.match(/poa_proof_duration_seconds_count\{prover="snarkjs"\}/);
    // Their CPU time is counted (the native process's own count, and the prover thread's), and no more than
    // their wall time on every core (each count is rounded to the kernel's 10 ms ticks).
    const cpu = Number(/poa_proof_cpu_seconds_total\{prover="native"\} (\S+)/.exec(metrics)?.[1]);
    const wall = Number(/poa_proof_duration_seconds_sum\{prover="native"\} (\S+)/.exec(metrics)?.[1]);
    expect(cpu).to.be.greaterThan(0);
    expect(cpu).to.be.at.most(wall * cpus().length + 0.02 * proofs);
  });

  it("retries a batch whose prover failed, raises an alert after repeated failures, and lands it once the prover recovers", async () => {
    const other = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address });
    // The real prover pool, out of memory (simulated) for its first four attempts.
    const pool = new ProverPool(1);
    let attempts = 0;
    const flaky = {
      prove: (instance: string, input: Record<string, unknown>) => (++attempts <= 4 ? Promise.reject(new Error("prover out of memory (simulated)")) : pool.prove(instance, input)),
      close: () => pool.close(),
    };
    const broken = await startService({
      rpcUrl: chain.url, rollupAddress: await other.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-")), "sequencer.db"), port: 0, maxWaitMs: 100, pollMs: 100, proverThreads: 1, admission: { minFee: 1n },
    }, flaky);
    try {
      const pub = await publicKeyOf(keys.alice);
      await (await (other.token.connect(deployer) as Contract).approve(await other.rollup.getAddress(), OPEN)).wait();
      await (await (other.rollup.connect(deployer) as Contract).deposit(OPEN, pub.ax, pub.ay)).wait();
      const batch = await waitFor("the failed batch", async () => {
        const b = await http(broken.url, "GET", "/v1/batches/1");
        return b.json.status === "failed" ? b.json : undefined;
      });
      expect(batch.error).to.equal("proving failed: prover out of memory (simulated)");
      expect(Number(await other.rollup.batchCount())).to.equal(0);
      const alerted = await waitFor("the alert", async () => {
        const h = (await http(broken.url, "GET", "/healthz")).json;
        return h.alerts.length > 0 ? h : undefined;
      });
      expect(alerted.ok).to.equal(false);
      expect(alerted.alerts[0].problem).to.equal("proving batch 1 fails repeatedly (3 attempts or more): prover out of memory (simulated)");
      const landed = await waitFor("the batch on L1", async () => {
        const b = await http(broken.url, "GET", "/v1/batches/1");
        return b.json.status === "finalized" ? b.json : undefined;
      });
      expect(landed.error).to.equal(null);
      expect(attempts).to.equal(5);
      expect((await http(broken.url, "GET", "/healthz")).json).to.include({ ok: true }); // the alert is withdrawn
      expect(Number(await other.rollup.batchCount())).to.equal(1);
    } finally {
      await broken.close();
    }
  });

  it("retries a failed L1 submission with the same batch", async () => {
    const role = await d.rollup.SEQUENCER_ROLE();
    const seqAddr = devWallet(1).address;
    await (await (d.rollup.connect(deployer) as Contract).revokeRole(role, seqAddr)).wait();
    const before = Number(await d.rollup.batchCount());
    const aliceIdx = (await api("GET", `/v1/accounts/${alice.address}`)).json.index;
    const nonce = Number((await api("GET", `/v1/accounts/${alice.address}`)).json.nextNonce);
    const posted = await api("POST", "/v1/bundles", bundleToJson(await signBundle(keys.alice, [receipt(aliceIdx, nonce, 7n, 1n, 1n)], params, domain)));
    const id = posted.json.receipts[0].id;
    const refused = await waitFor("a refused submission", async () => {
      const r = await api("GET", `/v1/receipts/${id}`);
      return r.json.status === "proved" && r.json.error ? r.json : undefined;
    });
    expect(refused.error).to.contain("submission failed, will retry");
    expect(Number(await d.rollup.batchCount())).to.equal(before);
    await (await (d.rollup.connect(deployer) as Contract).grantRole(role, seqAddr)).wait();
    const done = await waitFor("the retried submission", async () => {
      const r = await api("GET", `/v1/receipts/${id}`);
      return r.json.status === "finalized" ? r.json : undefined;
    });
    expect(done.error).to.equal(null);
    expect(Number(await d.rollup.batchCount())).to.equal(before + 1);
  });

  describe("bad input: a clear 4xx, and nothing reaches a batch", () => {
    let aliceIdx: number;
    let valid: { receipts: Record<string, unknown>[]; signature: Record<string, string> };
    before(async () => {
      aliceIdx = (await api("GET", `/v1/accounts/${alice.address}`)).json.index;
      const nonce = Number((await api("GET", `/v1/accounts/${alice.address}`)).json.nextNonce);
      valid = bundleToJson(await signBundle(keys.alice, [receipt(aliceIdx, nonce, 5n, 1n, 1n)], params, domain)) as typeof valid;
    });
    const withReceipt = (patch: Record<string, unknown>) => ({ ...valid, receipts: [{ ...valid.receipts[0], ...patch }] });

    it("answers each malformed or invalid request with its status and error code", async () => {
      const bundlesBefore = (await svc.sequencer.store.pendingBundles()).length;
      const cases: [string, unknown, number, string, string?][] = [
        ["malformed JSON", undefined, 400, "malformed_json", "{\"receipts\": ["],
        ["a string body", "hello", 400, "invalid_body"],
        ["missing signature", { receipts: valid.receipts }, 400, "invalid_body"],
        ["fee as a number", withReceipt({ fee: 5 }), 400, "invalid_body"],
        ["negative fee", withReceipt({ fee: "-5" }), 400, "invalid_body"],
        ["fractional fee", withReceipt({ fee: "1.5" }), 400, "invalid_body"],
        ["fee of 2^80", withReceipt({ fee: (1n << 80n).toString() }), 400, "invalid_body"],
        ["score of 2^32", withReceipt({ entries: [{ contributor: c1.address, score: (1n << 32n).toString() }] }), 400, "invalid_body"],
        ["too many entries", withReceipt({ entries: Array.from({ length: params.entries + 1 }, () => ({ contributor: c1.address, score: "1" })) }), 400, "invalid_body"],
        ["too many receipts", { ...valid, receipts: Array.from({ length: params.bundleSize + 1 }, () => valid.receipts[0]) }, 400, "invalid_body"],
        ["an unknown field", withReceipt({ tip: "1" }), 400, "invalid_body"],
        ["a bad owner address", withReceipt({ owner: "0x1234" }), 400, "invalid_body"],
        ["an oversized body", { ...valid, padding: "x".repeat(70_000) }, 413, "body_too_large"],
        ["a bad signature", { ...valid, signature: { ...valid.signature, S: (BigInt(valid.signature.S) + 1n).toString() } }, 401, "bad_signature"],
        ["a changed fee under a valid signature", withReceipt({ fee: "6" }), 401, "bad_signature"],
        ["a replayed nonce", withReceipt({ nonce: "0" }), 409, "nonce_replayed"],
        ["a skipped nonce", withReceipt({ nonce: "99" }), 409, "nonce_skipped"],
        ["an unknown provider account", withReceipt({ providerIdx: 30 }), 422, "unknown_provider"],
        ["a fee above the balance", "rich", 422, "insufficient_balance"],
        ["more new accounts than a batch opens", "fresh", 422, "too_many_new_accounts"],
      ];
      const nonce = Number(valid.receipts[0].nonce);
      const rich = bundleToJson(await signBundle(keys.alice, [receipt(aliceIdx, nonce, 1000n * OPEN, 1n, 1n)], params, domain));
      // Four addresses without a leaf (two owners, two contributors); the test instance opens at most three per batch.
      const stranger = (n: number) => 0xfee0000n + BigInt(n);
      const fresh = bundleToJson(await signBundle(keys.alice, [
        { ...receipt(aliceIdx, nonce, 5n, 1n, 1n), owner: stranger(1), entries: [{ contributor: stranger(2), score: 1n }, { contributor: stranger(3), score: 1n }] },
        { ...receipt(aliceIdx, nonce + 1, 5n, 1n, 1n), owner: stranger(4), entries: [] },
      ], params, domain));
      for (const [what, body, status, code, raw] of cases) {
        const r = await api("POST", "/v1/bundles", body === "rich" ? rich : body === "fresh" ? fresh : body, raw);
        expect(r.status, what).to.equal(status);
        expect(r.json.error.code, what).to.equal(code);
        expect(r.json.error.message, what).to.be.a("string").and.not.empty;
      }
      // The receipts of an accepted bundle again, under another signature: not a repeat (PROTOCOL §8).
      const accepted = (await svc.sequencer.store.bundle(1))!;
      const resigned = bundleToJson({ ...accepted.bundle, signature: { ...accepted.bundle.signature, S: accepted.bundle.signature.S + 1n } });
      const repeat = await api("POST", "/v1/bundles", resigned);
      expect([repeat.status, repeat.json.error.code]).to.deep.equal([401, "bad_signature"]);
      expect(repeat.json.error.message).to.match(/these receipts are accepted already as bundle 1$/);
      for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
        const v = await api("GET", `/app/vendor/${name}`);
        expect([v.status, v.json.error?.code], name).to.deep.equal([404, "not_found"]);
      }
      const typed = await api("POST", "/v1/bundles", withReceipt({ fee: 5 }));
      expect(typed.json.error.issues[0]).to.deep.equal({ field: "receipts.0.fee", reason: "fee must be a decimal string" });
      expect((await svc.sequencer.store.pendingBundles()).length).to.equal(bundlesBefore);
      const metrics = await (await fetch(`${svc.url}/metrics`)).text();
      expect(metrics).to.match(/poa_receipts_rejected_total\{reason="nonce_replayed"\} 1/);
    });

    it("serves an OpenAPI description naming exactly the routes it serves", async () => {
      const doc = (await api("GET", "/v1/openapi.json")).json;
      const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`)).sort();
      type Layer = { route?: { path: string; methods: Record<string, boolean> } };
      const stack = (svc.app as unknown as { router: { stack: Layer[] } }).router.stack;
      const served = stack.flatMap((l) => (l.route ? Object.keys(l.route.methods).map((m) => `${m.toUpperCase()} ${l.route!.path}`) : [])).sort();
      expect(documented).to.deep.equal(served);
      for (const path of ["/healthz", "/metrics", "/v1/openapi.json", "/v1/batches/1", `/v1/accounts/${aliceIdx}`]) expect((await api("GET", path)).status, path).to.equal(200);
      expect((await api("GET", "/v1/receipts/0x1234")).status).to.equal(400);
      expect((await api("GET", `/v1/receipts/0x${"0".repeat(64)}`)).status).to.equal(404);
      expect((await api("GET", "/v1/nowhere")).status).to.equal(404);
      for (const loose of ["1e0", "0x1", "1.0", "+1", "%201", "01", "-1"]) {
        const r = await api("GET", `/v1/batches/${loose}`);
        expect(r.status, loose).to.equal(400);
        expect(r.json.error.code, loose).to.equal("invalid_batch");
      }
      const wrongType = await fetch(`${svc.url}/v1/bundles`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
      expect(wrongType.status).to.equal(415);
      expect((await wrongType.json()).error.message).to.equal("this route takes Content-Type: application/json, not text/plain");
    });
  });
});
