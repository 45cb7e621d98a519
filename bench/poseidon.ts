// npm run bench, part: Poseidon, the native addon (prover/native/addon) against
// circomlibjs, on the hashes tickets spend their CPU on: Poseidon of 2 and 16
// inputs, and a ticket's hash at K = 8 (its receipt hash and Poseidon(receipt,
// winProb): what the serving node computes per answer and the sequencer per
// ticket it checks). Each implementation runs in its own process (POA_POSEIDON=js
// turns the addon off), 7 rounds each, medians.
//   npx tsx bench/poseidon.ts  → bench/RESULTS.md "Poseidon: native against circomlibjs", results.json poseidon
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { initCrypto, poseidon, poseidonImplementation } from "../core/crypto.js";
import { ticketHash, ticketFor } from "../core/ticket.js";
import { ROOT } from "../artifacts/paths.js";
import { median } from "./lib/stats.js";
import { runMeta, writeResults, writeSection } from "./results.js";

type Timings = { implementation: string; poseidon2: number; poseidon16: number; ticketHashK8: number };

async function measure(): Promise<Timings> {
  await initCrypto();
  const impl = poseidonImplementation();
  const time = (n: number, f: (i: number) => unknown) => {
    const rounds: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) f(i);
      rounds.push(((performance.now() - t0) * 1000) / n);
    }
    return median(rounds);
  };
  const entries = Array.from({ length: 8 }, (_, i) => ({ contributor: BigInt(0x10000 + i * 7919), score: BigInt(1000 + i) }));
  return {
    implementation: impl.native ? "native" : "circomlibjs",
    poseidon2: time(4000, (i) => poseidon([BigInt(i), 2n])),
    poseidon16: time(1000, (i) => poseidon(Array.from({ length: 16 }, (_, j) => BigInt(i * 16 + j)))),
    ticketHashK8: time(1000, (i) => ticketHash(ticketFor({ providerIdx: 1, owner: 0x1001n, fee: 10n ** 14n, nonce: BigInt(i), inputHash: BigInt(i + 1), outputHash: 1n, entries }, 13), 8)),
  };
}

if (process.env.POSEIDON_BENCH_CHILD) {
  console.log(JSON.stringify(await measure()));
  process.exit(0);
}
const run = (env: Record<string, string>): Timings => {
  const r = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], { cwd: ROOT, env: { ...process.env, POSEIDON_BENCH_CHILD: "1", ...env }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`poseidon bench child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Timings;
};
const native = run({});
const js = run({ POA_POSEIDON: "js" });
if (native.implementation !== "native") throw new Error("the native Poseidon addon is not built: npm run build:native");
const rows = [["Poseidon, 2 inputs", "poseidon2"], ["Poseidon, 16 inputs", "poseidon16"], ["a ticket's hash, K = 8", "ticketHashK8"]] as const;
const ratio = Object.fromEntries(rows.map(([, k]) => [k, js[k] / native[k]]));
writeResults({ poseidon: { microseconds: { native: { poseidon2: native.poseidon2, poseidon16: native.poseidon16, ticketHashK8: native.ticketHashK8 }, circomlibjs: { poseidon2: js.poseidon2, poseidon16: js.poseidon16, ticketHashK8: js.ticketHashK8 } }, ratio } });
const f = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
writeSection("Poseidon: native against circomlibjs", `\`bench/poseidon.ts\`. ${runMeta().line} One thread, medians of 7 rounds; each implementation in its own process.

| hash | native (µs) | circomlibjs (µs) | ratio |
|---|---:|---:|---:|
${rows.map(([name, k]) => `| ${name} | ${f(native[k])} | ${f(js[k])} | **${f(ratio[k])}×** |`).join("\n")}

The addon (\`prover/native/addon/poseidon.cpp\`) runs circomlib's optimized Poseidon on the prover's Montgomery field code (ffiasm's assembly, or its C fallback); \`core/crypto.ts\` uses it when it is built and falls back to circomlibjs otherwise, and \`test/poseidon-native.test.ts\` checks the two agree at every width.`);
console.log(JSON.stringify({ native, js, ratio }, null, 2));
