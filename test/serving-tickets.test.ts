// The serving node pays by ticket (issue 24, docs/PROTOCOL.md §16): each answer
// cheaper than the node's target face value is a ticket of probability 2^-k
// whose expected value is the answer's fee to the unit; dearer answers are exact
// receipts. The node's payments side (serving/receipts.ts, serving/outbox.ts)
// against a real sequencer service, real chain and real proofs, with the
// provider's real Baby Jubjub key; the crash path (kill -9 between answering and
// posting) runs the whole node in openlora-payments.test.ts.
import { expect } from "chai";
import { Contract, type Wallet } from "ethers";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { signBundle, type Receipt } from "../core/receipt.js";
import { POOL_ADDRESS, signTicketBundle, type TicketBundle } from "../core/ticket.js";
import type { RegisteredModel } from "../models/registry.js";
import { startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { bjjKey } from "../ops/client.js";
import { deployRollup, type Deployment } from "../ops/deploy.js";
import { startService, type Service } from "../sequencer/service.js";
import type { TicketView } from "../sequencer/tickets.js";
import { DEFAULT_POLICY_LIMITS } from "../serving/pricing.js";
import { inferenceFee, ReceiptIssuer, type IssuedReceipt, type ReceiptThread } from "../serving/receipts.js";
import { INSTANCE, OPEN, params } from "./helpers.js";
import { waitFor } from "./lib/http.js";

const PRICE = 10n ** 15n; // per 1,000 tokens
const model: RegisteredModel = {
  id: 2, owner: devWallet(5).address, kind: "adapter", status: "active", registeredAt: 1, contributionCount: 1, parent: 1,
  artifactHash: `0x${"11".repeat(32)}`, configHash: `0x${"22".repeat(32)}`, trainingSetRoot: `0x${"33".repeat(32)}`, metricsHash: `0x${"44".repeat(32)}`,
  pricePer1kTokens: PRICE, datanets: [1],
};

describe("the serving node pays by ticket: probability 2^-k at a target face value, exact receipts above it", function () {
  let chain: LocalChain;
  let d: Deployment;
  let svc: Service;
  let issuer: ReceiptIssuer;
  let provider: Wallet;
  const contributor = devWallet(6).address;
  const FACE = 4n * inferenceFee(PRICE, 100); // answers of 100 tokens: tickets at p = 1/4

  before(async () => {
    await initCrypto();
    chain = await startLocalChain(22545 + (process.pid % 1000));
    const deployer = devWallet(0, chain.provider);
    d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address });
    svc = await startService({
      rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-tk-")), "sequencer.db"), port: 0, maxWaitMs: 200, pollMs: 100, proverThreads: 1,
    });
    provider = devWallet(7, chain.provider);
    await (await (d.token.connect(deployer) as Contract).transfer(provider.address, OPEN)).wait();
    await (await (d.token.connect(provider) as Contract).approve(await d.rollup.getAddress(), OPEN)).wait();
    const pub = await publicKeyOf(bjjKey(provider));
    await (await (d.rollup.connect(provider) as Contract).deposit(OPEN, pub.ax, pub.ay)).wait();
    const domain = await d.rollup.domain();
    // The receipt thread's signing, in process (the thread is only the transport): the provider's real key.
    const thread = {
      request: async (r: { type: string; receipts?: Receipt[]; bundle?: TicketBundle }) => {
        const t0 = performance.now();
        const signature = r.type === "signTickets" ? (await signTicketBundle(bjjKey(provider), r.bundle!, params, 2, domain)).signature : (await signBundle(bjjKey(provider), r.receipts!, params, domain)).signature;
        return { ok: true, id: 0, ms: performance.now() - t0, signature };
      },
      close: async () => 0,
    } as unknown as ReceiptThread;
    issuer = new ReceiptIssuer({
      sequencerApi: svc.url, providerAddress: provider.address, outboxFile: join(mkdtempSync(join(tmpdir(), "poa-tk-outbox-")), "outbox.db"), params, refreshMs: 300,
      ticketFace: FACE, ticketBundleWaitMs: 300, policy: { owners: [model.owner], ...DEFAULT_POLICY_LIMITS },
    }, thread);
    await waitFor("the provider's balance", async () => issuer.available() === OPEN || undefined);
  });
  after(async () => {
    await issuer?.close(1000);
    await svc?.close();
    await chain?.stop();
  });

  const answer = (tokens: number): IssuedReceipt => issuer.issue(issuer.reserve(model, tokens), model, "prompt", `answer ${tokens}`, tokens, new Map([[contributor, 1]]), {});

  it("issues tickets worth each answer's fee to the unit, bundles them apart from an exact receipt, and follows each to its outcome", async () => {
    const fee = inferenceFee(PRICE, 100);
    const first = Array.from({ length: 6 }, () => answer(100));
    // An answer whose fee reaches the face value is an exact receipt, between the tickets.
    const dear = answer(400);
    const after = Array.from({ length: 5 }, () => answer(100));
    expect(first[0]).to.deep.include({ kind: "ticket", fee: fee.toString(), ticket: { winProb: (2n ** 30n).toString(), probability: 0.25, face: (4n * fee).toString() } });
    expect([dear.kind, dear.fee, dear.ticket]).to.deep.equal(["receipt", inferenceFee(PRICE, 400).toString(), undefined]);
    expect([...first, dear, ...after].map((r) => r.nonce)).to.deep.equal(Array.from({ length: 12 }, (_, i) => String(i)));
    // What the answers cost the deposit is their fees, not their face values.
    expect(issuer.available()).to.equal(OPEN - 11n * fee - inferenceFee(PRICE, 400));

    const tickets = [...first, ...after];
    // A winner is paid face less the protocol's 5% from the pool, which holds what the bundles paid in
    // (their fees): one that the pool cannot pay yet waits (PROTOCOL §16.4). Settled: both bundles
    // committed on L1, every ticket decided, every winner paid and final or waiting on the pool.
    const cost = 4n * fee - (4n * fee * 500n) / 10000n;
    const poolBalance = async () => BigInt((await fetch(`${svc.url}/v1/accounts/0x${POOL_ADDRESS.toString(16)}`).then((r) => r.json())).balance ?? 0);
    const final = await waitFor("every ticket decided under its beacon, every payable winner paid", async () => {
      const views = (await Promise.all(tickets.map(async (t) => ((await issuer.view(t.id)) as { sequencer: TicketView | null }).sequencer)));
      if (views.some((v) => !v || v.status !== "finalized" || v.outcome === "pending")) return undefined;
      const pool = await poolBalance();
      const settled = views.every((v) => v!.outcome === "lost" || (v!.paidIn !== null ? v!.paidStatus === "finalized" : pool < cost));
      return settled ? views.map((v) => v!) : undefined;
    });
    // Two ticket bundles (before and after the exact receipt), each committed by its own batch.
    expect(new Set(final.map((v) => v.bundle)).size).to.equal(2);
    expect(final.every((v) => v.kind === "ticket" && v.face === (4n * fee).toString() && v.expectedValue === fee.toString())).to.equal(true);
    const dearView = (await issuer.view(dear.id)) as { status: string };
    expect(dearView.status).to.equal("finalized");
    // The contributor holds exactly its shares of the exact receipt and of every paid winner at face value.
    const share = (f: bigint) => f - (f * 500n) / 10000n - (f * 2000n) / 10000n;
    const won = final.filter((v) => v.paidIn !== null).length;
    const acct = await fetch(`${svc.url}/v1/accounts/${contributor}`).then((r) => r.json());
    expect(BigInt(acct.balance)).to.equal(share(inferenceFee(PRICE, 400)) + BigInt(won) * share(4n * fee));
    expect(await poolBalance()).to.equal(11n * fee - BigInt(won) * cost);
    // Winners are paid in index order within a bundle: a paid winner never follows an unpaid one.
    for (const b of new Set(final.map((v) => v.bundle))) {
      const wins = final.filter((v) => v.bundle === b && v.outcome === "won");
      expect(wins.map((v) => v.paidIn !== null)).to.deep.equal(wins.map((_, i) => i < wins.filter((v) => v.paidIn !== null).length));
    }
    await waitFor("the node settles everything", async () => issuer.outbox.unsettled(16).length === 0 || undefined);
  });

  it("fills its next ticket bundle while the previous one waits for a batch: never two of its bundles wait at the sequencer", async () => {
    // An answer every 250 ms for 3 s against bundles that go after 300 ms: without the hold, about ten small
    // bundles would queue for the batches' single commit record while each batch is proved. (A full bundle,
    // 16 tickets here, goes at once: these 12 never fill one.)
    const store = svc.sequencer.store;
    const ours = async () => (await store.pendingTicketBundles()).length; // the node's provider is the only one here
    let most = 0, polling = true;
    const poll = (async () => {
      while (polling) {
        most = Math.max(most, await ours());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const bundlesBefore = (await store.committedTicketBundles()).length + (await store.pendingTicketBundles()).length;
    const issued: IssuedReceipt[] = [];
    for (let i = 0; i < 12; i++) {
      issued.push(answer(100));
      await new Promise((r) => setTimeout(r, 250));
    }
    await waitFor("every ticket committed by a batch", async () => {
      const views = await Promise.all(issued.map(async (t) => ((await issuer.view(t.id)) as { sequencer: TicketView | null }).sequencer));
      return views.every((v) => v && v.batch !== null) ? views : undefined;
    });
    polling = false;
    await poll;
    expect(most).to.equal(1);
    const bundles = (await store.committedTicketBundles()).length + (await store.pendingTicketBundles()).length - bundlesBefore;
    // Each bundle went once the previous was in a batch, so the 12 tickets took fewer bundles than ten.
    expect(bundles).to.be.within(1, 6);
    expect(issuer.work.ticket.hash).to.be.greaterThan(0);
    expect(issuer.work.ticket.sign).to.be.greaterThan(0);
  });
});
