// npm run bench (part 3): latency of POST /v1/bundles while a proof runs on the
// prover worker thread, against a baseline in the same process with no proof
// running. Each POST carries a bundle with a wrong signature, so it takes the
// full validation path (schema, nonce, EdDSA verification) and changes nothing.
import { Contract } from "ethers";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { signBundle } from "../core/receipt.js";
import { loadInstance } from "../core/params.js";
import { terminateCurve } from "../prover/groth16.js";
import { startLocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { deployRollup } from "../ops/deploy.js";
import { bundleToJson } from "../sequencer/schemas.js";
import { startService } from "../sequencer/service.js";
import { writeSection } from "./results.js";
import { quantile } from "./lib/stats.js";

const INSTANCE = "test";
const params = loadInstance(INSTANCE).params;

async function main(): Promise<void> {
  await initCrypto();
  const chain = await startLocalChain(16545);
  const deployer = devWallet(0, chain.provider), alice = devWallet(2, chain.provider);
  const d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address });
  const svc = await startService({ rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE, dbFile: join(mkdtempSync(join(tmpdir(), "poa-bench-")), "s.db"), port: 0, maxWaitMs: 100, pollMs: 100, proverThreads: 1, admission: { maxPendingBundles: 1_000_000 } });
  const key = Uint8Array.from({ length: 32 }, (_, i) => i + 9);
  const pub = await publicKeyOf(key);
  await (await (d.token.connect(deployer) as Contract).transfer(alice.address, 10n ** 20n)).wait();
  await (await (d.token.connect(alice) as Contract).approve(await d.rollup.getAddress(), 10n ** 20n)).wait();
  await (await (d.rollup.connect(alice) as Contract).deposit(10n ** 20n, pub.ax, pub.ay)).wait();
  const get = async (path: string) => (await fetch(`${svc.url}${path}`)).json();
  const idleSince = async () => {
    for (;;) {
      const h = await get("/healthz");
      if (h.bundles_pending === 0 && !h.batches_sealed && !h.batches_proving && !h.batches_proved && !h.batches_submitted && h.finalizedRoot === `0x${(await d.rollup.stateRoot()).toString(16).padStart(64, "0")}` && (h.batches_finalized ?? 0) > 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await idleSince();
  const idx = (await get(`/v1/accounts/${alice.address}`)).index;
  const receipt = (nonce: number) => ({ providerIdx: idx, owner: BigInt(deployer.address), fee: 10n ** 9n, nonce: BigInt(nonce), inputHash: 1n, outputHash: 2n, entries: [{ contributor: BigInt(alice.address), score: 1n }] });
  const good = bundleToJson(await signBundle(key, [receipt(0)], params, await d.rollup.domain())) as { signature: Record<string, string> };
  // Right nonce, wrong signature: refused only after the EdDSA check.
  const forge = (b: { signature: Record<string, string> }) => JSON.stringify({ ...b, signature: { ...b.signature, S: (BigInt(b.signature.S) + 1n).toString() } });
  const forgedBefore = forge(good);
  const forgedDuring = forge(bundleToJson(await signBundle(key, [receipt(1)], params, await d.rollup.domain())) as typeof good);

  const sample = async (forged: string, n: number, until?: () => Promise<boolean>) => {
    const ms: number[] = [];
    for (let i = 0; i < n || (until && !(await until())); i++) {
      const t0 = performance.now();
      const res = await fetch(`${svc.url}/v1/bundles`, { method: "POST", headers: { "content-type": "application/json" }, body: forged });
      await res.text();
      if (res.status !== 401) throw new Error(`expected 401 bad_signature, got ${res.status}`);
      ms.push(performance.now() - t0);
    }
    return ms;
  };
  await sample(forgedBefore, 20); // warm up
  const baseline = await sample(forgedBefore, 200);
  // A valid bundle starts a batch; sample while its proof is running.
  await fetch(`${svc.url}/v1/bundles`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(good) });
  while ((await get("/healthz")).batches_proving !== 1) await new Promise((r) => setTimeout(r, 20));
  const during = await sample(forgedDuring, 0, async () => (await get("/healthz")).batches_proving !== 1);
  const row = (name: string, xs: number[]) => `| ${name} | ${xs.length} | ${quantile(xs, 0.5).toFixed(1)} | ${quantile(xs, 0.99).toFixed(1)} |`;
  const table = [
    "| POST /v1/bundles (full validation, refused) | requests | p50 ms | p99 ms |",
    "|---|---:|---:|---:|",
    row("no proof running (baseline)", baseline),
    row("while a batch proof runs on the worker thread", during),
  ].join("\n");
  const ratio = `p99 during a proof / baseline p99: ${(quantile(during, 0.99) / quantile(baseline, 0.99)).toFixed(2)}; p50 ratio ${(quantile(during, 0.5) / quantile(baseline, 0.5)).toFixed(2)} (2-core machine; the proof itself uses snarkjs's own threads).`;
  console.log(`${table}\n\n${ratio}`);
  writeSection("HTTP latency during a proof (npm run bench)", `${table}\n\n${ratio}`);
  await svc.close();
  await chain.stop();
  await terminateCurve();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
