// The serving node's money (issue 22): what it pays per answer is its operator's decision, not a
// model owner's, and an answer whose acknowledged receipt the sequencer rejects at sealing is
// neither left unpaid silently nor blocks the node's later receipts. The node's payments side
// (serving/receipts.ts, serving/pricing.ts, serving/outbox.ts) against a real sequencer service,
// real chain and real proofs; receipts are signed with the provider's real Baby Jubjub key.
import { expect } from "chai";
import { Contract, type Wallet } from "ethers";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { signBundle, type Receipt } from "../core/receipt.js";
import type { RegisteredModel } from "../models/registry.js";
import { startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { bjjKey } from "../ops/client.js";
import { deployRollup, type Deployment } from "../ops/deploy.js";
import { startService, type Service } from "../sequencer/service.js";
import { ServeError } from "../serving/adapter-cache.js";
import { DEFAULT_POLICY_LIMITS } from "../serving/pricing.js";
import { inferenceFee, ReceiptIssuer, type ReceiptThread } from "../serving/receipts.js";
import { INSTANCE, OPEN, params } from "./helpers.js";
import { waitFor } from "./lib/http.js";

const model = (over: Partial<RegisteredModel>): RegisteredModel => ({
  id: 2, owner: devWallet(5).address, kind: "adapter", status: "active", registeredAt: 1, contributionCount: 1, parent: 1,
  artifactHash: `0x${"11".repeat(32)}`, configHash: `0x${"22".repeat(32)}`, trainingSetRoot: `0x${"33".repeat(32)}`, metricsHash: `0x${"44".repeat(32)}`,
  pricePer1kTokens: 10n ** 15n, datanets: [1], ...over,
});

const refusal = (f: () => unknown): { status: number; code: string; message: string } => {
  try {
    f();
  } catch (e) {
    if (e instanceof ServeError) return { status: e.status, code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected a refusal");
};

describe("the serving node's money: prices its operator admits, and receipts rejected after acknowledgement", function () {
  let chain: LocalChain;
  let d: Deployment;
  let svc: Service;
  let issuer: ReceiptIssuer;
  let provider: Wallet;
  const contributor = devWallet(6).address;

  before(async () => {
    await initCrypto();
    chain = await startLocalChain(21545 + (process.pid % 1000));
    const deployer = devWallet(0, chain.provider);
    d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address, exitDelay: 200, blocksPerBatch: 2 });
    svc = await startService({
      rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-money-")), "sequencer.db"), port: 0, maxWaitMs: 200, pollMs: 100, proverThreads: 1,
    });
    provider = devWallet(7, chain.provider);
    await (await (d.token.connect(deployer) as Contract).transfer(provider.address, 2n * OPEN)).wait();
    await (await (d.token.connect(provider) as Contract).approve(await d.rollup.getAddress(), 2n * OPEN)).wait();
    const pub = await publicKeyOf(bjjKey(provider));
    await (await (d.rollup.connect(provider) as Contract).deposit(OPEN, pub.ax, pub.ay)).wait();
    const domain = await d.rollup.domain();
    // The receipt thread's signing, in process (the thread is only the transport): the provider's real key.
    const thread = { request: async (r: { receipts: Receipt[] }) => ({ ok: true, id: 0, ms: 0, signature: (await signBundle(bjjKey(provider), r.receipts, params, domain)).signature }), close: async () => 0 } as unknown as ReceiptThread;
    issuer = new ReceiptIssuer({
      sequencerApi: svc.url, providerAddress: provider.address, outboxFile: join(mkdtempSync(join(tmpdir(), "poa-money-outbox-")), "outbox.db"), params, refreshMs: 300,
      ticketFace: 0n, // exact receipts: this file is about receipts rejected after acknowledgement (tickets: serving-tickets.test.ts)
      policy: { owners: [devWallet(5).address], models: [4], ...DEFAULT_POLICY_LIMITS },
    }, thread);
    await waitFor("the provider's balance", async () => issuer.available() === OPEN || undefined);
  });
  after(async () => {
    await issuer?.close(1000);
    await svc?.close();
    await chain?.stop();
  });

  it("a third party's model cannot spend the node's deposit: not on the allow-list, or above the price cap, is refused before any token", () => {
    // The audit's attack: a model registered by an outsider at a price equal to the node's balance per 100 tokens.
    const attacker = model({ id: 9, owner: "0x000000000000000000000000000000000000a77a", pricePer1kTokens: OPEN * 10n });
    expect(refusal(() => issuer.reserve(attacker, 100))).to.deep.equal({ status: 403, code: "model_not_admitted", message: "model 9 (owner 0x000000000000000000000000000000000000a77a) is not on this node's allow-list; its operator serves only the models and owners it chose" });
    // An allowed owner's model priced above the cap per 1,000 tokens is not admitted either.
    const dear = model({ id: 3, pricePer1kTokens: DEFAULT_POLICY_LIMITS.maxPricePer1kTokens + 1n });
    expect(refusal(() => issuer.reserve(dear, 100))).to.include({ status: 403, code: "price_above_cap" });
    // Admitted by id (model 4, another owner) at its price; a request that could cost more than the node's cap per request is refused.
    const listed = model({ id: 4, owner: devWallet(8).address, pricePer1kTokens: DEFAULT_POLICY_LIMITS.maxPricePer1kTokens });
    expect(refusal(() => issuer.reserve(listed, 1001))).to.deep.equal({ status: 402, code: "fee_above_node_cap", message: `this request can cost up to ${inferenceFee(listed.pricePer1kTokens, 1001)} OPEN base units; this node pays at most ${DEFAULT_POLICY_LIMITS.maxFeePerRequest} per request (lower max_tokens)` });
    const r = issuer.reserve(listed, 1000);
    expect([r.fee, r.price]).to.deep.equal([DEFAULT_POLICY_LIMITS.maxFeePerRequest, listed.pricePer1kTokens]);
    issuer.release(r);
    expect(issuer.available()).to.equal(OPEN); // nothing was spent
  });

  it("the price is pinned at admission: an owner's setPrice upward is not charged until the operator accepts it; a lower one is charged at once", () => {
    const m = model({ id: 2, pricePer1kTokens: 10n ** 15n });
    const first = issuer.reserve(m, 100);
    issuer.release(first);
    expect(first.price).to.equal(10n ** 15n);
    const raised = model({ id: 2, pricePer1kTokens: 10n ** 16n }); // the owner's setPrice
    const after = issuer.reserve(raised, 100);
    issuer.release(after);
    expect(after.price).to.equal(10n ** 15n);
    expect(issuer.prices.pendingRaises.get(2)).to.equal(10n ** 16n);
    const lowered = issuer.reserve(model({ id: 2, pricePer1kTokens: 10n ** 14n }), 100);
    issuer.release(lowered);
    expect(lowered.price).to.equal(10n ** 14n);
    issuer.prices.acceptPrice(raised);
    const accepted = issuer.reserve(raised, 100);
    issuer.release(accepted);
    expect(accepted.price).to.equal(10n ** 16n);
    issuer.prices.acceptPrice(m); // back to where it was, for the next test
  });

  it("a client's own fee cap (max_fee) refuses a request that could cost more", () => {
    const m = model({ id: 2 });
    const fee = inferenceFee(10n ** 15n, 200);
    expect(refusal(() => issuer.reserve(m, 200, fee - 1n))).to.deep.equal({ status: 402, code: "fee_above_client_cap", message: `this request can cost up to ${fee} OPEN base units, above its max_fee of ${fee - 1n} (lower max_tokens, or raise max_fee)` });
    issuer.release(issuer.reserve(m, 200, fee));
  });

  it("learns that an acknowledged receipt was rejected at sealing: alerts that the answer is unpaid, renumbers the later one, and that one is finalized", async () => {
    const m = model({ id: 2 });
    await svc.sequencer.stop(); // receipts are acknowledged while nothing is sealed
    const issue = async (tokens: number) => {
      const r = issuer.issue(issuer.reserve(m, tokens), m, "prompt", `answer of ${tokens} tokens`, tokens, new Map([[contributor, 1]]), {});
      await waitFor(`receipt ${r.id.slice(0, 10)}… acknowledged`, async () => issuer.outbox.receipt(r.id)!.status === "accepted" || undefined);
      return r;
    };
    const first = await issue(100);
    const second = await issue(200);
    expect([first.nonce, second.nonce]).to.deep.equal(["0", "1"]);
    // The provider withdraws its whole balance on L1: the batch applies the withdrawal before the bundles, so the
    // first bundle cannot be paid and is rejected, and the second (its nonce follows) with it.
    await (await (d.rollup.connect(provider) as Contract).requestWithdrawal((await issuer.outbox.receipt(first.id))!.receipt.providerIdx)).wait();
    svc.sequencer.start();
    const rejected = await waitFor("the node learns of the rejection", async () => (issuer.outbox.receipt(first.id)!.status === "rejected" ? issuer.outbox.receipt(first.id) : undefined));
    expect(rejected!.error).to.match(/^rejected by the sequencer after acknowledgement: fees \d+ exceed provider \d+'s balance 0$/);
    expect([...issuer.alerts.keys()].some((a) => a.startsWith(`answers unpaid: the sequencer rejected acknowledged receipt ${first.id.slice(0, 10)}… (nonce 0) at sealing: fees`))).to.equal(true);
    const renumbered = issuer.outbox.receipt(second.id)!;
    expect(renumbered.receipt.nonce).to.equal(0n);
    // A new deposit pays for it: the renumbered receipt is posted again and finalized, at the price the client was told.
    await (await (d.rollup.connect(provider) as Contract).deposit(OPEN, 0n, 0n)).wait(); // (0, 0): the key stays
    const final = await waitFor("the renumbered receipt finalized", async () => {
      const view = await fetch(`${svc.url}/v1/receipts/${issuer.outbox.receipt(second.id)!.hash}`).then((r) => r.json());
      return view.status === "finalized" ? view : undefined;
    });
    expect(final.status).to.equal("finalized");
    expect(BigInt(issuer.outbox.receipt(second.id)!.receipt.fee)).to.equal(inferenceFee(10n ** 15n, 200));
    const split = payout(inferenceFee(10n ** 15n, 200), [1n], params);
    const credited = BigInt((await fetch(`${svc.url}/v1/accounts/${contributor}`).then((r) => r.json())).balance);
    expect(credited).to.equal(split.shares[0]);
    await waitFor("the node settles it", async () => issuer.outbox.unsettled(16).length === 0 || undefined);
  });
});
