// npm run bench, part: the native Groth16 prover (prover/native) against
// snarkjs, on the same zkey and witness, in one run, interleaved. snarkjs runs
// warm in a process of its own (as the service's worker calls it: zkey in
// memory); the native prover runs as the service runs it, a process per proof.
// Peak memory is each process's ru_maxrss. The production instance is measured
// where setup has built it; so is phase 2's initial zkey, native against snarkjs.
import { fork } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCrypto } from "../core/crypto.js";
import { loadInstance } from "../core/params.js";
import { RollupState } from "../core/rollup.js";
import { calculateWitness } from "../prover/groth16.js";
import { exitInput } from "../prover/exit.js";
import { findNativeProver } from "../prover/native/build.js";
import { nativeNewZkey, nativeProve, type NativeProfile } from "../prover/native/run.js";
import { artifactPaths, readManifest, ROOT, type CircuitKind } from "../artifacts/paths.js";
import { batchInput } from "./lib/batch-input.js";
import { median } from "./lib/stats.js";
import { runMeta, writeResults, writeSection } from "./results.js";

const ROUNDS = Number(process.env.POA_BENCH_ROUNDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), "poa-bench-native-"));

type Reply = { seconds: number; publicSignals: string[] } | { peakMiB: number };
const child = fork(join(ROOT, "bench", "lib", "snarkjs-prover-child.ts"), [], { execArgv: ["--import", "tsx"], env: { ...process.env, NODE_OPTIONS: "--max-old-space-size=16384" } });
const replies: ((r: Reply) => void)[] = [];
const ready = new Promise<void>((r) => child.once("message", () => r()));
child.on("message", (m) => m !== "ready" && replies.shift()?.(m as Reply));
const ask = (m: unknown) => new Promise<Reply>((r) => { replies.push(r); child.send(m as never); });

interface Side { seconds: number[]; peakMiB: number }
interface Row { label: string; constraints: number; snarkjs?: Side; native: Side; profile: NativeProfile }

async function measure(label: string, instance: string, kind: CircuitKind, input: Record<string, unknown>, withSnarkjs: boolean, rounds: number): Promise<Row> {
  const a = artifactPaths(instance, kind);
  const wtns = await calculateWitness(instance, input, kind);
  const wtnsFile = join(dir, `${instance}-${kind}.wtns`);
  writeFileSync(wtnsFile, wtns);
  const native: Side = { seconds: [], peakMiB: 0 };
  const js: Side = { seconds: [], peakMiB: 0 };
  const profiles: NativeProfile[] = [];
  if (withSnarkjs) await ask({ zkey: a.zkey, wtns: wtnsFile }); // warm-up: snarkjs loads the zkey once
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const p = await nativeProve(a.zkey, wtns);
    native.seconds.push((performance.now() - t0) / 1000);
    native.peakMiB = Math.max(native.peakMiB, p.profile.peakMiB);
    profiles.push(p.profile);
    if (withSnarkjs) {
      const r = (await ask({ zkey: a.zkey, wtns: wtnsFile })) as { seconds: number; publicSignals: string[] };
      js.seconds.push(r.seconds);
      if (r.publicSignals.join() !== p.publicSignals.join()) throw new Error(`${label}: snarkjs and the native prover proved different public signals`);
    }
  }
  const profile = profiles.sort((x, y) => x.proveMs - y.proveMs)[Math.floor(profiles.length / 2)];
  const constraints = readManifest(instance, kind)?.constraints ?? 0;
  return { label, constraints, snarkjs: withSnarkjs ? js : undefined, native, profile };
}

/** Phase 2's initial zkey for the test instance's batch circuit: the native setup against snarkjs's newZKey, once each, and the two files compared. */
async function measureSetup(): Promise<{ constraints: number; terms: number; nativeSeconds: number; nativePeakMiB: number; snarkjsSeconds: number; ratio: number; identical: boolean }> {
  const m = readManifest("test")!;
  const a = artifactPaths("test");
  const mine = join(dir, "native_0000.zkey"), theirs = join(dir, "snarkjs_0000.zkey");
  const t0 = performance.now();
  const st = await nativeNewZkey(a.r1cs, m.ptau!.path, mine);
  const nativeSeconds = (performance.now() - t0) / 1000;
  const snarkjs = await import("snarkjs");
  const t1 = performance.now();
  await snarkjs.zKey.newZKey(a.r1cs, m.ptau!.path, theirs);
  const snarkjsSeconds = (performance.now() - t1) / 1000;
  // The circuit fills the whole 2^17 ptau, so only the circuit hash (section 10) may differ (see setup.hpp).
  const [x, y] = [readFileSync(mine), readFileSync(theirs)];
  const identical = x.length === y.length && x.subarray(0, x.length - 68).equals(y.subarray(0, y.length - 68));
  return { constraints: st.constraints, terms: st.terms, nativeSeconds, nativePeakMiB: st.peakMiB, snarkjsSeconds, ratio: Number((snarkjsSeconds / nativeSeconds).toFixed(1)), identical };
}

async function main(): Promise<void> {
  await initCrypto();
  const build = findNativeProver();
  if ("missing" in build) throw new Error(build.missing);
  await ready;
  const p = loadInstance("test").params;
  let state = new RollupState(p, 0x7ea5n);
  const rows: Row[] = [];
  rows.push(await measure("test instance (batch)", "test", "batch", await batchInput("test"), true, ROUNDS));
  // The exit circuit over a state with one account (its leaf 0 is the treasury's).
  state = new RollupState(p, 0x7ea5n);
  rows.push(await measure("exit circuit (test depth)", "test", "exit", exitInput(state, 0), true, ROUNDS));
  const js = (await ask("exit")) as { peakMiB: number };
  for (const r of rows) if (r.snarkjs) r.snarkjs.peakMiB = js.peakMiB;
  const setup = await measureSetup();
  const prodPhase2 = readManifest("production")?.build?.phase2;
  let production: Row | undefined;
  if (existsSync(artifactPaths("production").zkey)) production = await measure("production instance", "production", "batch", await batchInput("production"), false, 3);

  const s = (xs: number[]) => median(xs);
  const us = (sec: number, c: number) => (c ? (sec * 1e6) / c : 0);
  const test = rows[0], exit = rows[1];
  const ratio = (r: Row) => s(r.snarkjs!.seconds) / s(r.native.seconds);
  const table = rows.map((r) => `| ${r.label} | ${r.constraints.toLocaleString("en-US")} | ${s(r.snarkjs!.seconds).toFixed(2)} (${r.snarkjs!.seconds.map((x) => x.toFixed(2)).join(", ")}) | ${s(r.native.seconds).toFixed(2)} (${r.native.seconds.map((x) => x.toFixed(2)).join(", ")}) | **${ratio(r).toFixed(1)}×** | ${us(s(r.snarkjs!.seconds), r.constraints).toFixed(0)} / ${us(s(r.native.seconds), r.constraints).toFixed(1)} | ${r.snarkjs!.peakMiB} / ${r.native.peakMiB} |`).join("\n");
  const split = (r: Row) => `| ${r.label} | ${r.profile.readMs.toFixed(0)} | ${r.profile.abcMs.toFixed(0)} | ${r.profile.fftMs.toFixed(0)} | ${r.profile.msmG1Ms.toFixed(0)} | ${r.profile.msmG2Ms.toFixed(0)} | ${r.profile.proveMs.toFixed(0)} |`;
  const prodLine = production
    ? `Production instance (${production.constraints.toLocaleString("en-US")} constraints): native **${s(production.native.seconds).toFixed(1)} s** (${production.native.seconds.map((x) => x.toFixed(1)).join(", ")}), peak ${production.native.peakMiB.toLocaleString("en-US")} MiB, against snarkjs's 155 s and 5.0 GB (bench/production.ts).`
    : `Production instance: **not measured in this run**: its zkey is not built here (\`npm run dev-ptau -- --power 21\`, then \`npm run setup -- --config production --ptau build/ptau/pot21_INSECURE_dev.ptau --ptau-blake2b <its b2sum>\`). At the test instance's ${us(s(test.native.seconds), test.constraints).toFixed(1)} µs per constraint, 1,297,617 constraints would take about ${((us(s(test.native.seconds), test.constraints) * 1297617) / 1e6).toFixed(0)} s — an extrapolation, not a measurement: the MSM grows as n/log n, the FFT as n log n.`;
  const snarkjsVersion = JSON.parse(readFileSync(join(ROOT, "node_modules", "snarkjs", "package.json"), "utf8")).version;
  const body = `snarkjs ${snarkjsVersion} warm in its own process (zkey in memory, as prover/worker.ts) against the native prover (${build.field === "asm" ? "ffiasm's generated x86-64 field assembly" : "the C field code"}, ${test.profile.threads} threads, a process per proof, the zkey mapped), on the same zkey and witness; ${ROUNDS} interleaved rounds after one snarkjs warm-up; public signals compared every round. ${runMeta().line}

| circuit | constraints | snarkjs s, median (runs) | native s, median (runs) | ratio | µs per constraint, snarkjs / native | peak MiB, snarkjs / native |
|---|---:|---:|---:|---:|---:|---:|
${table}

${prodLine}

Where the native prover's time goes (the median run, ms; read = map and check the zkey and witness, every point on its curve):

| circuit | read | A·w, B·w | iFFT + coset FFT (×3) | MSM G1 (A, B1, C, H) | MSM G2 (B2) | total |
|---|---:|---:|---:|---:|---:|---:|
${rows.map(split).join("\n")}${production ? "\n" + split(production) : ""}

snarkjs's peak is the whole proving process (node, the zkey held in memory, its curve threads), measured once after all its runs.

Phase 2's initial zkey (snarkjs's \`zkey new\`), made by the native prover's \`setup\` (what \`npm run setup\` runs) and by snarkjs, once each, for the test instance (${setup.constraints.toLocaleString("en-US")} constraints, ${setup.terms.toLocaleString("en-US")} point terms): native **${setup.nativeSeconds.toFixed(1)} s** (peak ${setup.nativePeakMiB} MiB), snarkjs ${setup.snarkjsSeconds.toFixed(1)} s: **${setup.ratio}×**; the two files are ${setup.identical ? "identical but for the circuit hash (section 10: this circuit fills its whole ptau, where snarkjs hashes bytes past a section)" : "DIFFERENT"}. ${prodPhase2 ? `Production instance, whole phase 2 (initial zkey by ${prodPhase2.by ?? "snarkjs"} + snarkjs's contribution), from its manifest: ${(prodPhase2.seconds / 60).toFixed(1)} min, peak ${prodPhase2.peakMiB.toLocaleString("en-US")} MiB (${prodPhase2.date.slice(0, 10)}; snarkjs alone: 8,302 s = 2.3 h and 9.4 GB on 2026-11-26).` : "The production instance's phase 2 is not built here."}`;
  console.log(body);
  writeSection("Native prover (npm run bench)", body);
  const side = (r: Row) => ({ constraints: r.constraints, snarkjsSeconds: r.snarkjs ? s(r.snarkjs.seconds) : null, nativeSeconds: s(r.native.seconds), ratio: r.snarkjs ? Number(ratio(r).toFixed(2)) : null, snarkjsPeakMiB: r.snarkjs?.peakMiB ?? null, nativePeakMiB: r.native.peakMiB, nativeUsPerConstraint: Number(us(s(r.native.seconds), r.constraints).toFixed(2)), snarkjsUsPerConstraint: r.snarkjs ? Number(us(s(r.snarkjs.seconds), r.constraints).toFixed(1)) : null, profile: r.profile });
  writeResults({
    nativeProver: {
      field: build.field, test: side(test), exit: side(exit), setup: { test: setup, productionPhase2: prodPhase2 ?? null },
      production: production ? { constraints: production.constraints, seconds: s(production.native.seconds), peakMiB: production.native.peakMiB, profile: production.profile, snarkjsSeconds: 155.2 } : { seconds: null, peakMiB: null, measured: false, why: "the production zkey is not built on this machine" },
      measured: runMeta(),
    },
  });
}

await main();
process.exit(0);
