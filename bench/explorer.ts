// npm run bench (explorer): how fast the explorer's pages load in a real
// browser (Debian's chromium) against a running service with finalized
// batches: from navigation to the page's content on screen, median and p90 of
// fresh loads per page, with the API call behind each page timed alone; and
// the in-browser Groth16 check of a batch.
//   npx tsx bench/explorer.ts   → bench/RESULTS.md "Explorer", results.json "explorer"
import { Contract } from "ethers";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signAttributed, type Inference } from "../attribution/receipts.js";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { loadInstance } from "../core/params.js";
import { terminateCurve } from "../prover/groth16.js";
import { startLocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { bjjKey } from "../ops/client.js";
import { deployRollup } from "../ops/deploy.js";
import { bundleToJson } from "../sequencer/schemas.js";
import { startService } from "../sequencer/service.js";
import { launchChromium } from "../ops/browser.js";
import { quantile } from "./lib/stats.js";
import { runMeta, writeResults, writeSection } from "./results.js";

const INSTANCE = "test", LOADS = 15;
const params = loadInstance(INSTANCE).params;

await initCrypto();
const chain = await startLocalChain(17545);
const deployer = devWallet(0, chain.provider), provider = devWallet(2, chain.provider), contributor = devWallet(4);
const d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address });
const svc = await startService({ rpcUrl: chain.url, publicRpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE, dbFile: join(mkdtempSync(join(tmpdir(), "poa-bench-explorer-")), "s.db"), port: 0, maxWaitMs: 100, pollMs: 100, proverThreads: 1 });
const get = async (path: string) => (await fetch(`${svc.url}${path}`)).json();
const until = async <T>(fn: () => Promise<T | undefined>): Promise<T> => {
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
};
await (await (d.token.connect(deployer) as Contract).transfer(provider.address, 10n ** 20n)).wait();
await (await (d.token.connect(provider) as Contract).approve(await d.rollup.getAddress(), 10n ** 20n)).wait();
const pub = await publicKeyOf(bjjKey(provider));
await (await (d.rollup.connect(provider) as Contract).deposit(10n ** 20n, pub.ax, pub.ay)).wait();
const idx = (await until(async () => {
  const res = await fetch(`${svc.url}/v1/accounts/${provider.address}`);
  return res.ok ? ((await res.json()).index as number) : undefined;
}));
const infs: Inference[] = [0, 1].map((j) => ({ providerIdx: idx, owner: deployer.address, fee: 10n ** 18n, nonce: BigInt(j), input: `q${j}`, output: `a${j}`, scores: new Map([[contributor.address, 1]]) }));
const posted = await (await fetch(`${svc.url}/v1/bundles`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(bundleToJson(await signAttributed(bjjKey(provider), infs, params, await d.rollup.domain()))) })).json();
const receiptId = posted.receipts[0].id as string;
const batch = await until(async () => {
  const r = await get(`/v1/receipts/${receiptId}`);
  return r.status === "finalized" ? (r.batch as number) : undefined;
});

const pages: [string, string, string, string][] = [
  ["overview", "#/explorer", "#batches", "/v1/explorer/overview"],
  ["batch", `#/batches/${batch}`, "#new-root", `/v1/batches/${batch}/decoded`],
  ["receipt", `#/receipts/${receiptId}`, "#timeline li", `/v1/receipts/${receiptId}`],
  ["account", `#/accounts/${contributor.address}`, "#earned", `/v1/accounts/${contributor.address}/earnings`],
];
const browser = await launchChromium();
const results: Record<string, { p50: number; p90: number; apiP50: number }> = {};
const verifyMs: number[] = [];
if (browser) {
  const page = await browser.newPage();
  for (const [name, hash, selector, apiPath] of pages) {
    const ms: number[] = [], api: number[] = [];
    for (let i = 0; i < LOADS + 1; i++) {
      await page.goto("about:blank");
      const t0 = performance.now();
      await page.goto(`${svc.url}/app/${hash}`);
      await page.waitForSelector(selector);
      if (i > 0) ms.push(performance.now() - t0); // the first load fills the HTTP cache of the vendored libraries
      const a0 = performance.now();
      await get(apiPath);
      api.push(performance.now() - a0);
    }
    results[name] = { p50: Number(quantile(ms, 0.5).toFixed(1)), p90: Number(quantile(ms, 0.9).toFixed(1)), apiP50: Number(quantile(api, 0.5).toFixed(1)) };
    console.log(name, results[name]);
  }
  await page.goto(`${svc.url}/app/#/batches/${batch}`);
  for (let i = 0; i < 5; i++) {
    await page.reload();
    await page.waitForSelector("#verify");
    const t0 = performance.now();
    await page.click("#verify");
    await page.waitForSelector("#verify-result.valid", { timeout: 120_000 });
    verifyMs.push(performance.now() - t0);
  }
  console.log("verify", verifyMs);
  await browser.close();
} else {
  console.log("no chromium: the explorer bench needs /usr/bin/chromium (apt-get install -y chromium)");
}
await svc.close();
await chain.stop();
await terminateCurve();

if (browser) {
  const meta = runMeta();
  const verify = { p50: Number(quantile(verifyMs, 0.5).toFixed(0)), first: Number(verifyMs[0].toFixed(0)) };
  writeResults({ explorer: { machine: meta.machine, date: meta.date, commit: meta.commit, pageLoadMs: results, verifyInBrowserMs: verify } });
  writeSection(
    "Explorer",
    `${meta.line} \`npx tsx bench/explorer.ts\`.

Page loads in Debian's chromium (headless, ${LOADS} fresh navigations per page after one warm-up; time from navigation to the page's content on screen),
against the service on the same machine with finalized batches. "API" is the call behind the page, timed alone.

| page | load p50 (ms) | load p90 (ms) | API p50 (ms) |
|---|---:|---:|---:|
${Object.entries(results).map(([name, r]) => `| ${name} | ${r.p50} | ${r.p90} | ${r.apiP50} |`).join("\n")}

"Verify in your browser" (read the transaction and five contract values over JSON-RPC, SHA-256 of the body, Groth16 verification with snarkjs
in the page): p50 ${verify.p50} ms, first check after a reload ${verify.first} ms (includes loading snarkjs, 673 KB, and building the curve).`,
  );
}
process.exit(0);
