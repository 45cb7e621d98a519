// Constraint counts of circuit templates, measured by compiling a one-line
// wrapper (circom --O2, as setup does) under build/bench/.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "../../artifacts/paths.js";

const dir = join(ROOT, "build", "bench");

/** Constraints of `main` (a template instance) from `include` (a path from the project root). */
export function constraints(name: string, include: string, main: string): number {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.circom`);
  writeFileSync(file, `pragma circom 2.1.0;\ninclude "${relative(dir, join(ROOT, include))}";\ncomponent main = ${main};\n`);
  const t0 = Date.now();
  const r = spawnSync(join(ROOT, "node_modules", ".bin", "circom2"), [relative(ROOT, file), "--r1cs", "--O2", "-l", "node_modules", "-o", relative(ROOT, dir)], { cwd: ROOT, encoding: "utf8" });
  const out = `${r.stdout}${r.stderr}`;
  const nl = /non-linear constraints: (\d+)/.exec(out);
  const lin = /\blinear constraints: (\d+)/.exec(out.replace(/non-linear constraints: \d+/, ""));
  if (r.status !== 0 || !nl) throw new Error(`circom failed on ${name}:\n${out}`);
  const n = Number(nl[1]) + Number(lin?.[1] ?? 0);
  console.log(`  ${main}: ${n} constraints (${((Date.now() - t0) / 1000).toFixed(0)} s to compile)`);
  return n;
}
