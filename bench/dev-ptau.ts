// npm run bench (part 4): scripts/dev-ptau against snarkjs's own
// powers-of-tau flow, in one process on this machine.
//   1. per point: fixed-base multiplication (16-bit windows) against the
//      variable-base multiplication snarkjs's curve code does, one thread;
//   2. a whole prepared 2^12 file: dev-ptau against snarkjs new + contribute +
//      prepare phase2 (its single-threaded curve IFFT dominates);
//   3. dev-ptau wall time for 2^17 and 2^20 (all cores, and 2^17 on one).
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as snarkjs from "snarkjs";
import { terminateCurve } from "../prover/groth16.js";
import { ROOT } from "../artifacts/paths.js";
import { affineSize, Bn128, buildBn128Code, jacobianSize, N8, type Group } from "../ops/dev-ptau/bn128.js";
import { FixedBaseTable } from "../ops/dev-ptau/fixed-base.js";
import { writeDevPtau } from "../ops/dev-ptau/generate.js";
import { writeSection } from "./results.js";
import { median } from "./lib/stats.js";

const DIR = join(ROOT, "build", "bench-ptau");

async function perPoint(group: Group): Promise<{ fixed: number; variable: number }> {
  const c = await Bn128.create(buildBn128Code());
  const table = new FixedBaseTable(c, group, 16);
  const n = 2048;
  const scalars = c.alloc(n * N8), jac = c.alloc(n * jacobianSize(group)), out = c.alloc(n * affineSize(group));
  const b = c.bytes(scalars, n * N8);
  b.set(randomBytes(n * N8));
  for (let i = 0; i < n; i++) b[i * N8 + 31] &= 0x1f; // below 2^253 < r
  const gen = group === "G1" ? c.pG1gen : c.pG2gen, genAffine = c.alloc(affineSize(group));
  const pre = group === "G1" ? "g1m" : "g2m";
  c.fn[`${pre}_toAffine`](gen, genAffine);
  const fixed: number[] = [], variable: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    let t = performance.now();
    table.mulBatch(scalars, n, jac, out);
    fixed.push(((performance.now() - t) * 1000) / n);
    t = performance.now();
    const m = 256;
    for (let i = 0; i < m; i++) c.fn[`${pre}_timesScalarAffine`](genAffine, scalars + i * N8, N8, jac + i * jacobianSize(group));
    variable.push(((performance.now() - t) * 1000) / m);
  }
  return { fixed: median(fixed), variable: median(variable) };
}

async function snarkjsFlow(power: number): Promise<number> {
  const t = performance.now();
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  const [p0, p1, p2] = ["0", "1", "final"].map((s) => join(DIR, `snarkjs_${power}_${s}.ptau`));
  await snarkjs.powersOfTau.newAccumulator(curve, power, p0);
  await snarkjs.powersOfTau.contribute(p0, p1, "bench", randomBytes(32).toString("hex"));
  await snarkjs.powersOfTau.preparePhase2(p1, p2);
  return (performance.now() - t) / 1000;
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const g1 = await perPoint("G1"), g2 = await perPoint("G2");
  console.log("per point", g1, g2);

  const dev12 = (await writeDevPtau(join(DIR, "pot12_INSECURE.ptau"), 12)).seconds;
  const snark12 = await snarkjsFlow(12);
  console.log("2^12", dev12, snark12);

  const rows: string[] = [];
  for (const [power, threads] of [[17, undefined], [17, 1], [20, undefined]] as const) {
    const r = await writeDevPtau(join(DIR, `pot${power}_INSECURE.ptau`), power, { threads });
    rows.push(`| 2^${power} | ${r.threads} | ${r.seconds.toFixed(0)} s | ${(r.bytes / 2 ** 20).toFixed(0)} MiB |`);
    console.log(rows.at(-1));
    rmSync(r.path);
  }
  rmSync(DIR, { recursive: true, force: true });

  const us = (x: number) => x.toFixed(1);
  writeSection(
    "Development powers-of-tau (npm run bench)",
    `scripts/dev-ptau writes a prepared .ptau from known secrets: every point is s·G for a computed scalar s.

| per point, one thread (median of 5 × 2,048) | fixed-base, 16-bit windows | variable-base (snarkjs's curve code) | ratio |
|---|---:|---:|---:|
| G1 | ${us(g1.fixed)} µs | ${us(g1.variable)} µs | ${(g1.variable / g1.fixed).toFixed(1)}x |
| G2 | ${us(g2.fixed)} µs | ${us(g2.variable)} µs | ${(g2.variable / g2.fixed).toFixed(1)}x |

| prepared 2^12 file, same process | seconds |
|---|---:|
| snarkjs: powersoftau new + contribute + prepare phase2 (baseline) | ${snark12.toFixed(1)} |
| scripts/dev-ptau | ${dev12.toFixed(1)} |
| ratio | ${(snark12 / dev12).toFixed(0)}x |

| dev-ptau file | threads | wall time | size |
|---|---:|---:|---:|
${rows.join("\n")}

Targets (issue 4): 2^17 under 5 minutes, 2^20 under 30 minutes on this 2-core machine.`,
  );
  await terminateCurve();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
