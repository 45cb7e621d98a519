// scripts/dev-ptau: an INSECURE development powers-of-tau, prepared for
// phase 2, in minutes (2^17 ≈ 40 s, 2^20 ≈ 5 min on 2 cores here).
//
//   npm run dev-ptau -- --power 17 [--out build/ptau/pot17_INSECURE_dev.ptau] [--threads 2]
//
// The secrets (tau, alpha, beta) are drawn in this process, used and dropped,
// but nothing proves that: anyone who ran this could have kept them and could
// forge proofs for every circuit set up from the file. It is for local
// development, tests and benchmarks; deployments take a public ceremony file
// (npm run setup -- --ptau <file> --ptau-blake2b <published hash>).
import { Command, InvalidArgumentError } from "commander";
import { mkdirSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { writeDevPtau } from "../ops/dev-ptau/generate.js";
import { devPtauPath } from "../ops/ptau.js";
import { progressBar } from "../ops/progress.js";

const int = (lo: number, hi: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected an integer in ${lo}..${hi}`);
  return n;
};

const program = new Command("dev-ptau")
  .description("write an INSECURE development powers-of-tau file, prepared for phase 2 (snarkjs format)")
  .requiredOption("--power <n>", "circuits of up to 2^n constraints (1..27)", int(1, 27))
  .option("--out <file>", "output file; its name must contain INSECURE (default: build/ptau/pot<n>_INSECURE_dev.ptau)")
  .option("--threads <n>", "worker threads (default: all cores)", int(1, 256))
  .action(async (o: { power: number; out?: string; threads?: number }) => {
    const out = resolve(o.out ?? devPtauPath(o.power));
    if (!basename(out).includes("INSECURE")) {
      throw new Error(`--out ${basename(out)}: the file name must contain INSECURE, so that nobody mistakes it for a ceremony file`);
    }
    mkdirSync(dirname(out), { recursive: true });
    console.log(`⚠ writing an INSECURE development powers-of-tau (2^${o.power}): never use it where value is at stake`);
    const r = await writeDevPtau(out, o.power, { threads: o.threads, onProgress: progressBar(`2^${o.power}`) });
    console.log(`✓ ${r.path}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB in ${r.seconds.toFixed(1)} s on ${r.threads} threads`);
  });

program.parseAsync().catch((e) => {
  console.error(`dev-ptau: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
