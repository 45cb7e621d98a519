// Crash tests: the service as its own process, killed with SIGKILL between
// acknowledgement and batching, between proving and submission, and during
// submission; after each restart nothing acknowledged is lost or applied twice.
import Database from "better-sqlite3";
import { expect } from "chai";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { Contract, JsonRpcProvider, type Wallet } from "ethers";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { applyBody } from "../core/replay.js";
import { signBundle } from "../core/receipt.js";
import { RollupState } from "../core/rollup.js";
import { ROOT } from "../artifacts/paths.js";
import { chainAnswers, killChainProcess, startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { deployRollup, type Deployment } from "../ops/deploy.js";
import { artifact } from "../artifacts/contracts.js";
import { readBatches, readQueue } from "../sequencer/l1.js";
import { bundleToJson } from "../sequencer/schemas.js";
import { INSTANCE, OPEN, params, privateKey } from "./helpers.js";
import { http, waitFor } from "./lib/http.js";
import { poaRun, poaStart, type Running } from "./lib/poa.js";
import { freshDatabase } from "./lib/postgres.js";

for (const backend of ["SQLite", "PostgreSQL"] as const) describe(`crash and restart (kill -9), store on ${backend}`, function () {
  let chain: LocalChain;
  let databaseUrl: string | undefined;
  let d: Deployment;
  let alice: Wallet, c1: Wallet, owner: Wallet;
  const key = privateKey(21);
  const dbFile = join(mkdtempSync(join(tmpdir(), "poa-crash-")), "sequencer.db"); // the jobs' file alone with PostgreSQL
  const port = 19000 + (process.pid % 1000);
  let svc: Running | undefined;
  let domain: bigint;
  let aliceIdx: number;
  let nonce = 0;
  let expectedC1 = 0n;
  let lastBody: unknown;

  // A service that dies at its acknowledgement must not seal first: under load more than
  // 200 ms can pass between storing a bundle and the response's last byte (CI saw it).
  const NEVER_SEAL = 600_000;

  async function start(maxWaitMs: number, crashAt?: string): Promise<Running> {
    const args = ["--rpc", chain.url, "--rollup", await d.rollup.getAddress(), "--sequencer-key", devWallet(1).privateKey, "--db", dbFile, "--port", String(port), "--max-wait-ms", String(maxWaitMs)];
    if (databaseUrl) args.push("--database-url", databaseUrl);
    if (crashAt) args.push("--crash-at", crashAt);
    return poaStart(args);
  }

  async function kill9(): Promise<void> {
    svc!.proc.kill("SIGKILL");
    await svc!.exited;
    svc = undefined;
  }

  async function postBundle(fee: bigint): Promise<string> {
    const r = { providerIdx: aliceIdx, owner: BigInt(owner.address), fee, nonce: BigInt(nonce), inputHash: 7n, outputHash: 8n, entries: [{ contributor: BigInt(c1.address), score: 1n }] };
    lastBody = bundleToJson(await signBundle(key, [r], params, domain));
    const res = await http(svc!.url, "POST", "/v1/bundles", lastBody);
    expect(res.status).to.equal(202);
    nonce++;
    expectedC1 += payout(fee, [1n], params).shares[0];
    return res.json.receipts[0].id;
  }

  /** A bundle's status as the database holds it (the service is down). */
  const storedStatus = async (receiptId: string): Promise<string> => {
    const sql = "SELECT b.status FROM receipts r JOIN bundles b ON b.id = r.bundle_id WHERE r.id = ";
    if (databaseUrl) {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        return (await c.query(`${sql}$1`, [receiptId])).rows[0].status;
      } finally {
        await c.end();
      }
    }
    const db = new Database(dbFile, { readonly: true });
    try {
      return (db.prepare(`${sql}?`).get(receiptId) as { status: string }).status;
    } finally {
      db.close();
    }
  };

  const finalized = (id: string) => waitFor(`receipt ${id} finalized`, async () => (await http(svc!.url, "GET", `/v1/receipts/${id}`)).json.status === "finalized");

  before(async () => {
    await initCrypto();
    if (backend === "PostgreSQL") databaseUrl = await freshDatabase("crash");
    chain = await startLocalChain(17545 + (process.pid % 1000));
    const deployer = devWallet(0, chain.provider);
    [alice, c1, owner] = [2, 4, 6].map((i) => devWallet(i, chain.provider));
    d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address });
    domain = await d.rollup.domain();
    const pub = await publicKeyOf(key);
    await (await (d.token.connect(deployer) as Contract).transfer(alice.address, 100n * OPEN)).wait();
    await (await (d.token.connect(alice) as Contract).approve(await d.rollup.getAddress(), 100n * OPEN)).wait();
    await (await (d.rollup.connect(alice) as Contract).deposit(100n * OPEN, pub.ax, pub.ay)).wait();
    svc = await start(200);
    aliceIdx = await waitFor("alice's account", async () => (await http(svc!.url, "GET", `/v1/accounts/${alice.address}`)).json.index as number | undefined);
  });

  after(async () => {
    if (svc) await kill9();
    await chain?.stop();
  });

  it("keeps a receipt acknowledged just before a crash, and batches it after restart", async () => {
    await kill9();
    svc = await start(NEVER_SEAL, "accepted"); // dies as soon as the acknowledgement is sent
    const id = await postBundle(10n ** 18n);
    await svc.exited;
    svc = undefined;
    expect(await storedStatus(id)).to.equal("accepted");
    svc = await start(200);
    await finalized(id);
  });

  it("submits after restart a batch that was proved when the process died", async () => {
    await kill9();
    svc = await start(200, "proved");
    const before = Number(await d.rollup.batchCount());
    const id = await postBundle(2n * 10n ** 18n);
    await svc.exited; // killed itself right after storing the proof
    svc = undefined;
    expect(Number(await d.rollup.batchCount())).to.equal(before);
    svc = await start(200);
    await finalized(id);
    expect(Number(await d.rollup.batchCount())).to.equal(before + 1);
  });

  it("never submits a batch twice when the process died right after sending it", async () => {
    await kill9();
    svc = await start(200, "sent");
    const before = Number(await d.rollup.batchCount());
    const id = await postBundle(3n * 10n ** 18n);
    await svc.exited; // killed itself after the transaction left, before recording its hash
    svc = undefined;
    svc = await start(200);
    await finalized(id);
    expect(Number(await d.rollup.batchCount())).to.equal(before + 1);
  });

  it("ends with the contract's root equal to a replay of L1 data, and each credit applied once", async () => {
    const health = (await http(svc!.url, "GET", "/healthz")).json;
    const onChain = BigInt(await d.rollup.stateRoot());
    expect(BigInt(health.finalizedRoot)).to.equal(onChain);
    let s = new RollupState(params, BigInt(await d.rollup.treasury()));
    for (const b of await readBatches(d.rollup)) s = applyBody(s, b.body, await readQueue(d.rollup, b.firstOp, b.firstOp + b.opsConsumed));
    expect(s.root).to.equal(onChain);
    const acct = (await http(svc!.url, "GET", `/v1/accounts/${c1.address}`)).json;
    expect(BigInt(acct.balance)).to.equal(expectedC1);
    expect(acct.nonce).to.equal("0");
    expect((await http(svc!.url, "GET", `/v1/accounts/${alice.address}`)).json.nonce).to.equal(String(nonce));
  });

  it("rejects, with the reason, an accepted bundle that an L1 withdrawal made unpayable", async () => {
    await kill9();
    svc = await start(NEVER_SEAL, "accepted");
    const id = await postBundle(10n ** 18n);
    await svc.exited;
    svc = undefined;
    // While the sequencer is down, the provider withdraws everything on L1; after the
    // restart the queue operation comes first in the batch and the bundle cannot pay.
    await (await (d.rollup.connect(alice) as Contract).requestWithdrawal(aliceIdx)).wait();
    svc = await start(200);
    const r = await waitFor("the rejection", async () => {
      const x = (await http(svc!.url, "GET", `/v1/receipts/${id}`)).json;
      return x.status === "rejected" ? x : undefined;
    });
    expect(r.error).to.match(/^fees 1000000000000000000 exceed provider \d+'s balance 0$/);
    const again = await http(svc!.url, "POST", "/v1/bundles", lastBody);
    expect([again.status, again.json.receipts[0].status]).to.deep.equal([200, "rejected"]);
    await waitFor("the withdrawal", async () => (await d.rollup.claimable(alice.address)) > 0n);
    // The account view follows the sequencer's finalized state, a moment after L1.
    const acct = await waitFor("the finalized withdrawal", async () => {
      const a = (await http(svc!.url, "GET", `/v1/accounts/${alice.address}`)).json;
      return a.balance === "0" ? a : undefined;
    });
    expect([acct.balance, acct.nonce, acct.nextNonce]).to.deep.equal(["0", String(nonce - 1), String(nonce - 1)]);
  });
});

describe("local mode (npm start): the chain outlives a killed sequencer", function () {
  // The local deployment of `poa start` without --rpc, in a directory of its own.
  const dir = mkdtempSync(join(tmpdir(), "poa-local-"));
  const chainPort = 14545 + (process.pid % 1000);
  const apiPort = 13000 + (process.pid % 1000);
  const env = { ...process.env, POA_LOCAL_DIR: dir, POA_CHAIN_PORT: String(chainPort), POA_PORT: String(apiPort), POA_MAX_WAIT_MS: "200" };
  const key = privateKey(61);
  let svc: Running | undefined;

  const start = (...extra: string[]) => poaStart(extra, env);

  const deployment = () => JSON.parse(readFileSync(join(dir, "deployment.json"), "utf8")) as { rpcUrl: string; rollup: string; token: string };

  after(async () => {
    svc?.proc.kill("SIGKILL");
    const chain = JSON.parse(readFileSync(join(dir, "chain.json"), "utf8")) as { pid: number };
    killChainProcess(chain.pid);
  });

  it("resumes on the same chain and database after kill -9, and starts over only with --fresh", async () => {
    await initCrypto();
    svc = await start("--crash-at", "accepted");
    expect(svc.log()).to.match(/local chain .* new\)/);
    const info = deployment();
    const provider = new JsonRpcProvider(info.rpcUrl, undefined, { cacheTimeout: -1 });
    const [alice, c1, owner] = [2, 4, 6].map((i) => devWallet(i, provider));
    const rollup = new Contract(info.rollup, artifact("AttributionRollup").abi as never, alice);
    const token = new Contract(info.token, artifact("OpenToken").abi as never, alice);
    const pub = await publicKeyOf(key);
    await (await token.approve(info.rollup, 10n * OPEN)).wait();
    await (await rollup.deposit(10n * OPEN, pub.ax, pub.ay)).wait();
    const idx = await waitFor("alice's account", async () => (await http(svc!.url, "GET", `/v1/accounts/${alice.address}`)).json.index as number | undefined);
    const r = { providerIdx: idx, owner: BigInt(owner.address), fee: OPEN, nonce: 0n, inputHash: 1n, outputHash: 2n, entries: [{ contributor: BigInt(c1.address), score: 1n }] };
    const posted = await http(svc.url, "POST", "/v1/bundles", bundleToJson(await signBundle(key, [r], params, await rollup.domain())));
    expect(posted.status).to.equal(202);
    await svc.exited; // killed itself right after the acknowledgement
    // The node kept running: it has its own process group and writes to its own log file.
    expect(await chainAnswers(info.rpcUrl)).to.equal(true);
    expect(Number(await rollup.batchCount())).to.equal(1);

    svc = await start();
    expect(svc.log()).to.match(/local chain .* resumed with the last run's contracts and database\)/);
    expect(deployment().rollup).to.equal(info.rollup);
    const id = posted.json.receipts[0].id;
    await waitFor(`receipt ${id} finalized`, async () => (await http(svc!.url, "GET", `/v1/receipts/${id}`)).json.status === "finalized");
    const share = payout(OPEN, [1n], params).shares[0];
    expect(BigInt((await http(svc.url, "GET", `/v1/accounts/${c1.address}`)).json.balance)).to.equal(share);

    svc.proc.kill("SIGKILL");
    await svc.exited;
    svc = await start("--fresh");
    expect(svc.log()).to.match(/local chain .* new\)/);
    expect((await http(svc.url, "GET", `/v1/receipts/${id}`)).status).to.equal(404);
    const fresh = new Contract(deployment().rollup, artifact("AttributionRollup").abi as never, provider);
    expect(Number(await fresh.batchCount())).to.equal(0);
    provider.destroy();
  });

  it("deploys with `poa deploy --rpc` again and again, and says in one line why a deployment fails", async () => {
    const deploy = (key: string) => poaRun(["deploy", "--rpc", deployment().rpcUrl, "--private-key", key], env);
    const rollups = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const r = deploy(devWallet(5).privateKey);
      expect(r.status, r.stderr).to.equal(0);
      rollups.add(JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))).rollup);
    }
    expect(rollups.size).to.equal(3);
    const broke = deploy(`0x${"42".repeat(32)}`); // an account without ETH
    expect(broke.status).to.equal(1);
    const line = broke.stderr.trim();
    expect(line).to.match(/^poa: .*(insufficient funds|enough funds)/i);
    expect(line.split("\n")).to.have.length(1);
    expect(line.length).to.be.lessThan(400);
    expect(line).not.to.contain("0x6080"); // no bytecode
  });
});
