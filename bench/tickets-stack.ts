// npm run bench, part: payment tickets through the real stack (issue 24,
// docs/PROTOCOL.md §16). The reference workload's answers (bench/lib/workload.ts:
// 100,000 contributors, Zipf, K = 8) at TICKET_RATE answers/s for
// TICKET_SECONDS, each a real ticket at p = 2^-TICKET_K, signed 4^DT to a
// bundle by four providers on a thread of their own (bench/lib/ticket-traffic.ts)
// and posted over HTTP to the real sequencer on a real Hardhat chain, whose
// batches the default prover proves and L1 verifies; the beacons are L1's.
// Circuit instance `tickets` (circuits.json: D 12, T 36, NEW 24, DT 7, two
// commits and four winners a batch: 1,016,927 constraints): `npm run setup --
// --config tickets` builds it first. The sequencer waits up to 60 s to fill a
// batch (a proof costs the same however little it holds).
// Results: bench/RESULTS.md "Tickets: the real stack, p = 2^-K", bench/results.json
// `ticketsByWinProb["2^-K"]`, and at the default K (14) `tickets.coreSecondsPer1000Answers`,
// `tickets.gasPerAnswer`, `tickets.hostsFor1000PerSecond` and `tickets.stack`.
// TICKET_K=13 TICKET_SECONDS=1100 measures the instance's other balance point.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { Worker } from "node:worker_threads";
import { Contract, type EventLog } from "ethers";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { loadInstance, ticketShape } from "../core/params.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { bjjKey } from "../ops/client.js";
import { startLocalChain } from "../ops/chain.js";
import { deployRollup } from "../ops/deploy.js";
import { readManifest, ROOT } from "../artifacts/paths.js";
import { startService } from "../sequencer/service.js";
import type { TicketView } from "../sequencer/tickets.js";
import { proverBackend } from "../prover/groth16.js";
import { contributorAddress, type TrafficConfig, type TrafficResult } from "./lib/ticket-traffic.js";
import { quantile } from "./lib/stats.js";
import { runMeta, writeResults, writeSection } from "./results.js";

const INSTANCE = process.env.TICKET_INSTANCE ?? "tickets";
const RATE = Number(process.env.TICKET_RATE ?? 1000);
// At p = 2^-14 a batch's two commits bring two winners on average, so its four winner records
// rarely overflow (a batch pays one beacon's winners); 2,000 s give ~120 winners, ≥ 100 with probability about 0.96.
const DEFAULT_K = 14;
const K_BITS = Number(process.env.TICKET_K ?? DEFAULT_K);
const SECONDS = Number(process.env.TICKET_SECONDS ?? 2000);
const FEE = 10n ** 14n; // 0.0001 OPEN an answer: face 0.1024 OPEN at p = 2^-10
const OPEN = 10n ** 18n;
const PROVIDERS = 4;
// Hosts for 1,000 exact receipts/s on the production instance, from bench/farm.ts (results.json farm.workersNeeded).
const farm = (JSON.parse(readFileSync(join(ROOT, "bench", "results.json"), "utf8")).farm?.workersNeeded?.["1000"] ?? {}) as { production?: number; productionSnarkjs?: number };

const setup = spawnSync("npx", ["tsx", "scripts/setup.ts", "--config", INSTANCE], { cwd: ROOT, stdio: "inherit", env: { ...process.env, NODE_OPTIONS: "--max-old-space-size=16384" } });
if (setup.status !== 0) throw new Error(`setup --config ${INSTANCE} failed`);
await initCrypto();
const params = loadInstance(INSTANCE).params;
const shape = ticketShape(params);
const chain = await startLocalChain(28545);
const deployer = devWallet(0, chain.provider);
const d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address, exitDelay: 100_000 });
const svc = await startService({
  rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
  dbFile: join(mkdtempSync(join(tmpdir(), "poa-tickets-bench-")), "sequencer.db"), port: 0, maxWaitMs: 60_000, pollMs: 200, proverThreads: 1,
  admission: { minFee: 1n, maxPendingBundles: 1000 },
});
// A dropped keep-alive connection (the server closed it while the client reused it) is tried again, as any client would.
const api = async (path: string): Promise<any> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await (await fetch(`${svc.url}${path}`)).json();
    } catch (e) {
      if (attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
};
const wallets = Array.from({ length: PROVIDERS }, (_, i) => devWallet(2 + i, chain.provider));
for (const w of wallets) {
  const pub = await publicKeyOf(bjjKey(w));
  await (await (d.token.connect(deployer) as Contract).transfer(w.address, 100n * OPEN)).wait();
  await (await (d.token.connect(w) as Contract).approve(await d.rollup.getAddress(), 100n * OPEN)).wait();
  await (await (d.rollup.connect(w) as Contract).deposit(100n * OPEN, pub.ax, pub.ay)).wait();
}
const until = async <T>(what: string, f: () => Promise<T | undefined>, ms = 3_600_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
};
const providers = await Promise.all(wallets.map(async (w) => ({ idx: await until(`account of ${w.address}`, async () => (await api(`/v1/accounts/${w.address}`)).index as number | undefined), key: bjjKey(w) })));
const batchesBefore = Number(await d.rollup.batchCount());
console.log(`tickets bench: ${PROVIDERS} providers funded; ${RATE} answers/s for ${SECONDS} s at p = 2^-${K_BITS}, bundles of ${4 ** shape.treeDepth}`);

// Traffic on its own thread; the main thread follows every bundle's outcome meanwhile.
const cfg: TrafficConfig = { api: svc.url, providers, rate: RATE, seconds: SECONDS, kBits: K_BITS, fee: FEE, params, treeDepth: shape.treeDepth, domain: await d.rollup.domain() };
// The sequencer's event loop (its HTTP, its sealing) shares this thread: how long it was held up.
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();
// When L1 first showed each beacon (0-based batch number) and each batch (1-based, as the store counts), read
// from the chain's RPC a second apart while the traffic runs: the sequencer's API is not asked meanwhile.
const beaconSeen = new Map<number, number>(), batchSeen = new Map<number, number>();
let seenFrom = await chain.provider.getBlockNumber(), watching = true, l1ReadErrors = 0;
// The sequencer's memory (it shares this process): the highest heap in use and resident set seen.
const memory = { heapMiB: 0, rssMiB: 0, heapLimitMiB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20) };
const watchL1 = (async () => {
  while (watching) {
    const m = process.memoryUsage();
    memory.heapMiB = Math.max(memory.heapMiB, Math.round(m.heapUsed / 2 ** 20));
    memory.rssMiB = Math.max(memory.rssMiB, Math.round(m.rss / 2 ** 20));
    try {
      const to = await chain.provider.getBlockNumber();
      if (to > seenFrom) {
        const now = Date.now();
        for (const e of (await d.rollup.queryFilter(d.rollup.filters.BeaconRecorded(), seenFrom + 1, to)) as EventLog[]) if (!beaconSeen.has(Number(e.args[0]))) beaconSeen.set(Number(e.args[0]), now);
        for (const e of (await d.rollup.queryFilter(d.rollup.filters.BatchSubmitted(), seenFrom + 1, to)) as EventLog[]) if (!batchSeen.has(Number(e.args[0]))) batchSeen.set(Number(e.args[0]), now);
        seenFrom = to;
      }
    } catch (e) {
      // A dropped keep-alive connection to the node: read the same blocks again next time.
      l1ReadErrors++;
      if (l1ReadErrors > 100) throw e;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
})();
const worker = new Worker(new URL("./lib/ticket-traffic-entry.mjs", import.meta.url), { workerData: cfg });
const traffic = await new Promise<TrafficResult>((resolve, reject) => worker.once("message", (m) => ("error" in m ? reject(new Error(m.error)) : resolve(m))));
await worker.terminate();
loopDelay.disable();
const eventLoopDelayMs = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
console.log(`sequencer's event loop during the traffic: delay p50 ${eventLoopDelayMs.p50.toFixed(0)} ms, p99 ${eventLoopDelayMs.p99.toFixed(0)} ms, max ${eventLoopDelayMs.max.toFixed(0)} ms; ${traffic.retries} posts retried`);
if (traffic.refused.length) console.log(`refused bundles: ${traffic.refused.join("; ")}`);
console.log(`traffic: ${traffic.answers} answers in ${traffic.seconds.toFixed(1)} s (${(traffic.answers / traffic.seconds).toFixed(0)}/s), ${traffic.bundles.length} bundles, signing ${(traffic.signMsTotal / 1000).toFixed(1)} s`);

// Outcome of each bundle (its beacon on L1) and payout of each winner, as the API shows them, with the time first seen.
const decidedAt = new Map<number, number>();
const paidAt = new Map<string, number>();
const views = new Map<string, TicketView>();
const rejected = new Map<number, string>();
const t1 = Date.now();
await until("every bundle decided and every payable winner paid", async () => {
  // Every committed bundle, newest first, a page of 100 at a time.
  const o = await api("/v1/explorer/tickets?limit=100");
  for (let page = o.bundles; page.length === 100; ) {
    page = (await api(`/v1/explorer/tickets?limit=100&before=${page[page.length - 1].id}`)).bundles;
    o.bundles.push(...page);
  }
  for (const b of o.bundles as { id: number; beacon: string | null; winners: { id: string; paidIn: number | null }[] }[]) {
    if (b.beacon && !decidedAt.has(b.id)) decidedAt.set(b.id, Date.now());
    for (const w of b.winners) {
      if (paidAt.has(w.id) || w.paidIn === null) continue;
      const v = (await api(`/v1/receipts/${w.id}`)) as TicketView;
      if (v.paidStatus === "finalized") {
        paidAt.set(w.id, Date.now());
        views.set(w.id, v);
      }
    }
  }
  // A bundle the sequencer refused at sealing (its reason on its tickets) is done too.
  for (const b of traffic.bundles) {
    if (decidedAt.has(b.ticketBundle) || rejected.has(b.ticketBundle)) continue;
    const v = (await api(`/v1/receipts/${b.ticketIds[0]}`)) as TicketView;
    if (v.status === "rejected") rejected.set(b.ticketBundle, v.error ?? "");
  }
  const all = traffic.bundles.every((b) => decidedAt.has(b.ticketBundle) || rejected.has(b.ticketBundle));
  const waiting = o.tickets.won - paidAt.size;
  // Done when every bundle is decided and no winner is paid for 60 s (what is left waits for the pool).
  if (!all) return undefined;
  if (waiting === 0) return true;
  const last = Math.max(...paidAt.values(), t1);
  return Date.now() - last > 60_000 ? true : undefined;
});
const overview = await api("/v1/explorer/tickets?limit=100");
watching = false;
await watchL1;

// Proving and gas, from the sequencer's batches and L1.
const list = (await api("/v1/batches?limit=100")).batches as { number: number; gasUsed: string | null; receipts: number }[];
let provingMs = 0, gas = 0n, batches = 0;
for (const b of list.filter((x) => x.number > batchesBefore)) {
  const full = await api(`/v1/batches/${b.number}`);
  provingMs += (full.proofAttempts as { ms: number | null; outcome: string }[]).filter((a) => a.outcome === "proved").reduce((s, a) => s + (a.ms ?? 0), 0);
  gas += BigInt(b.gasUsed ?? 0);
  batches++;
}
for (const e of (await d.rollup.queryFilter(d.rollup.filters.BeaconRecorded())) as EventLog[]) {
  const tx = await e.getTransaction();
  if (d.rollup.interface.parseTransaction({ data: tx.data })?.name === "recordBeacon") gas += (await e.getTransactionReceipt()).gasUsed;
}
// Proving core-seconds: the CPU time the proofs took (the sequencer's /metrics: each prover thread's witness and
// verification, and the native prover process's own count over its threads), whatever else ran on the machine;
// beside it, the proofs' wall time × the machine's cores, which also charges them the traffic that shared the cores.
const cores = cpus().length;
const metricsText = await (await fetch(`${svc.url}/metrics`)).text();
const proofCpuSeconds = [...metricsText.matchAll(/^poa_proof_cpu_seconds_total\{prover="[a-z]+"\} (\S+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
const wallCoreSecondsPer1000Answers = ((provingMs / 1000) * cores * 1000) / traffic.answers;
// (snarkjs's proofs have no CPU count: then their wall time × cores stands for it.)
const coreSecondsPer1000Answers = proofCpuSeconds > 0 ? (proofCpuSeconds * 1000) / traffic.answers : wallCoreSecondsPer1000Answers;
const gasPerAnswer = Number(gas) / traffic.answers;
const hostsFor1000PerSecond = coreSecondsPer1000Answers / cores;

// Latencies: an answer to its ticket's outcome (its commit batch's beacon on L1), and a winner's answer to its
// payout (the batch that paid it on L1), from when L1 first showed them; the API's first sight where L1 was not watched.
const toOutcome: number[] = [], toPayout: number[] = [];
for (const b of traffic.bundles) {
  if (!decidedAt.has(b.ticketBundle)) continue;
  const v = (await api(`/v1/receipts/${b.ticketIds[0]}`)) as TicketView;
  const at = beaconSeen.get(v.batch! - 1) ?? decidedAt.get(b.ticketBundle)!;
  for (const a of b.answeredAt) toOutcome.push((at - a) / 1000);
  b.ticketIds.forEach((id, j) => paidAt.has(id) && toPayout.push(((batchSeen.get(views.get(id)!.paidIn!) ?? paidAt.get(id)!) - b.answeredAt[j]) / 1000));
}
const lat = (x: number[]) => ({ p50: x.length ? quantile(x, 0.5) : NaN, p99: x.length ? quantile(x, 0.99) : NaN, n: x.length });

// Realized against expected by popularity decile (contributors ranked by the answers they appear in).
const realized = new Map<string, bigint>();
for (const v of views.values()) for (const e of v.entries) realized.set(e.contributor, (realized.get(e.contributor) ?? 0n) + BigInt(e.paid ?? 0));
const ranked = traffic.contributors.sort((a, b) => b[1].answers - a[1].answers);
const deciles = Array.from({ length: 10 }, (_, k) => {
  const group = ranked.slice(Math.floor((k * ranked.length) / 10), Math.floor(((k + 1) * ranked.length) / 10));
  const exp = group.reduce((s, [, c]) => s + BigInt(c.expected), 0n);
  const real = group.reduce((s, [i]) => s + (realized.get(`0x${contributorAddress(i).toString(16).padStart(40, "0")}`) ?? 0n), 0n);
  return { decile: k + 1, contributors: group.length, answersEach: group.length ? group[Math.floor(group.length / 2)][1].answers : 0, expectedOpen: Number(exp) / 1e18, realizedOpen: Number(real) / 1e18, ratio: exp > 0n ? Number(real) / Number(exp) : 0 };
});

// The API's expected earnings against the traffic's own (the payout rule at each ticket's expected value), to
// the unit, for contributors across the popularity range; and its realized against the winners' paid entries.
const probe = [0, 1, 2, 10, 100, 1000, 10_000, Math.floor(ranked.length / 2), ranked.length - 1].filter((i) => i < ranked.length).map((i) => ranked[i]);
const checked = await Promise.all(probe.map(async ([i, c]) => {
  const address = `0x${contributorAddress(i).toString(16).padStart(40, "0")}`;
  const e = (await api(`/v1/accounts/${address}/tickets`)) as { expected: string; realized: string };
  return { address, answers: c.answers, expected: c.expected, apiExpected: e.expected, realized: (realized.get(address) ?? 0n).toString(), apiRealized: e.realized };
}));
const earningsExact = checked.filter((x) => x.expected === x.apiExpected && x.realized === x.apiRealized).length;

const stack = {
  instance: INSTANCE, constraints: readManifest(INSTANCE)?.constraints ?? null, prover: proverBackend(), rate: RATE, answers: traffic.answers, trafficSeconds: traffic.seconds,
  achievedRate: traffic.answers / traffic.seconds, winProb: 2 ** -K_BITS, bundle: 4 ** shape.treeDepth, bundles: traffic.bundles.length,
  rejectedBundles: [...rejected.values()], winners: overview.tickets.won, paid: paidAt.size, waiting: overview.tickets.won - paidAt.size, batches, provingSeconds: provingMs / 1000, proofCpuSeconds, wallCoreSecondsPer1000Answers, cores, gas: gas.toString(),
  signSecondsPer1000Answers: traffic.signMsTotal / traffic.answers, eventLoopDelayMs, memory, postsRetried: traffic.retries,
  latencySeconds: { answerToOutcome: lat(toOutcome), answerToPayout: lat(toPayout) }, pool: overview.pool, deciles, earningsChecked: checked, earningsExact,
};
const measured = { coreSecondsPer1000Answers, gasPerAnswer, hostsFor1000PerSecond, stack };
writeResults({ ...(K_BITS === DEFAULT_K ? { tickets: measured } : {}), ticketsByWinProb: { [`2^-${K_BITS}`]: measured } });
const f = (x: number, d = 1) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
writeSection(`Tickets: the real stack, p = 2^-${K_BITS}`, `Payment tickets through the real sequencer, chain and prover (docs/PROTOCOL.md §16; \`bench/tickets-stack.ts\`). ${runMeta().line}

${traffic.answers.toLocaleString("en-US")} answers of the reference workload in ${f(traffic.seconds)} s (${f(stack.achievedRate, 0)} answers/s; asked for ${RATE}), each a real ticket at p = 2^-${K_BITS} (fee ${Number(FEE) / 1e18} OPEN, face ${Number(FEE << BigInt(K_BITS)) / 1e18} OPEN), signed by ${PROVIDERS} providers in ${traffic.bundles.length} bundles of up to ${stack.bundle} and posted over HTTP to the sequencer (instance \`${INSTANCE}\`: D ${params.depth}, T ${params.slots}, DT ${shape.treeDepth}, ${shape.commits} commit and ${shape.winners} winners a batch); batches proved by the ${stack.prover} prover on this machine's ${cores} cores and verified on Hardhat; beacons recorded from L1's prevrandao.

| measure | value | target |
|---|---:|---:|
| proving core-seconds per 1,000 answers (\`tickets.coreSecondsPer1000Answers\`: the proofs' CPU time) | **${f(coreSecondsPer1000Answers, 2)}** (${f(proofCpuSeconds)} CPU-s over ${batches} batches) | ≤ 1 |
| the same as the proofs' wall time × ${cores} cores (\`tickets.stack.wallCoreSecondsPer1000Answers\`; the traffic shared the cores) | ${f(wallCoreSecondsPer1000Answers, 2)} (${f(stack.provingSeconds)} s of proofs) | |
| L1 gas per answer (\`tickets.gasPerAnswer\`; submitBatch and recordBeacon) | **${f(gasPerAnswer)}** | ≤ 50 |
| hosts like this one for 1,000 answers/s (\`tickets.hostsFor1000PerSecond\`) | **${f(hostsFor1000PerSecond, 2)}** (exact receipts on the production instance: ${farm.production ?? "?"} with the native prover, ${farm.productionSnarkjs ?? "?"} with snarkjs; bench/farm.ts) | 1 |
| winners | ${stack.winners} (expected ${f(traffic.answers * 2 ** -K_BITS)}); ${stack.paid} paid, ${stack.waiting} waiting for the pool | ≥ 100 |
| answer → its ticket's outcome, p50 / p99 | ${f(stack.latencySeconds.answerToOutcome.p50)} / ${f(stack.latencySeconds.answerToOutcome.p99)} s | |
| winner's answer → its payout final on L1, p50 / p99 | ${f(stack.latencySeconds.answerToPayout.p50)} / ${f(stack.latencySeconds.answerToPayout.p99)} s | |
| signing the tickets (provider side), per 1,000 answers | ${f(stack.signSecondsPer1000Answers, 2)} core-s | |
| the sequencer's event loop during the traffic: delay p50 / p99 / max | ${f(eventLoopDelayMs.p50, 0)} / ${f(eventLoopDelayMs.p99, 0)} / ${f(eventLoopDelayMs.max, 0)} ms | |
| the sequencer's process: highest heap in use / resident | ${memory.heapMiB.toLocaleString("en-US")} MiB (of ${memory.heapLimitMiB.toLocaleString("en-US")}) / ${memory.rssMiB.toLocaleString("en-US")} MiB | |

Expected and realized earnings as the API gives them (\`GET /v1/accounts/{address}/tickets\`) equal, to the unit, the payout rule applied by the traffic itself (expected) and the winners' paid entries (realized) for **${earningsExact} of ${checked.length}** contributors probed across the popularity range (ranks 1, 2, 3, 11, 101, 1,001, 10,001, the median and the last).

The pool took ${Number(BigInt(overview.pool.inflow)) / 1e18} OPEN, paid ${Number(BigInt(overview.pool.paidOut)) / 1e18} OPEN and holds ${Number(BigInt(overview.pool.balance)) / 1e18} OPEN.

Realized against expected earnings by popularity decile (contributors ranked by the answers they appear in; expected: the payout rule at each ticket's expected value; realized: at face value over the winners paid):

| decile | contributors | answers each (median) | expected (OPEN) | realized (OPEN) | realized / expected |
|---:|---:|---:|---:|---:|---:|
${deciles.map((x) => `| ${x.decile} | ${x.contributors.toLocaleString("en-US")} | ${x.answersEach} | ${x.expectedOpen.toFixed(5)} | ${x.realizedOpen.toFixed(5)} | ${x.ratio.toFixed(3)} |`).join("\n")}`);
console.log(JSON.stringify({ coreSecondsPer1000Answers, gasPerAnswer, hostsFor1000PerSecond, stack }, null, 2));
await svc.close();
await chain.stop();
process.exit(0);
