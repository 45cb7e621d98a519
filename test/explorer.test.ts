// The explorer in a real browser (Debian's chromium, playwright-core) against
// the real service, prover and chain: the overview, a batch page whose roots
// and credits are the API's and whose in-browser Groth16 check says valid (and
// invalid once the proof read from L1 is tampered with), a receipt whose
// timeline advances live while its batch is proved, and clear messages for
// unknown ids and bad addresses. Screenshots at desktop and phone width go to
// test-output/screenshots/.
import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { formatUnits, type Contract } from "ethers";
import type { BrowserContext, Page } from "playwright-core";
import { receiptEntries, signAttributed, type Inference } from "../attribution/receipts.js";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { bjjKey } from "../ops/client.js";
import { bundleToJson, ticketBundleToJson } from "../sequencer/schemas.js";
import { signTicketBundle, ticketFor } from "../core/ticket.js";
import { winnerOutflow, type TicketView } from "../sequencer/tickets.js";
import { replayL1 } from "../sequencer/validator.js";
import { INSTANCE, OPEN, params } from "./helpers.js";
import { launchChromium, SCREENSHOTS } from "../ops/browser.js";
import { startFactoryWorld, type FactoryWorld } from "./lib/factory-world.js";
import { waitFor } from "./lib/http.js";

describe("explorer in a real browser", function () {
  let w: FactoryWorld;
  let browser: BrowserContext | null;
  let page: Page;
  let providerIdx: number;
  let nonce = 0n;
  const errors: string[] = [];
  const provider = () => devWallet(8, w.chain.provider);
  const shots = async (name: string) => {
    await page.screenshot({ path: join(SCREENSHOTS, `explorer-${name}-desktop.png`), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, `explorer-${name}-phone.png`), fullPage: true });
    await page.setViewportSize({ width: 1200, height: 900 });
  };
  /** Signs and posts a bundle of receipts from the provider (dev account 8) crediting the logbook's contributors. */
  const submit = async (fees: bigint[]): Promise<string[]> => {
    const domain = BigInt(await w.d.rollup.domain());
    const [c0, c1] = w.contributors.map((c) => c.address);
    const infs: Inference[] = fees.map((fee, j) => ({ providerIdx, owner: w.curator.address, fee, nonce: nonce + BigInt(j), input: `q${nonce + BigInt(j)}`, output: `a${j}`, scores: new Map([[c0, 3], [c1, 1]]) }));
    nonce += BigInt(fees.length);
    // Declared with the receipts: each contributor's share stands for one logbook contribution (datanet 1).
    const meta = fees.map(() => ({ contributions: [{ contributor: c0.toLowerCase(), contribution: 1, datanet: 1, weight: 1 }, { contributor: c1.toLowerCase(), contribution: 2, datanet: 1, weight: 1 }] }));
    const r = await w.api("POST", "/v1/bundles", { ...(bundleToJson(await signAttributed(bjjKey(provider()), infs, params, domain)) as object), meta });
    expect(r.status, JSON.stringify(r.json)).to.equal(202);
    return r.json.receipts.map((x: { id: string }) => x.id);
  };

  before(async function () {
    browser = await launchChromium();
    if (!browser) return this.skip();
    mkdirSync(SCREENSHOTS, { recursive: true });
    await initCrypto();
    w = await startFactoryWorld(25545 + (process.pid % 1000));
    const p = provider(), deployer = devWallet(0, w.chain.provider);
    await (await (w.d.token.connect(deployer) as Contract).transfer(p.address, 10n * OPEN)).wait();
    await (await (w.d.token.connect(p) as Contract).approve(await w.d.rollup.getAddress(), 10n * OPEN)).wait();
    const pub = await publicKeyOf(bjjKey(p));
    await (await (w.d.rollup.connect(p) as Contract).deposit(10n * OPEN, pub.ax, pub.ay)).wait();
    providerIdx = (await waitFor("the provider's account", async () => {
      const r = await w.api("GET", `/v1/accounts/${p.address}`);
      return r.status === 200 ? r.json : undefined;
    })).index;
    page = await browser.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
  });
  after(async () => {
    await browser?.close();
    await w?.stop();
  });

  it("a batch page shows the API's roots and credits, and its in-browser proof check says valid; a tampered proof says invalid", async () => {
    const [id] = await submit([OPEN, OPEN / 2n]);
    const receipt = await waitFor("the receipt's batch on L1", async () => {
      const r = await w.api("GET", `/v1/receipts/${id}`);
      return r.json.status === "finalized" ? r.json : undefined;
    });
    const n = receipt.batch as number;
    const api = (await w.api("GET", `/v1/batches/${n}`)).json;
    const decoded = (await w.api("GET", `/v1/batches/${n}/decoded`)).json;
    // The decoded credits are the payout rule's: each contributor's shares over the two receipts, the owner's total, the treasury's protocol fee.
    const [c0, c1] = w.contributors.map((c) => c.address.toLowerCase());
    const expected = new Map<string, bigint>();
    const add = (a: string, v: bigint) => expected.set(a, (expected.get(a) ?? 0n) + v);
    for (const fee of [OPEN, OPEN / 2n]) {
      const entries = receiptEntries(new Map([[c0, 3], [c1, 1]]), params);
      const p = payout(fee, entries.map((e) => e.score), params);
      add(c0, p.shares[0]);
      add(c1, p.shares[1]);
      add(w.curator.address.toLowerCase(), p.ownerTotal);
      add(devWallet(0).address.toLowerCase(), p.protocol);
    }
    expect(new Map(decoded.credits.map((c: { address: string; amount: string }) => [c.address, BigInt(c.amount)]))).to.deep.equal(expected);

    await page.goto(`${w.svc.url}/app/#/explorer`);
    await page.waitForSelector("#batches");
    expect(await page.textContent("#trust")).to.contain("Development setup");
    expect(await page.locator(`#batches a[href="#/batches/${n}"]`).count()).to.equal(1);
    await shots("overview");

    await page.goto(`${w.svc.url}/app/#/batches/${n}`);
    await page.waitForSelector("#new-root");
    expect(await page.textContent("#old-root")).to.equal(api.oldRoot);
    expect(await page.textContent("#new-root")).to.equal(api.newRoot);
    const rows = await page.locator("#credits tbody tr").evaluateAll((trs) => trs.map((tr) => [tr.children[1].textContent, tr.children[2].getAttribute("data-units")]));
    expect(rows).to.deep.equal(decoded.credits.map((c: { address: string; amount: string }) => [c.address, c.amount]));
    // The proof the browser checks is the native prover's (the service's default), and the page says so.
    expect(api.proofAttempts.map((a: { prover: string; outcome: string }) => [a.prover, a.outcome])).to.deep.equal([["native", "proved"]]);
    expect(await page.textContent("#proof-attempts")).to.contain("native prover · proved");
    await page.click("#verify");
    await page.waitForSelector("#verify-result.valid", { timeout: 60_000 });
    expect(await page.textContent("#verify-result")).to.contain("valid: the proof verifies against L1's data");
    await shots("batch");

    // The same check, with one word of the proof changed in the transaction the page reads from L1.
    await page.route(w.chain.url, async (route) => {
      const body = route.request().postDataJSON();
      if (body?.method !== "eth_getTransactionByHash") return route.continue();
      const res = await route.fetch();
      const json = await res.json();
      const input: string = json.result.input;
      const at = 10 + 64 * 3; // the first proof word: selector, newRoot, opsConsumed, offset
      const flipped = (BigInt(`0x${input.slice(at, at + 64)}`) + 1n).toString(16).padStart(64, "0");
      json.result.input = input.slice(0, at) + flipped + input.slice(at + 64);
      await route.fulfill({ response: res, json });
    });
    await page.reload();
    await page.waitForSelector("#verify");
    await page.click("#verify");
    await page.waitForSelector("#verify-result.invalid, #verify-result.error", { timeout: 60_000 });
    expect(await page.getAttribute("#verify-result", "class")).to.contain("invalid");
    await page.unroute(w.chain.url);
  });

  it("a receipt's timeline advances live while its batch is proved", async () => {
    const [id] = await submit([OPEN / 4n]);
    await page.goto(`${w.svc.url}/app/#/receipts/${id}`);
    await page.waitForSelector("#timeline li");
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1)); // a reload would drop it
    const seen: string[] = [];
    const lengths = new Set<number>(); // how many statuses the page showed at each look
    await waitFor("the finalized status on the page", async () => {
      const statuses = await page.locator("#timeline li").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-status")!));
      lengths.add(statuses.length);
      if (statuses.join() !== seen.join()) seen.splice(0, seen.length, ...statuses);
      return statuses.includes("finalized");
    });
    // It grew while the page stayed open (no reload: the marker survived).
    expect(lengths.size).to.be.greaterThan(2);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).to.equal(1);
    expect(seen).to.deep.equal(["accepted", "batched", "proving", "proved", "submitted", "finalized"]);
    expect(await page.textContent("#receipt-status")).to.equal("finalized");
    const api = (await w.api("GET", `/v1/receipts/${id}`)).json;
    expect(await page.textContent("#split")).to.contain(`contributors `);
    expect(api.entries.map((e: { paid: string }) => BigInt(e.paid)).reduce((a: bigint, b: bigint) => a + b, 0n)).to.equal(BigInt(api.split.contributors));
    await shots("receipt");
  });

  it("a contributor withdraws with an injected EIP-1193 wallet: request, inclusion, claim; the page and the chain agree to the unit", async () => {
    const who = w.contributors[0].connect(w.chain.provider);
    const wallet = await browser!.newPage();
    wallet.on("pageerror", (e) => errors.push(e.message));
    // The wallet: an EIP-1193 provider in the page whose accounts and signatures are the Hardhat dev key's, held by the test.
    await wallet.exposeFunction("__wallet", async (method: string, params: unknown[]) => {
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [who.address];
      if (method === "eth_sendTransaction") {
        const tx = params[0] as { to: string; data: string; from: string };
        if (tx.from.toLowerCase() !== who.address.toLowerCase()) throw new Error(`the wallet holds ${who.address}, not ${tx.from}`);
        return (await who.sendTransaction({ to: tx.to, data: tx.data })).hash;
      }
      return w.chain.provider.send(method, params);
    });
    // A string, not a function: tsx's transpiled functions reference helpers the page does not have.
    await wallet.addInitScript({ content: "window.ethereum = { request: ({ method, params }) => window.__wallet(method, params ?? []) };" });
    await wallet.goto(`${w.svc.url}/app/#/accounts/${who.address}`);
    await wallet.waitForSelector("#balance");
    const balance = BigInt((await wallet.getAttribute("#balance", "data-units"))!);
    expect(balance).to.equal(BigInt((await w.api("GET", `/v1/accounts/${who.address}`)).json.balance));
    expect(balance > 0n).to.equal(true);
    expect(BigInt((await wallet.getAttribute("#earned", "data-units"))!)).to.equal(BigInt((await w.api("GET", `/v1/accounts/${who.address}/earnings`)).json.total));
    await wallet.click("#connect");
    await wallet.click("#request");
    const states: string[] = [];
    await waitFor("the withdrawal to be claimable", async () => {
      const s = (await wallet.getAttribute("#withdraw-state", "data-state"))!;
      if (states.at(-1) !== s) states.push(s);
      return s === "claimable";
    });
    expect(states).to.include("requested");
    expect(BigInt((await wallet.getAttribute("#claimable", "data-units"))!)).to.equal(balance);
    expect(BigInt(await w.d.rollup.claimable(who.address))).to.equal(balance);
    await wallet.screenshot({ path: join(SCREENSHOTS, "explorer-account-desktop.png"), fullPage: true });
    const held = BigInt(await w.d.token.balanceOf(who.address));
    await wallet.click("#claim");
    await wallet.waitForSelector('#withdraw-state[data-state="claimed"]', { timeout: 60_000 });
    expect(BigInt(await w.d.token.balanceOf(who.address)) - held).to.equal(balance);
    expect(await wallet.textContent("#withdraw-state")).to.contain(`claimed ${formatUnits(balance, 18).replace(/\.0$/, "")} OPEN`);
    expect(BigInt(await w.d.rollup.claimable(who.address))).to.equal(0n);
    await wallet.setViewportSize({ width: 390, height: 844 });
    await wallet.screenshot({ path: join(SCREENSHOTS, "explorer-account-phone.png"), fullPage: true });
    await wallet.close();
  });

  it("a datanet page shows its contributions with provenance and what its contributors earned", async () => {
    const totals = (await w.api("GET", "/v1/explorer/totals")).json;
    const earned = totals.byDatanet.find((t: { id: number }) => t.id === 1);
    // Every receipt so far declared datanet 1 for both contributors: it earned their whole shares.
    const shares = await Promise.all(w.contributors.map(async (c) => BigInt((await w.api("GET", `/v1/accounts/${c.address}/earnings`)).json.byKind.contributor)));
    expect(BigInt(earned.amount)).to.equal(shares[0] + shares[1]);
    await page.goto(`${w.svc.url}/app/#/datanets/1`);
    await page.waitForSelector("#contributions");
    expect(await page.locator("#contributions tbody tr").count()).to.equal(12);
    expect(await page.textContent("#datanet-earned")).to.contain(`over ${earned.receipts} receipts`);
    await shots("datanet");
  });

  it("unknown ids and bad addresses get clear messages, not blank pages", async () => {
    const cases: [string, string, string][] = [
      ["#/batches/999", "#not-found", "No batch 999"],
      ["#/batches/abc", "#bad-batch", "is not a batch number"],
      ["#/receipts/0x1234", "#bad-id", "is not a receipt id"],
      [`#/receipts/0x${"ab".repeat(32)}`, "#not-found", "No receipt"],
      ["#/accounts/0xnothex", "#bad-address", "is not an address"],
      [`#/accounts/0x${"cd".repeat(20)}`, "#not-found", "No account"],
      ["#/datanets/99", "#not-found", "No datanet 99"],
    ];
    for (const [hash, selector, text] of cases) {
      await page.goto(`${w.svc.url}/app/${hash}`);
      await page.waitForSelector(selector);
      expect(await page.textContent(selector), hash).to.contain(text);
    }
    await page.goto(`${w.svc.url}/app/#/explorer`);
    await page.fill("#search", "hello");
    await page.press("#search", "Enter");
    await page.waitForSelector("#search-problem");
    expect(await page.textContent("#search-problem")).to.contain("search for a batch number");
    await page.fill("#search", "1");
    await page.press("#search", "Enter");
    await page.waitForSelector("#new-root");
    expect(page.url()).to.match(/#\/batches\/1$/);
    // By L1 transaction hash too.
    const first = (await w.api("GET", "/v1/batches/2")).json;
    await page.fill("#search", first.txHash);
    await page.press("#search", "Enter");
    await page.waitForURL(/#\/batches\/2$/);
    expect(errors).to.deep.equal([]);
  });

  it("lists batches newest first with their timelines, pages with before, and refuses bad paging by name", async () => {
    const all = (await w.api("GET", "/v1/batches?limit=100")).json;
    expect(all.batches.map((b: { number: number }) => b.number)).to.deep.equal(Array.from({ length: all.latest }, (_, i) => all.latest - i));
    for (const b of all.batches) {
      expect(b.timeline.map((t: { status: string }) => t.status)).to.deep.equal(["sealed", "proving", "proved", "submitted", "finalized"]);
      expect(Number(b.gasUsed)).to.be.greaterThan(200_000);
    }
    const page2 = (await w.api("GET", `/v1/batches?limit=2&before=${all.latest}`)).json;
    expect(page2.batches.map((b: { number: number }) => b.number)).to.deep.equal([all.latest - 1, all.latest - 2]);
    expect((await w.api("GET", "/v1/batches?limit=0")).json.error.code).to.equal("invalid_limit");
    expect((await w.api("GET", "/v1/batches?before=x")).json.error.code).to.equal("invalid_before");
    expect((await w.api("GET", "/v1/search?q=zz")).status).to.equal(400);
    expect((await w.api("GET", `/v1/accounts/0x12/earnings`)).json.error.code).to.equal("invalid_address");
  });

  it("the Tickets page, a ticket's page and an account's expected against realized earnings agree with the API, and the API with L1", async () => {
    const domain = BigInt(await w.d.rollup.domain());
    const [c0, c1] = w.contributors.map((c) => c.address);
    const balanceOnL1 = async (a: string) => {
      const { state } = await replayL1(w.d.rollup, INSTANCE);
      const i = state.indexOf(BigInt(a));
      return i === undefined ? 0n : state.account(i).balance;
    };
    const before = await balanceOnL1(c0);
    const FEE = 10n ** 16n;
    const tickets = Array.from({ length: 16 }, (_, j) => ticketFor({
      providerIdx, owner: BigInt(w.curator.address), fee: FEE, nonce: nonce + BigInt(j), inputHash: BigInt(90 + j), outputHash: 7n,
      entries: [{ contributor: BigInt(c0), score: 3n }, { contributor: BigInt(c1), score: 1n }],
    }, 2));
    const bundle = await signTicketBundle(bjjKey(provider()), { providerIdx, firstNonce: nonce, tickets }, params, 2, domain);
    nonce += 16n;
    const posted = await w.api("POST", "/v1/ticket-bundles", ticketBundleToJson(bundle));
    expect(posted.status, JSON.stringify(posted.json)).to.equal(202);
    const ids: string[] = posted.json.tickets.map((t: { id: string }) => t.id);
    const cost = winnerOutflow(tickets[0], params);
    const views = await waitFor("the tickets decided and every payable winner paid", async () => {
      const vs = await Promise.all(ids.map(async (id) => (await w.api("GET", `/v1/receipts/${id}`)).json as TicketView));
      if (vs.some((v) => v.status !== "finalized" || v.outcome === "pending")) return undefined;
      const pool = BigInt((await w.api("GET", "/v1/explorer/tickets")).json.pool.balance);
      return vs.every((v) => v.outcome === "lost" || (v.paidIn !== null ? v.paidStatus === "finalized" : pool < cost)) ? vs : undefined;
    });
    // The API: expected is the payout rule at each ticket's expected value (its fee), realized at face value over the paid winners.
    const paid = views.filter((v) => v.paidIn !== null).map((v) => v.position);
    const share = (fee: bigint) => payout(fee, [3n, 1n], params).shares[0];
    const earned = (await w.api("GET", `/v1/accounts/${c0}/tickets`)).json;
    expect([earned.tickets, earned.won, earned.paid]).to.deep.equal([16, views.filter((v) => v.outcome === "won").length, paid.length]);
    expect(BigInt(earned.expected)).to.equal(16n * share(FEE));
    expect(BigInt(earned.realized)).to.equal(BigInt(paid.length) * share(4n * FEE));
    // The API and L1: the contributor's balance rebuilt from L1 data alone grew by exactly the realized earnings.
    expect((await balanceOnL1(c0)) - before).to.equal(BigInt(earned.realized));
    const overview = (await w.api("GET", "/v1/explorer/tickets")).json;
    // Its next page: the bundles older than the last one shown; a page boundary that is not an id is refused.
    const last = overview.bundles[overview.bundles.length - 1].id;
    expect((await w.api("GET", `/v1/explorer/tickets?before=${overview.bundles[0].id}`)).json.bundles.map((b: { id: number }) => b.id)).to.deep.equal(overview.bundles.slice(1).map((b: { id: number }) => b.id));
    expect((await w.api("GET", `/v1/explorer/tickets?before=${last}`)).json.bundles.every((b: { id: number }) => b.id < last)).to.equal(true);
    expect((await w.api("GET", "/v1/explorer/tickets?before=0")).status).to.equal(400);
    expect(overview.pool).to.deep.include({ inflow: (16n * FEE).toString(), balance: (16n * FEE - BigInt(paid.length) * cost).toString() });

    // The pages show the API's numbers.
    await page.goto(`${w.svc.url}/app/#/tickets`);
    await page.waitForSelector("#ticket-bundles");
    expect(await page.textContent("#tickets-committed")).to.equal("16");
    expect(await page.getAttribute("#pool-balance", "data-units")).to.equal(overview.pool.balance);
    await shots("tickets");
    await page.goto(`${w.svc.url}/app/#/accounts/${c0}`);
    await page.waitForSelector("#ticket-earnings");
    expect(await page.getAttribute("#tickets-expected", "data-units")).to.equal(earned.expected);
    expect(await page.getAttribute("#tickets-realized", "data-units")).to.equal(earned.realized);
    expect(Number(await page.getAttribute("#ticket-chart", "data-points"))).to.equal(earned.series.length);
    await shots("account-tickets");
    const lost = views.find((v) => v.outcome === "lost")!;
    await page.goto(`${w.svc.url}/app/#/receipts/${lost.id}`);
    // The page is a hash route: wait for this ticket's view, not whatever view is still on screen.
    await page.waitForSelector(`#ticket-outcome[data-ticket="${lost.id}"]`);
    expect(await page.textContent("#ticket-outcome")).to.equal("lost");
    expect(await page.textContent("#ticket-ev")).to.contain(formatUnits(FEE, 18));
    // A paid winner's page: each contributor's share at face value, the payout rule's and the API's.
    const winner = views.find((v) => v.paidIn !== null);
    if (winner) {
      expect(winner.entries.map((e) => BigInt(e.paid!))).to.deep.equal(payout(4n * FEE, [3n, 1n], params).shares);
      await page.goto(`${w.svc.url}/app/#/receipts/${winner.id}`);
      await page.waitForSelector(`#ticket-outcome[data-ticket="${winner.id}"]`);
      await page.waitForSelector("#ticket-entries");
      expect(await page.textContent("#ticket-outcome")).to.equal("won");
      const paidCells = await page.locator("#ticket-entries tbody tr td:nth-child(4)").evaluateAll((tds) => tds.slice(0, 2).map((td) => td.getAttribute("data-units")));
      expect(paidCells).to.deep.equal(winner.entries.map((e) => e.paid));
      await shots("ticket");
    }
    expect(errors).to.deep.equal([]);
  });
});
