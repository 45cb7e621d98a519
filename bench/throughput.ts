// npm run bench, part: proving throughput of the service's prover (a Piscina
// worker thread that computes the witness, has the native prover prove it and
// verifies the proof) against a plain script doing witness + native proof
// (prover/native/run.ts) with nothing around it, and against plain snarkjs
// groth16.fullProve; the same circuit and inputs, in the same run, rounds
// alternating so that no side gets the warmer machine. Target: service over
// plain ≥ 0.9 (issues 10 and 23).
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import { initCrypto } from "../core/crypto.js";
import { calculateWitness, terminateCurve } from "../prover/groth16.js";
import { nativeProve } from "../prover/native/run.js";
import { ProverPool } from "../prover/pool.js";
import { artifactPaths } from "../artifacts/paths.js";
import { writeResults, writeSection } from "./results.js";
import { batchInput } from "./lib/batch-input.js";
import { median } from "./lib/stats.js";

const INSTANCE = process.env.POA_BENCH_INSTANCE ?? "test";
const ROUNDS = Number(process.env.POA_BENCH_ROUNDS ?? 5);

async function main(): Promise<void> {
  await initCrypto();
  const a = artifactPaths(INSTANCE);
  const input = await batchInput(INSTANCE);
  const pool = new ProverPool(1, "native");
  const plainNative: number[] = [], plainSnarkjs: number[] = [], service: number[] = [];
  const zkey = readFileSync(a.zkey);
  const plain = async () => nativeProve(a.zkey, await calculateWitness(INSTANCE, input));
  // Warm up every side: the worker loads its wasm once, snarkjs its curve.
  await pool.prove(INSTANCE, input);
  await plain();
  await snarkjs.groth16.fullProve(input, a.wasm, { type: "mem", data: zkey });
  for (let i = 0; i < ROUNDS; i++) {
    let t0 = performance.now();
    const { publicSignals } = await plain();
    plainNative.push(performance.now() - t0);
    t0 = performance.now();
    const proved = await pool.prove(INSTANCE, input);
    service.push(performance.now() - t0);
    if (proved.prover !== "native") throw new Error(`the service proved with ${proved.prover}, not the native prover`);
    if (proved.publicSignals.join() !== publicSignals.join()) throw new Error("the service and the plain script proved different public signals");
    t0 = performance.now();
    await snarkjs.groth16.fullProve(input, a.wasm, { type: "mem", data: zkey });
    plainSnarkjs.push(performance.now() - t0);
  }
  await pool.close();
  const ratio = median(plainNative) / median(service);
  const row = (label: string, xs: number[]) => `| ${label} | ${(median(xs) / 1000).toFixed(2)} | ${xs.map((x) => (x / 1000).toFixed(2)).join(", ")} |`;
  const body = `Instance \`${INSTANCE}\`; ${ROUNDS} alternating rounds after one warm-up each; ${new Date().toISOString().slice(0, 10)}, ${process.platform} ${process.arch}.

| prover | median s per batch | all runs (s) |
|---|---:|---|
${row("plain script: witness (wasm) + the native prover", plainNative)}
${row("service: Piscina worker (witness + native proof + verify)", service)}
${row("plain script: snarkjs groth16.fullProve (main thread), for comparison", plainSnarkjs)}

Throughput of the service over the plain script, both native: **${ratio.toFixed(2)}** (target ≥ 0.9; the service also verifies every proof before it is stored). The service proves ${(median(plainSnarkjs) / median(service)).toFixed(1)}× the batches of plain snarkjs.`;
  console.log(body);
  writeSection("Proving throughput: service against plain snarkjs (npm run bench)", body);
  writeResults({ throughput: { serviceOverPlain: Number(ratio.toFixed(3)), plainMedianSeconds: median(plainNative) / 1000, serviceMedianSeconds: median(service) / 1000, plainSnarkjsMedianSeconds: median(plainSnarkjs) / 1000, serviceOverSnarkjs: Number((median(plainSnarkjs) / median(service)).toFixed(2)), prover: "native", instance: INSTANCE } });
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(terminateCurve);
