// npm run bench, part: payment tickets end to end through the real serving node
// (issue 24). `poa serve` runs as its own process on the `tickets` instance and
// pays every answer by ticket (its default), posting its bundles to the real
// sequencer, whose batches the default prover proves on this same machine and a
// real Hardhat chain verifies. Closed-loop HTTP clients ask for completions of a
// LoRA adapter that ModelFactory trained on a datanet, at rising concurrency;
// the highest answers/s sustained is the result, with the share of the serving
// process's CPU spent on tickets (hashing each answer's ticket, signing each
// bundle's sum tree: its /metrics openlora_payment_cpu_seconds_total) and the
// whole machine's CPU beside it.
//   npx tsx bench/serving-stack.ts  → bench/RESULTS.md "Tickets: through the serving node", results.json tickets.serving
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Contract } from "ethers";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { ROOT } from "../artifacts/paths.js";
import { bjjKey } from "../ops/client.js";
import { startFactoryWorld } from "../test/lib/factory-world.js";
import { quantile } from "./lib/stats.js";
import { runMeta, writeResults, writeSection } from "./results.js";

const INSTANCE = process.env.SERVING_INSTANCE ?? "tickets";
const LEVELS = (process.env.SERVING_CLIENTS ?? "4,16,48").split(",").map(Number);
const SECONDS = Number(process.env.SERVING_SECONDS ?? 40);
const MAX_TOKENS = 24;
const PRICE = 10n ** 15n; // per 1,000 tokens: an answer of ~30 tokens costs ~0.00003 OPEN, a ticket at p = 2^-11 of the 0.1 OPEN face
const OPEN = 10n ** 18n;
const PROMPTS = ["Day 3. Wind from the", "We sighted", "Day 9. Wind from the", "the sea was", "Day 12.", "and lowered two"];

const setup = spawnSync("npx", ["tsx", "scripts/setup.ts", "--config", INSTANCE], { cwd: ROOT, stdio: "inherit", env: { ...process.env, NODE_OPTIONS: "--max-old-space-size=16384" } });
if (setup.status !== 0) throw new Error(`setup --config ${INSTANCE} failed`);
await initCrypto();
// The sequencer waits up to 30 s to fill a batch, as an operator would run it: a proof costs the same however little it holds.
const w = await startFactoryWorld(29545, INSTANCE, { maxWaitMs: 30_000, pollMs: 200 });
const api = async (method: string, path: string, body?: unknown) => (await w.api(method, path, body)).json;
const job = await api("POST", "/v1/jobs", { method: "lora", name: "logbook", owner: w.curator.address, datanets: [1], base: "tiny", seqLen: 32, epochs: 6, learningRate: 0.01 });
for (;;) {
  const j = await api("GET", `/v1/jobs/${job.id}`);
  if (j.state === "done") break;
  if (j.state === "failed") throw new Error(`the fine-tuning job failed: ${j.error}`);
  await new Promise((r) => setTimeout(r, 1000));
}
const model = (await api("POST", `/v1/jobs/${job.id}/publish`, { pricePer1kTokens: PRICE.toString() })).model.id as number;
const provider = devWallet(7, w.chain.provider);
const deployer = devWallet(0, w.chain.provider);
await (await (w.d.token.connect(deployer) as Contract).transfer(provider.address, 10n * OPEN)).wait();
await (await (w.d.token.connect(provider) as Contract).approve(await w.d.rollup.getAddress(), 10n * OPEN)).wait();
const pub = await publicKeyOf(bjjKey(provider));
await (await (w.d.rollup.connect(provider) as Contract).deposit(10n * OPEN, pub.ax, pub.ay)).wait();
while ((await w.api("GET", `/v1/accounts/${provider.address}`)).status !== 200) await new Promise((r) => setTimeout(r, 500));

// The serving node, its own process: its CPU is its own.
const port = 29081;
const node = spawn(process.execPath, ["--import", "tsx", "scripts/poa.ts", "serve",
  "--rpc", w.chain.url, "--model-registry", await w.d.modelRegistry.getAddress(), "--rollup", await w.d.rollup.getAddress(), "--instance", INSTANCE,
  "--api", w.svc.url, "--provider-key", provider.privateKey, "--base", "tiny", "--cache-dir", mkdtempSync(join(tmpdir(), "poa-serving-bench-")), "--port", String(port),
  "--allow-owners", w.curator.address, "--max-batch", "32"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
const url = `http://127.0.0.1:${port}`;
for (let i = 0; !(await fetch(`${url}/healthz`).then((r) => r.ok).catch(() => false)); i++) {
  if (i > 240) throw new Error("poa serve did not start");
  await new Promise((r) => setTimeout(r, 500));
}
const health = async () => (await fetch(`${url}/healthz`)).json() as Promise<{ payments: { receipts: Record<string, number> } }>;
while ((await health()).payments.receipts === undefined) await new Promise((r) => setTimeout(r, 500));

const clockTicks = 100; // USER_HZ
const processCpu = () => { const f = readFileSync(`/proc/${node.pid}/stat`, "utf8").split(") ")[1].split(" "); return (Number(f[11]) + Number(f[12])) / clockTicks; };
const machineCpu = () => { const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number); return { busy: (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / clockTicks, all: f.slice(0, 8).reduce((a, b) => a + b, 0) / clockTicks }; };
const paymentCpu = async () => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^openlora_payment_cpu_seconds_total\{kind="(\w+)",step="(\w+)"\} ([0-9.e+-]+)$/gm)) out[`${m[1]}.${m[2]}`] = Number(m[3]);
  return out;
};
const complete = async (i: number) => {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: String(model), prompt: PROMPTS[i % PROMPTS.length], max_tokens: MAX_TOKENS, temperature: 0.8, seed: i }) });
  const body = (await res.json()) as { receipt?: { kind: string }; error?: { message: string } };
  if (res.status !== 200) throw new Error(`completion ${i}: ${res.status} ${body.error?.message}`);
  return { ms: performance.now() - t0, ticket: body.receipt?.kind === "ticket" };
};
// One warm answer: the adapter loaded and its attribution index built.
await complete(0);

interface Level { clients: number; answers: number; seconds: number; answersPerSecond: number; tickets: number; latencyMs: { p50: number; p99: number }; nodeCpuSeconds: number; nodeCores: number; ticketCpuSeconds: number; ticketShare: number; machineBusy: number }
const levels: Level[] = [];
let seq = 1;
for (const clients of LEVELS) {
  const cpu0 = processCpu(), m0 = machineCpu(), w0 = await paymentCpu();
  const t0 = performance.now();
  const lat: number[] = [];
  let tickets = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() - t0 < SECONDS * 1000) {
      const r = await complete(seq++);
      lat.push(r.ms);
      if (r.ticket) tickets++;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = processCpu() - cpu0, m1 = machineCpu(), w1 = await paymentCpu();
  const ticketCpu = (w1["ticket.hash"] - w0["ticket.hash"]) + (w1["ticket.sign"] - w0["ticket.sign"]);
  const level = { clients, answers: lat.length, seconds, answersPerSecond: lat.length / seconds, tickets, latencyMs: { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) }, nodeCpuSeconds: cpu, nodeCores: cpu / seconds, ticketCpuSeconds: ticketCpu, ticketShare: ticketCpu / cpu, machineBusy: (m1.busy - m0.busy) / (m1.all - m0.all) };
  levels.push(level);
  console.log(`${clients} clients: ${level.answersPerSecond.toFixed(1)} answers/s, p50 ${level.latencyMs.p50.toFixed(0)} ms, node ${level.nodeCores.toFixed(2)} cores, tickets ${(100 * level.ticketShare).toFixed(2)}% of its CPU, machine ${(100 * level.machineBusy).toFixed(0)}% busy`);
}

// Every answer's ticket reaches the sequencer (the outbox drains), and is committed by a batch.
const answered = levels.reduce((s, l) => s + l.answers, 1);
const drained = performance.now();
for (;;) {
  const r = (await health()).payments.receipts;
  if (r.issued + r.bundled === 0 && r.accepted >= answered) break;
  if (performance.now() - drained > 600_000) throw new Error(`the outbox did not drain: ${JSON.stringify(r)}`);
  await new Promise((r) => setTimeout(r, 1000));
}
const receipts = (await health()).payments.receipts;
const bundles = (await w.svc.sequencer.store.committedTicketBundles()).length + (await w.svc.sequencer.store.pendingTicketBundles()).length;
const best = levels.reduce((a, b) => (b.answersPerSecond > a.answersPerSecond ? b : a));
const serving = { instance: INSTANCE, model, maxTokens: MAX_TOKENS, secondsPerLevel: SECONDS, cores: cpus().length, levels, best: { clients: best.clients, answersPerSecond: best.answersPerSecond, ticketShare: best.ticketShare }, answered, accepted: receipts.accepted, rejected: receipts.rejected, ticketBundles: bundles };
writeResults({ tickets: { serving } });
const f = (x: number, d = 1) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
writeSection("Tickets: through the serving node", `Payment tickets end to end through the real serving node (\`bench/serving-stack.ts\`). ${runMeta().line}

\`poa serve\` as its own process, paying every answer by ticket (its default: face 0.1 OPEN), on the \`${INSTANCE}\` instance; its bundles go to the real sequencer (up to 30 s to fill a batch), whose batches the default prover proves on the same ${cpus().length} cores and Hardhat verifies. Clients in closed loops over HTTP ask a ModelFactory LoRA adapter (tiny base, trained on the logbook datanet) for ${MAX_TOKENS}-token completions, ${SECONDS} s per row. Each answer is generated, attributed (token runs and LoRA-space gradient, on the receipt thread), priced and written to the outbox as a ticket before it is sent.

| clients | answers/s | latency p50 / p99 (ms) | serving node's CPU (cores) | tickets' share of it (hash + sum-tree signing) | whole machine busy |
|---:|---:|---:|---:|---:|---:|
${levels.map((l) => `| ${l.clients} | ${f(l.answersPerSecond)} | ${f(l.latencyMs.p50, 0)} / ${f(l.latencyMs.p99, 0)} | ${f(l.nodeCores, 2)} | ${f(100 * l.ticketShare, 2)}% (${f(l.ticketCpuSeconds, 2)} s) | ${f(100 * l.machineBusy, 0)}% |`).join("\n")}

Highest sustained: **${f(best.answersPerSecond)} answers/s** (${best.clients} clients), tickets **${f(100 * best.ticketShare, 2)}%** of the serving node's CPU. All ${answered.toLocaleString("en-US")} answers' tickets reached the sequencer (${receipts.accepted} accepted, ${receipts.rejected} rejected) in ${bundles} bundles: the node fills its next bundle while the previous one waits for a batch (docs/PROTOCOL.md §14.1).`);
console.log(JSON.stringify(serving, null, 2));
node.kill("SIGINT");
await new Promise((r) => node.once("exit", r));
await w.stop();
process.exit(0);
