// Paid inference end to end, on the real stack: a Hardhat node, the
// sequencer with its Groth16 prover, an adapter fine-tuned and published
// through ModelFactory, and the OpenLoRA serving node as a provider that has
// deposited on L1. An answer carries its receipt; the receipt is attributed to
// the logbook datanet's contributors, bundled, proved and finalized; the
// contributors gain exactly what the payout rule gives, and one of them
// withdraws it. A ModelFactory classifier is served the same way, attributed by
// TracIn over checkpoints the node reproduces and checks against the registry.
// Refused requests produce no receipt; a node whose balance
// cannot pay refuses with 402; a node killed between answering and the
// sequencer's acknowledgement sends the receipt once after its restart.
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Contract, Wallet } from "ethers";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { contentHash, receiptHash } from "../core/receipt.js";
import { bjjKey } from "../ops/client.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { inferenceFee } from "../serving/receipts.js";
import { receiptEntries } from "../attribution/receipts.js";
import { readModel } from "../models/registry.js";
import { trainingDocuments } from "../serving/attribution.js";
import { classifyServed, reproduceClassifier } from "../serving/classifiers.js";
import { createHash } from "node:crypto";
import { startServingNode, type ServingNode } from "../serving/server.js";
import { INSTANCE, OPEN, params } from "./helpers.js";
import { startFactoryWorld, type FactoryWorld } from "./lib/factory-world.js";
import { http, waitFor } from "./lib/http.js";

const PRICE = 10n ** 15n; // OPEN base units per 1,000 tokens

describe("OpenLoRA: every answer paid by a receipt", function () {
  let w: FactoryWorld;
  let node: ServingNode;
  let adapterId: number;
  let provider: Wallet;
  let cacheDir: string;
  const serve = (method: string, path: string, body?: unknown, raw?: string) => http(node.url, method, path, body, raw);
  const balanceOf = async (address: string) => {
    const r = await w.api("GET", `/v1/accounts/${address}`);
    return r.status === 404 ? 0n : BigInt(r.json.balance);
  };
  const nextNonce = async () => BigInt((await w.api("GET", `/v1/accounts/${provider.address}`)).json.nextNonce);
  const nodeConfig = (dir: string) => ({
    rpcUrl: w.chain.url, modelRegistryAddress: "", artifactsApi: w.svc.url, base: "tiny", cacheDir: dir, port: 0, maxBatch: 8, maxQueue: 16, maxAdapters: 4, adapterMemory: 1 << 24,
  });

  before(async () => {
    await initCrypto();
    w = await startFactoryWorld(23545 + (process.pid % 1000));
    const job = await w.api("POST", "/v1/jobs", { method: "lora", name: "logbook", owner: w.curator.address, datanets: [1], base: "tiny", seqLen: 32, epochs: 6, learningRate: 0.01 });
    await waitFor("the job", async () => (await w.api("GET", `/v1/jobs/${job.json.id}`)).json.state === "done");
    adapterId = (await w.api("POST", `/v1/jobs/${job.json.id}/publish`, { pricePer1kTokens: PRICE.toString() })).json.model.id;
    // The serving node's provider deposits 1 OPEN with its Baby Jubjub key.
    provider = devWallet(7, w.chain.provider);
    const deployer = devWallet(0, w.chain.provider);
    await (await (w.d.token.connect(deployer) as Contract).transfer(provider.address, OPEN)).wait();
    await (await (w.d.token.connect(provider) as Contract).approve(await w.d.rollup.getAddress(), OPEN)).wait();
    const pub = await publicKeyOf(bjjKey(provider));
    await (await (w.d.rollup.connect(provider) as Contract).deposit(OPEN, pub.ax, pub.ay)).wait();
    await waitFor("the provider's account", async () => (await w.api("GET", `/v1/accounts/${provider.address}`)).status === 200);
    cacheDir = mkdtempSync(join(tmpdir(), "poa-paid-"));
    node = await startServingNode({
      ...nodeConfig(cacheDir), modelRegistryAddress: await w.d.modelRegistry.getAddress(),
      payments: { sequencerApi: w.svc.url, rollupAddress: await w.d.rollup.getAddress(), instance: INSTANCE, providerAddress: provider.address, signingKey: bjjKey(provider), policy: { owners: [w.curator.address], maxPricePer1kTokens: 1000n * OPEN, maxFeePerRequest: 100n * OPEN },
        // Exact receipts here, to check each answer's credits to the unit; the crash test below runs `poa serve` with
        // its default, tickets (serving-tickets.test.ts checks what tickets pay).
        ticketFace: 0n },
    });
  });
  after(async () => {
    await node?.close();
    await w?.stop();
  });

  it("an answer carries its receipt; once proved on L1 the contributors gain exactly the payout rule's credit, and one withdraws it", async () => {
    const [c0, c1] = w.contributors;
    const before = { c0: await balanceOf(c0.address), c1: await balanceOf(c1.address), owner: await balanceOf(w.curator.address) };
    const nonce = await nextNonce();
    const prompt = "Day 13. Wind from the";
    const r = await serve("POST", "/v1/completions", { model: String(adapterId), prompt, max_tokens: 40, temperature: 0, seed: 1 });
    expect(r.status, JSON.stringify(r.json)).to.equal(200);
    const text = r.json.choices[0].text as string;
    const receipt = r.json.receipt;
    expect(receipt.fee).to.equal(inferenceFee(PRICE, r.json.usage.total_tokens).toString());
    expect(receipt.nonce).to.equal(nonce.toString());
    expect(receipt.url).to.equal(`/v1/receipts/${receipt.id}`);
    // The receipt names the model's registered owner, the provider, and the hashes of what was asked and answered.
    const local = (await serve("GET", receipt.url)).json;
    expect(local).to.include({ id: receipt.id, owner: w.curator.address.toLowerCase(), model: String(adapterId) });
    const entries = receipt.contributors.map((e: { address: string; score: string }) => ({ contributor: BigInt(e.address), score: BigInt(e.score) }));
    expect(entries.length).to.be.within(1, params.entries);
    for (const e of entries) expect([c0.address, c1.address].map((a) => BigInt(a))).to.include(e.contributor);
    const rebuilt = { providerIdx: local.provider, owner: BigInt(w.curator.address), fee: BigInt(receipt.fee), nonce, inputHash: contentHash(prompt), outputHash: contentHash(text), entries };
    expect(`0x${receiptHash(rebuilt, params.entries).toString(16).padStart(64, "0")}`).to.equal(receipt.id);
    expect(local.detail.attribution.contributions.length).to.be.greaterThan(0);

    // Followed to finalization through the node.
    await waitFor("the receipt on L1", async () => (await serve("GET", receipt.url)).json.status === "finalized");
    const shares = payout(BigInt(receipt.fee), entries.map((e: { score: bigint }) => e.score), params);
    const credit = (a: string) => entries.reduce((s: bigint, e: { contributor: bigint }, k: number) => (e.contributor === BigInt(a) ? s + shares.shares[k] : s), 0n);
    expect(await balanceOf(c0.address)).to.equal(before.c0 + credit(c0.address));
    expect(await balanceOf(c1.address)).to.equal(before.c1 + credit(c1.address));
    expect(await balanceOf(w.curator.address)).to.equal(before.owner + shares.ownerTotal);
    // The node declared the model and the contributions behind each credit: the explorer's ledger has them.
    const atSequencer = (await w.api("GET", `/v1/receipts/${receipt.id}`)).json;
    expect(atSequencer.declared.model).to.equal(adapterId);
    for (const c of [c0, c1]) {
      const earnings = (await w.api("GET", `/v1/accounts/${c.address}/earnings`)).json;
      const byModel = earnings.byModel.find((m: { key: string }) => m.key === String(adapterId));
      if (credit(c.address) > 0n) expect(BigInt(byModel.amount)).to.equal(credit(c.address));
      const declared = atSequencer.declared.contributions.filter((x: { contributor: string }) => x.contributor === c.address.toLowerCase()).map((x: { contribution: number }) => String(x.contribution)).sort();
      expect(earnings.byContribution.map((x: { key: string }) => x.key).sort()).to.deep.equal(declared.length ? declared : credit(c.address) > 0n ? ["undeclared"] : []);
    }

    // The best-credited contributor withdraws everything it holds, to the unit.
    const who = credit(c0.address) >= credit(c1.address) ? c0 : c1;
    const amount = await balanceOf(who.address);
    expect(amount > 0n, "the withdrawn amount").to.equal(true);
    const acct = (await w.api("GET", `/v1/accounts/${who.address}`)).json;
    await (await (w.d.rollup.connect(who) as Contract).requestWithdrawal(acct.index)).wait();
    await waitFor("the withdrawal's batch", async () => (await w.d.rollup.claimable(who.address)) === amount);
    const held = BigInt(await w.d.token.balanceOf(who.address));
    await (await (w.d.rollup.connect(who) as Contract).claim(who.address)).wait();
    expect(BigInt(await w.d.token.balanceOf(who.address)) - held).to.equal(amount);
  });

  it("a classifier, reproduced from its registered config and checked against its artifact, answers with TracIn-attributed receipts that pay the review datanet's contributors", async () => {
    const job = await w.api("POST", "/v1/jobs", { method: "classifier", name: "reviews", owner: w.curator.address, datanets: [2] });
    await waitFor("the classifier job", async () => (await w.api("GET", `/v1/jobs/${job.json.id}`)).json.state === "done");
    const id = (await w.api("POST", `/v1/jobs/${job.json.id}/publish`, { pricePer1kTokens: PRICE.toString() })).json.model.id as number;
    expect((await serve("GET", "/v1/models")).json.data.map((m: { id: string; kind: string }) => [m.id, m.kind])).to.deep.include([String(id), "classifier"]);
    const reviewers = new Map<string, bigint>();
    for (const c of w.contributors) reviewers.set(c.address.toLowerCase(), await balanceOf(c.address));
    const owner = await balanceOf(w.curator.address);
    const input = "the battery lasts all day and the screen is bright";
    const r = await serve("POST", "/v1/classifications", { model: String(id), input });
    expect(r.status, JSON.stringify(r.json)).to.equal(200);
    expect(r.json).to.include({ object: "classification", model: String(id), label: "positive" });
    expect(r.json.usage.prompt_tokens).to.equal(10);
    expect(r.json.receipt.fee).to.equal(inferenceFee(PRICE, 10).toString());
    expect(r.json.receipt.contributors.length).to.be.within(1, params.entries);
    // The same scores as the classifier reproduced here from what the registry and the datanet API give anyone.
    const entry = await readModel(w.d.modelRegistry.connect(w.chain.provider) as Contract, id);
    const config = new Uint8Array(await (await fetch(`${w.svc.url}/v1/models/${id}/config`)).arrayBuffer());
    const docs = await trainingDocuments(w.d.modelRegistry.connect(w.chain.provider) as Contract, id, w.svc.url);
    const mine = classifyServed(reproduceClassifier(entry, config, docs), input);
    const entries = receiptEntries(new Map(mine.contributors), params);
    expect(r.json.receipt.contributors).to.deep.equal(entries.map((e) => ({ address: `0x${e.contributor.toString(16).padStart(40, "0")}`, score: e.score.toString() })));
    // A configuration that is not the registered one, or one that does not retrain to the registered weights, is refused.
    const tampered = new TextEncoder().encode(new TextDecoder().decode(config).replace(/"epochs":[0-9]+/, '"epochs":3'));
    expect(() => reproduceClassifier(entry, tampered, docs)).to.throw(`model ${id}: the served configuration hashes to`);
    const sha = `0x${createHash("sha256").update(tampered).digest("hex")}`;
    expect(() => reproduceClassifier({ ...entry, configHash: sha }, tampered, docs)).to.throw(`model ${id}: retraining from its registered configuration gives weights`);
    expect(() => reproduceClassifier(entry, config, docs.slice(1))).to.throw(`model ${id}: its training set's root`);

    await waitFor("the classification's receipt on L1", async () => (await serve("GET", r.json.receipt.url)).json.status === "finalized");
    const shares = payout(BigInt(r.json.receipt.fee), entries.map((e) => e.score), params);
    for (const [address, before] of reviewers) {
      const credit = entries.reduce((s, e, k) => (e.contributor === BigInt(address) ? s + shares.shares[k] : s), 0n);
      expect(await balanceOf(address), address).to.equal(before + credit);
    }
    expect(await balanceOf(w.curator.address)).to.equal(owner + shares.ownerTotal);
  });

  it("refuses bad requests by name, and none of them produces a receipt", async () => {
    const counts = (await serve("GET", "/healthz")).json.payments.receipts;
    const nonce = await nextNonce();
    const model = String(adapterId);
    const bad: [object | string, number, string][] = [
      [{ model: "999", prompt: "x" }, 404, "model_not_found"],
      [{ model, prompt: "x", max_tokens: 0 }, 400, "invalid_body"],
      [{ model, prompt: "x", max_tokens: 100000 }, 400, "invalid_body"],
      [{ model, prompt: "x", temperature: -1 }, 400, "invalid_body"],
      [{ model, prompt: "x".repeat(9000) }, 400, "invalid_body"],
      ["{not json", 400, "malformed_json"],
    ];
    const classifications: [object, number, string][] = [
      [{ model: String(adapterId), input: "great" }, 400, "not_a_classifier"],
      [{ model: "999", input: "great" }, 404, "model_not_found"],
      [{ model: "3", input: "" }, 400, "invalid_body"],
      [{ model: "3", input: "   " }, 400, "invalid_body"], // no token to classify, nothing to pay for
      [{ model: "3", input: "great", prompt: "x" }, 400, "invalid_body"],
    ];
    for (const [body, status, code] of classifications) {
      const r = await serve("POST", "/v1/classifications", body);
      expect(r.status, JSON.stringify(r.json)).to.equal(status);
      expect(r.json.error.code).to.equal(code);
    }
    for (const [body, status, code] of bad) {
      const r = typeof body === "string" ? await serve("POST", "/v1/completions", undefined, body) : await serve("POST", "/v1/completions", body);
      expect(r.status, JSON.stringify(r.json)).to.equal(status);
      expect(r.json.error.code).to.equal(code);
    }
    expect((await serve("GET", "/healthz")).json.payments.receipts).to.deep.equal(counts);
    expect(await nextNonce()).to.equal(nonce);
  });

  it("charges the price pinned at admission until the operator accepts an owner's raise; then refuses with 402 when the balance cannot pay, and serves again once it can", async () => {
    const registry = w.d.modelRegistry.connect(w.curator) as Contract;
    await (await registry.setPrice(adapterId, OPEN * 1000n)).wait(); // 1 OPEN per token: more than the deposit
    const body = { model: String(adapterId), prompt: "Day 14.", max_tokens: 8, temperature: 0 };
    // The owner's setPrice alone changes nothing the node pays (the audit's drain: an owner sets what the node pays).
    await waitFor("the node to see the raise", async () => (await serve("GET", "/v1/models")).json.data.find((m: { id: string }) => m.id === String(adapterId))?.registered_price_per_1k_tokens === (OPEN * 1000n).toString());
    const still = await serve("POST", "/v1/completions", body);
    expect(still.status, JSON.stringify(still.json)).to.equal(200);
    expect(still.json.receipt.fee).to.equal(inferenceFee(PRICE, still.json.usage.total_tokens).toString());
    expect((await serve("GET", "/v1/models")).json.data.find((m: { id: string }) => m.id === String(adapterId)).price_per_1k_tokens).to.equal(PRICE.toString());
    // The operator accepts it (poa serve --accept-price): now the deposit cannot pay an answer.
    node.payments!.prices.acceptPrice(await readModel(w.d.modelRegistry.connect(w.chain.provider) as Contract, adapterId));
    const refused = await waitFor("the new price", async () => {
      const r = await serve("POST", "/v1/completions", body);
      return r.status === 402 ? r : undefined;
    });
    expect(refused.json.error.code).to.equal("provider_balance_low");
    expect(refused.json.error.message).to.match(/cannot pay this answer: up to [0-9]+ OPEN base units \(model [0-9]+: 1000000000000000000000 per 1,000 tokens/);
    await (await registry.setPrice(adapterId, PRICE)).wait(); // a lower price is charged at once
    await waitFor("the old price", async () => (await serve("POST", "/v1/completions", body)).status === 200);
  });

  it("refuses a model its operator did not admit and a request above the client's max_fee, before any token; a client that goes away stops the decoding and pays only for what it was sent", async () => {
    const total = async () => Object.values((await serve("GET", "/healthz")).json.payments.receipts as Record<string, number>).reduce((a, n) => a + n, 0);
    const counts = await total();
    // A third party's adapter on the same base, at a price that would take the node's whole deposit in one answer.
    const stranger = devWallet(9, w.chain.provider);
    const job = await w.api("POST", "/v1/jobs", { method: "lora", name: "drain", owner: stranger.address, datanets: [1], base: "tiny", seqLen: 32, epochs: 1, learningRate: 0.01 });
    await waitFor("the stranger's job", async () => (await w.api("GET", `/v1/jobs/${job.json.id}`)).json.state === "done");
    const theirs = (await w.api("POST", `/v1/jobs/${job.json.id}/publish`, { pricePer1kTokens: (OPEN * 100n).toString() })).json.model.id as number;
    const refused = await serve("POST", "/v1/completions", { model: String(theirs), prompt: "Day 16.", max_tokens: 100 });
    expect([refused.status, refused.json.error.code]).to.deep.equal([403, "model_not_admitted"]);
    expect((await serve("GET", "/v1/models")).json.data.map((m: { id: string }) => m.id)).to.not.include(String(theirs));
    // The client's own cap, in the body or as a header.
    const body = { model: String(adapterId), prompt: "Day 16.", max_tokens: 64 };
    const most = inferenceFee(PRICE, 64 + 4); // at least 4 prompt tokens
    for (const r of [await serve("POST", "/v1/completions", { ...body, max_fee: (most - 1n).toString() }),
      await fetch(`${node.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json", "x-max-fee": "1" }, body: JSON.stringify(body) }).then(async (x) => ({ status: x.status, json: await x.json() }))]) {
      expect([r.status, r.json.error.code]).to.deep.equal([402, "fee_above_client_cap"]);
    }
    expect(await total()).to.equal(counts); // no receipt for any of them
    // A streamed answer dropped after its first chunk.
    const gone = new AbortController();
    const res = await fetch(`${node.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body, max_tokens: 512, stream: true, temperature: 1 }), signal: gone.signal });
    const reader = res.body!.getReader();
    await reader.read();
    gone.abort();
    await waitFor("the decode slot freed", async () => node.engine.depth.running === 0 || undefined);
    const metrics = await fetch(`${node.url}/metrics`).then((r) => r.text());
    expect(metrics).to.match(/openlora_completions_total\{finish_reason="client_closed"\} 1/);
    const latest = node.payments!.outbox.db.prepare("SELECT id FROM receipts ORDER BY created_at DESC, nonce DESC LIMIT 1").get() as { id: string };
    const paid = (await serve("GET", `/v1/receipts/${latest.id}`)).json;
    const tokens = paid.detail.tokens as number;
    expect(tokens).to.be.lessThan(512);
    expect(paid.fee).to.equal(inferenceFee(PRICE, tokens).toString());
  });

  it("kill -9 between answering and the sequencer's acknowledgement: after a restart the answer's ticket arrives exactly once", async () => {
    // One node per provider key: the in-process node posts what it holds and stops before the others start.
    await node.close();
    node = undefined as never;
    for (const crashAt of ["answered", "posted"] as const) {
      const before = await nextNonce();
      const dir = mkdtempSync(join(tmpdir(), `poa-crash-${crashAt}-`));
      const first = await serveProcess(dir, crashAt);
      const r = await http(first.url, "POST", "/v1/completions", { model: String(adapterId), prompt: "Day 15. Wind from the", max_tokens: 12, temperature: 0 });
      expect(r.status, JSON.stringify(r.json)).to.equal(200);
      const id = r.json.receipt.id as string;
      expect(r.json.receipt.kind).to.equal("ticket"); // poa serve's default: a ticket at the 0.1 OPEN face value
      await first.exited;
      // "answered": the sequencer never heard of it; "posted": it holds it, unacknowledged by the node.
      expect((await w.api("GET", `/v1/receipts/${id}`)).status).to.equal(crashAt === "answered" ? 404 : 200);
      const second = await serveProcess(dir);
      try {
        await waitFor("the receipt at the sequencer", async () => (await http(second.url, "GET", `/v1/receipts/${id}`)).json.status !== "issued" && (await w.api("GET", `/v1/receipts/${id}`)).status === 200);
        await waitFor("the outbox to drain", async () => (await http(second.url, "GET", "/healthz")).json.payments.receipts.accepted === 1);
        expect(await nextNonce()).to.equal(before + 1n); // one receipt, not two
        expect((await http(second.url, "GET", "/healthz")).json.payments.receipts).to.deep.equal({ issued: 0, bundled: 0, accepted: 1, rejected: 0 });
      } finally {
        second.child.kill("SIGINT");
        await second.exited;
      }
    }
  });

  /** `poa serve` as its own process, on the world's chain and sequencer. */
  async function serveProcess(dir: string, crashAt?: string): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null> }> {
    const port = 24000 + (process.pid % 1000) + (crashAt ? 1 : 2);
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/poa.ts", "serve",
      "--rpc", w.chain.url, "--model-registry", await w.d.modelRegistry.getAddress(), "--rollup", await w.d.rollup.getAddress(), "--instance", INSTANCE,
      "--api", w.svc.url, "--provider-key", provider.privateKey, "--base", "tiny", "--cache-dir", dir, "--port", String(port), "--allow-owners", w.curator.address], {
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "POA_SERVE_CRASH_AT")), ...(crashAt ? { POA_SERVE_CRASH_AT: crashAt } : {}) }, stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`poa serve on ${port} (${log})`, async () => (await fetch(`${url}/healthz`).then((r) => r.ok).catch(() => false)) || undefined, 60_000);
    return { url, child, exited };
  }
});
