// Submitting batches to a real Hardhat node the way a public chain behaves:
// a transaction left in the mempool (automine off) is replaced on the same
// nonce with higher EIP-1559 fees; a base fee above the cap holds batches back
// with an alert until it falls; an RPC endpoint that fails or dies is retried
// and failed over to the next one, and nothing is lost or sent twice.
import { expect } from "chai";
import { Contract, type Wallet } from "ethers";
import { createServer, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { deployRollup, type Deployment } from "../ops/deploy.js";
import type { FailoverProvider } from "../sequencer/rpc.js";
import { startService, type Service } from "../sequencer/service.js";
import { GWEI } from "../sequencer/submitter.js";
import { INSTANCE, OPEN, privateKey } from "./helpers.js";
import { http, waitFor } from "./lib/http.js";

/** A JSON-RPC relay to the node that can be told to answer 503 or to go away. */
async function flakyRelay(target: string): Promise<{ url: string; mode: "pass" | "503"; relayed: number; refused: number; close(): Promise<void> }> {
  const state = { mode: "pass" as "pass" | "503", relayed: 0, refused: 0 };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (state.mode === "503") {
      state.refused++;
      res.writeHead(503).end("unavailable");
      return;
    }
    state.relayed++;
    const r = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body: Buffer.concat(chunks) });
    res.writeHead(r.status, { "content-type": "application/json" }).end(await r.text());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    url,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  });
}

describe("L1 submission: EIP-1559 fees under a cap, replacement of stuck transactions, RPC retries and failover", function () {
  let chain: LocalChain;
  let d: Deployment;
  let svc: Service;
  let relay: Awaited<ReturnType<typeof flakyRelay>>;
  let deployer: Wallet;
  let seed = 90;

  const rpc = (method: string, params: unknown[] = []) => chain.provider.send(method, params);
  const batch = async (n: number) => (await http(svc.url, "GET", `/v1/batches/${n}`)).json;

  /** A deposit from a fresh dev account: one queue operation, hence one batch of the test instance. */
  async function deposit(account: number): Promise<void> {
    const w = devWallet(account, chain.provider);
    await (await (d.token.connect(deployer) as Contract).transfer(w.address, OPEN)).wait();
    await (await (d.token.connect(w) as Contract).approve(await d.rollup.getAddress(), OPEN)).wait();
    const pub = await publicKeyOf(privateKey(seed++));
    await (await (d.rollup.connect(w) as Contract).deposit(OPEN, pub.ax, pub.ay)).wait();
  }

  before(async () => {
    await initCrypto();
    chain = await startLocalChain(11545 + (process.pid % 1000));
    deployer = devWallet(0, chain.provider);
    d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address });
    relay = await flakyRelay(chain.url);
    svc = await startService({
      // The relay first, the node itself second: the failover list.
      rpcUrl: `${relay.url},${chain.url}`, rpcRetry: { timeoutMs: 2_000, baseDelayMs: 50, log: () => undefined },
      rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-submit-")), "sequencer.db"), port: 0, maxWaitMs: 100, pollMs: 100, proverThreads: 1,
      fees: { maxFeePerGas: 50n * GWEI, priorityFee: GWEI, stuckAfterMs: 1_500, bumpPercent: 25 },
    });
  });

  after(async () => {
    await svc?.close();
    await relay?.close();
    await chain?.stop();
  });

  it("replaces a transaction stuck in the mempool with one on the same nonce offering 25 % more, and lands the batch once", async () => {
    await deposit(2);
    await waitFor("batch 1 proving", async () => ["proving", "proved"].includes((await batch(1)).status));
    await rpc("evm_setAutomine", [false]); // from now on, transactions wait in the mempool
    // Read while it is pending: once replaced, the node forgets it.
    const t1 = (await waitFor("the first transaction", async () => {
      const h = (await batch(1)).txHash as string | null;
      return h ? ((await chain.provider.getTransaction(h)) ?? undefined) : undefined;
    }))!;
    const first = t1.hash;
    const second = await waitFor("its replacement", async () => {
      const b = await batch(1);
      return b.txHash !== first ? (b.txHash as string) : undefined;
    });
    const t2 = await chain.provider.getTransaction(second);
    expect(t2!.nonce).to.equal(t1.nonce);
    expect(t2!.maxFeePerGas! >= (t1.maxFeePerGas! * 125n) / 100n).to.equal(true);
    expect(t2!.maxPriorityFeePerGas).to.equal((t1.maxPriorityFeePerGas! * 125n + 99n) / 100n);
    expect(t2!.maxFeePerGas! <= 50n * GWEI).to.equal(true);
    expect((await batch(1)).error).to.match(new RegExp(`^replaced stuck transaction ${first} \\(nonce ${t1.nonce}\\) with one offering \\d+ wei per gas$`));
    await rpc("evm_setAutomine", [true]);
    await rpc("evm_mine");
    const done = await waitFor("batch 1 finalized", async () => {
      const b = await batch(1);
      return b.status === "finalized" ? b : undefined;
    });
    expect(Number(await d.rollup.batchCount())).to.equal(1);
    // The transaction that landed is one of the two, on that one nonce; the other never will.
    expect([first, second]).to.include(done.txHash);
    expect((await chain.provider.getTransactionCount(devWallet(1).address))).to.equal(t1.nonce + 1);
  });

  it("holds a batch back while the base fee is above the cap, with an alert, and sends it once the fee falls", async () => {
    // 200 gwei, falling by at most 1/8 per block over the deposit's three blocks: still above the 50 gwei cap.
    await rpc("hardhat_setNextBlockBaseFeePerGas", [`0x${(200n * GWEI).toString(16)}`]);
    await rpc("evm_mine");
    await deposit(3);
    const alert = await waitFor("the fee alert", async () => {
      const h = (await http(svc.url, "GET", "/healthz")).json;
      return h.alerts.find((a: { problem: string }) => a.problem.startsWith("batch 2 waits: "))?.problem as string | undefined;
    });
    expect(alert).to.match(/^batch 2 waits: the L1 base fee is \d+\.\d\d gwei; with the tip of 1\.00 gwei it exceeds the fee cap of 50\.00 gwei$/);
    expect((await batch(2)).status).to.equal("proved");
    expect(Number(await d.rollup.batchCount())).to.equal(1);
    await rpc("hardhat_setNextBlockBaseFeePerGas", [`0x${GWEI.toString(16)}`]);
    await rpc("evm_mine");
    await waitFor("batch 2 finalized", async () => (await batch(2)).status === "finalized");
    expect((await http(svc.url, "GET", "/healthz")).json.alerts).to.deep.equal([]);
    const tx = await chain.provider.getTransaction((await batch(2)).txHash);
    expect(tx!.maxFeePerGas! <= 50n * GWEI).to.equal(true);
  });

  it("retries RPC failures and fails over to the next endpoint, then keeps going when the first one dies", async () => {
    const provider = svc.sequencer.rollup.runner!.provider as FailoverProvider;
    expect(provider.activeUrl).to.equal(relay.url);
    relay.mode = "503";
    await deposit(4);
    await waitFor("batch 3 finalized", async () => (await batch(3)).status === "finalized");
    expect(relay.refused).to.be.greaterThan(0);
    expect(provider.failures[0]).to.be.greaterThan(0);
    expect(provider.activeUrl).to.equal(chain.url);
    await relay.close();
    await deposit(5);
    await waitFor("batch 4 finalized", async () => (await batch(4)).status === "finalized");
    expect(Number(await d.rollup.batchCount())).to.equal(4);
  });
});
