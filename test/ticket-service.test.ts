// Payment tickets through the sequencer service (docs/PROTOCOL.md §16): a real
// `hardhat node`, real HTTP, a real database file, real prover threads and real
// proofs on L1. A provider posts a ticket bundle and an exact receipt after it;
// the sequencer commits the bundle, has its beacon recorded in a later block,
// and pays every winner the pool can pay at face value by the payout rule;
// GET /v1/receipts/{id} follows each ticket to its outcome and the batch that
// paid it. Bad ticket bundles are refused with named reasons.
import { expect } from "chai";
import { Contract, type Wallet } from "ethers";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { signBundle } from "../core/receipt.js";
import { POOL_ADDRESS, signTicketBundle, ticketFor, winners, type SignedTicketBundle } from "../core/ticket.js";
import { startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { deployRollup, type Deployment } from "../ops/deploy.js";
import { bundleToJson, ticketBundleToJson } from "../sequencer/schemas.js";
import { startService, type Service } from "../sequencer/service.js";
import { ticketsFillBatch, winnerOutflow, type TicketView } from "../sequencer/tickets.js";
import { INSTANCE, OPEN, params, privateKey } from "./helpers.js";
import { http, waitFor } from "./lib/http.js";

const FEE = 10n ** 15n;
const K = params.entries;

describe("tickets through the sequencer service: accepted, committed, decided on L1, winners paid (real chain, real proofs)", function () {
  let chain: LocalChain;
  let d: Deployment;
  let svc: Service;
  let deployer: Wallet, alice: Wallet, c1: Wallet, c2: Wallet, owner: Wallet;
  const key = privateKey(21);
  let domain: bigint;
  let idx: number;
  const api = (method: string, path: string, body?: unknown) => http(svc.url, method, path, body);

  before(async () => {
    await initCrypto();
    chain = await startLocalChain(19545 + (process.pid % 1000));
    [deployer, , alice, c1, c2, owner] = [0, 1, 2, 3, 4, 5].map((i) => devWallet(i, chain.provider));
    d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address });
    domain = await d.rollup.domain();
    svc = await startService({
      rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-")), "sequencer.db"), port: 0, maxWaitMs: 300, pollMs: 100, proverThreads: 1, admission: { minFee: 1n },
    });
    const pub = await publicKeyOf(key);
    await (await (d.token.connect(deployer) as Contract).transfer(alice.address, 10n * OPEN)).wait();
    await (await (d.token.connect(alice) as Contract).approve(await d.rollup.getAddress(), 10n * OPEN)).wait();
    await (await (d.rollup.connect(alice) as Contract).deposit(10n * OPEN, pub.ax, pub.ay)).wait();
    idx = await waitFor("alice's account", async () => (await api("GET", `/v1/accounts/${alice.address}`)).json.index as number | undefined);
  });

  after(async () => {
    await svc?.close();
    await chain?.stop();
  });

  const ticketsAt = async (firstNonce: bigint, n: number, k = 2, signer = key, dom = domain): Promise<SignedTicketBundle> => {
    const tickets = Array.from({ length: n }, (_, j) => ticketFor({
      providerIdx: idx, owner: BigInt(owner.address), fee: FEE, nonce: firstNonce + BigInt(j), inputHash: BigInt(700 + j), outputHash: BigInt(800 + j),
      entries: [{ contributor: BigInt(c1.address), score: 1n + BigInt(j % 3) }, { contributor: BigInt(c2.address), score: 2n }],
    }, k));
    return signTicketBundle(signer, { providerIdx: idx, firstNonce, tickets }, params, 2, dom);
  };

  it("refuses ticket bundles that are malformed, mis-signed, for another deployment, at a used or skipped nonce, or unaffordable", async () => {
    const good = await ticketsAt(0n, 4);
    const json = ticketBundleToJson(good) as { tickets: { winProb: string }[] };
    const bad = await api("POST", "/v1/ticket-bundles", { ...json, tickets: json.tickets.map((t) => ({ ...t, winProb: "0" })) });
    expect([bad.status, bad.json.error.code]).to.deep.equal([400, "invalid_body"]);
    expect(bad.json.error.message).to.contain("tickets.0.winProb: winProb must be at least 1");
    const tooMany = await api("POST", "/v1/ticket-bundles", { ...json, tickets: Array(17).fill(json.tickets[0]) });
    expect(tooMany.json.error.message).to.contain("at most 16 tickets per bundle");
    const wrongKey = await api("POST", "/v1/ticket-bundles", ticketBundleToJson(await ticketsAt(0n, 4, 2, privateKey(99))));
    expect([wrongKey.status, wrongKey.json.error.code]).to.deep.equal([401, "bad_signature"]);
    const otherDeployment = await api("POST", "/v1/ticket-bundles", ticketBundleToJson(await ticketsAt(0n, 4, 2, key, domain + 1n)));
    expect([otherDeployment.status, otherDeployment.json.error.code]).to.deep.equal([401, "bad_signature"]);
    const skipped = await api("POST", "/v1/ticket-bundles", ticketBundleToJson(await ticketsAt(3n, 4)));
    expect([skipped.status, skipped.json.error.code]).to.deep.equal([409, "nonce_skipped"]);
    // 16 tickets worth 1 OPEN each in expectation: more than the 10 OPEN deposited.
    const rich = await signTicketBundle(key, { providerIdx: idx, firstNonce: 0n, tickets: (await ticketsAt(0n, 16)).tickets.map((t) => ({ ...t, receipt: { ...t.receipt, fee: 4n * OPEN } })) }, params, 2, domain);
    const poor = await api("POST", "/v1/ticket-bundles", ticketBundleToJson(rich));
    expect([poor.status, poor.json.error.code]).to.deep.equal([422, "insufficient_balance"]);
    expect(poor.json.error.message).to.contain(`the tickets' expected value ${16n * OPEN}`);
  });

  it("commits a bundle beside a later exact receipt, decides it under the L1 beacon and pays the winners the pool can pay", async () => {
    const bundle = await ticketsAt(0n, 16);
    const first = await api("POST", "/v1/ticket-bundles", ticketBundleToJson(bundle));
    expect(first.status).to.equal(202);
    expect(first.json.rootSum).to.equal((16n * FEE).toString());
    expect(first.json.tickets.map((t: TicketView) => [t.status, t.outcome, t.expectedValue, t.face])).to.deep.equal(Array(16).fill(["accepted", "pending", FEE.toString(), (4n * FEE).toString()]));
    const again = await api("POST", "/v1/ticket-bundles", ticketBundleToJson(bundle));
    expect([again.status, again.json.ticketBundle]).to.deep.equal([200, first.json.ticketBundle]);
    // The used nonces are refused for new tickets, and the exact receipt follows at nonce 16.
    const replay = await api("POST", "/v1/ticket-bundles", ticketBundleToJson(await ticketsAt(0n, 2)));
    expect([replay.status, replay.json.error.code]).to.deep.equal([409, "nonce_replayed"]);
    const exact = await signBundle(key, [{ providerIdx: idx, owner: BigInt(owner.address), fee: FEE, nonce: 16n, inputHash: 1n, outputHash: 2n, entries: [{ contributor: BigInt(c1.address), score: 1n }] }], params, domain);
    const ex = await api("POST", "/v1/bundles", bundleToJson(exact));
    expect(ex.status).to.equal(202);

    const ids: string[] = first.json.tickets.map((t: TicketView) => t.id);
    const decided = await waitFor("the tickets' beacon", async () => {
      const v = (await api("GET", `/v1/receipts/${ids[0]}`)).json as TicketView;
      return v.outcome !== "pending" ? v : undefined;
    });
    const beacon = BigInt(decided.beacon!);
    expect(beacon).to.equal(await d.rollup.beacon(decided.batch! - 1));
    const wins = winners(bundle, K, beacon);
    // The pool holds the bundle's 16 fees; winners take face less the protocol's 5%, in index order, while it lasts.
    const cost = winnerOutflow(bundle.tickets[0], params);
    const payable = wins.slice(0, Number((16n * FEE) / cost));
    const views = await waitFor("every payable winner paid and final", async () => {
      const vs = await Promise.all(ids.map(async (id) => (await api("GET", `/v1/receipts/${id}`)).json as TicketView));
      return payable.every((j) => vs[j].paidStatus === "finalized") ? vs : undefined;
    });
    expect(views.map((v) => v.outcome)).to.deep.equal(ids.map((_, j) => (wins.includes(j) ? "won" : "lost")));
    expect(views.map((v) => v.paidIn !== null)).to.deep.equal(ids.map((_, j) => payable.includes(j)));
    await waitFor("the exact receipt final", async () => ((await api("GET", `/v1/receipts/${ex.json.receipts[0].id}`)).json.status === "finalized" ? true : undefined));

    // Contributors hold exactly the payout rule on the paid winners' face values, plus the exact receipt's share.
    const expected = new Map<string, bigint>([[c1.address, payout(FEE, [1n], params).shares[0]], [c2.address, 0n]]);
    for (const j of payable) {
      const r = bundle.tickets[j].receipt;
      const pay = payout(r.fee, r.entries.map((e) => e.score), params);
      expected.set(c1.address, expected.get(c1.address)! + pay.shares[0]);
      expected.set(c2.address, expected.get(c2.address)! + pay.shares[1]);
    }
    for (const [a, v] of expected) {
      const acct = await api("GET", `/v1/accounts/${a}`);
      expect(BigInt(acct.status === 404 ? 0 : acct.json.balance), `balance of ${a}`).to.equal(v);
    }
    const pool = await api("GET", `/v1/accounts/0x${POOL_ADDRESS.toString(16)}`);
    expect(BigInt(pool.json.balance)).to.equal(16n * FEE - BigInt(payable.length) * cost);
    const provider = await api("GET", `/v1/accounts/${alice.address}`);
    expect([BigInt(provider.json.balance), provider.json.nonce]).to.deep.equal([10n * OPEN - 16n * FEE - FEE, "17"]);
  });
});

describe("tickets in a nearly full state tree: winners never take a depositor's leaf, and nothing empty is sealed", function () {
  let chain: LocalChain;
  let d: Deployment;
  let svc: Service;
  const key = privateKey(22);
  const api = (method: string, path: string, body?: unknown) => http(svc.url, method, path, body);

  before(async () => {
    await initCrypto();
    chain = await startLocalChain(19645 + (process.pid % 1000));
    const deployer = devWallet(0, chain.provider);
    // 64 leaves: the treasury's, 57 kept for depositors, 6 for credits, bundle leaves and the pool.
    d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address, maxDepositors: 57 });
    svc = await startService({
      rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-")), "sequencer.db"), port: 0, maxWaitMs: 300, pollMs: 100, proverThreads: 1, admission: { minFee: 1n },
    });
  });
  after(async () => {
    await svc?.close();
    await chain?.stop();
  });

  it("pays the winners whose new accounts fit the credit leaves, keeps the rest waiting, and a new depositor still gets a leaf", async () => {
    const alice = devWallet(2, chain.provider), late = devWallet(3, chain.provider);
    const deposit = async (w: Wallet, k?: Uint8Array) => {
      const pub = k ? await publicKeyOf(k) : { ax: 0n, ay: 0n };
      await (await (d.token.connect(devWallet(0, chain.provider)) as Contract).transfer(w.address, OPEN)).wait();
      await (await (d.token.connect(w) as Contract).approve(await d.rollup.getAddress(), OPEN)).wait();
      await (await (d.rollup.connect(w) as Contract).deposit(OPEN, pub.ax, pub.ay)).wait();
    };
    await deposit(alice, key);
    const idx = await waitFor("alice's account", async () => (await api("GET", `/v1/accounts/${alice.address}`)).json.index as number | undefined);
    // Every ticket credits a contributor of its own and an owner of its own: each winner needs two new leaves.
    const tickets = Array.from({ length: 16 }, (_, j) => ticketFor({
      providerIdx: idx, owner: 0xd000n + BigInt(j), fee: FEE, nonce: BigInt(j), inputHash: BigInt(j), outputHash: 1n, entries: [{ contributor: 0xc000n + BigInt(j), score: 1n }],
    }, 1));
    const bundle = await signTicketBundle(key, { providerIdx: idx, firstNonce: 0n, tickets }, params, 2, await d.rollup.domain());
    const posted = await api("POST", "/v1/ticket-bundles", ticketBundleToJson(bundle));
    expect(posted.status, JSON.stringify(posted.json)).to.equal(202);
    const ids: string[] = posted.json.tickets.map((t: TicketView) => t.id);
    const decided = await waitFor("the tickets decided", async () => {
      const v = (await api("GET", `/v1/receipts/${ids[0]}`)).json as TicketView;
      return v.outcome !== "pending" ? v : undefined;
    });
    const wins = winners(bundle, K, BigInt(decided.beacon!));
    // Credit leaves: 6, less the bundle's leaf and the pool's: 4, so two winners of two new accounts each (p = 1/2: the pool pays them).
    const payable = Math.min(wins.length, 2);
    await waitFor("the payable winners final", async () => {
      const vs = await Promise.all(wins.slice(0, payable).map(async (j) => (await api("GET", `/v1/receipts/${ids[j]}`)).json as TicketView));
      return vs.every((v) => v.paidStatus === "finalized") || undefined;
    });
    const settled = Number(await d.rollup.batchCount());
    await new Promise((r) => setTimeout(r, 3000));
    expect(Number(await d.rollup.batchCount()), "no batch is sealed for winners that cannot fit").to.equal(settled);
    const views = await Promise.all(wins.map(async (j) => (await api("GET", `/v1/receipts/${ids[j]}`)).json as TicketView));
    expect(views.map((v) => v.paidIn !== null)).to.deep.equal(wins.map((_, i) => i < payable));
    // A depositor that arrives now still gets a leaf of its own.
    await deposit(late);
    const leaf = await waitFor("the late depositor's account", async () => (await api("GET", `/v1/accounts/${late.address}`)).json.index as number | undefined);
    expect(BigInt((await api("GET", `/v1/accounts/${leaf}`)).json.balance)).to.equal(OPEN);
  });
});

describe("sealing ticket work: commits and winners fill a batch together (sequencer/tickets.ts ticketsFillBatch)", function () {
  const shape = { commits: 2, winners: 4 };
  const fill = (commitsWaiting: number, winnersDue: number, moreWinners: boolean, awaiting: boolean) =>
    ticketsFillBatch(shape, { commitsWaiting, winnersDue, moreWinners, awaitingBeacon: async () => awaiting });

  it("seals when both kinds fill their records, or more winners are due than fit", async () => {
    expect(await fill(2, 4, false, true)).to.equal(true);
    expect(await fill(2, 3, true, true)).to.equal(true);
  });

  it("waits for winners while a sealed batch awaits its beacon, and not when none can come", async () => {
    expect(await fill(2, 0, false, true)).to.equal(false);
    expect(await fill(2, 3, false, true)).to.equal(false);
    expect(await fill(2, 3, false, false)).to.equal(true);
    expect(await fill(3, 0, false, false)).to.equal(true);
  });

  it("waits for commits when winners are full (providers may post any time)", async () => {
    expect(await fill(0, 4, false, false)).to.equal(false);
    expect(await fill(1, 4, true, false)).to.equal(false);
  });

  it("does not wait when commits are backlogged (twice a batch's records)", async () => {
    expect(await fill(4, 0, false, true)).to.equal(true);
  });

  it("is not full with neither kind full", async () => {
    expect(await fill(1, 3, false, false)).to.equal(false);
    expect(await fill(0, 0, false, true)).to.equal(false);
  });
});
