// Template-level circuit tests (Hermez style): compile a small wrapper from
// test/circuits/, compute witnesses with circom's own witness calculator, and
// check a (possibly tampered) witness against the r1cs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import * as snarkjs from "snarkjs";
import { FIELD_MODULUS } from "../../core/crypto.js";
import { ROOT, sha256Hex } from "../../artifacts/paths.js";

const OUT = join(ROOT, "build", "test-circuits");
const require = createRequire(import.meta.url);

interface Compiled {
  calc: { calculateWitness(input: unknown, sanity: boolean): Promise<bigint[]> };
  r1cs: string;
  sym: string;
  wasm: string;
}
const cache = new Map<string, Compiled>();

/** Compiles test/circuits/<name>.circom (cached by the hash of every circuit source). */
export async function testCircuit(name: string): Promise<Compiled> {
  const hit = cache.get(name);
  if (hit) return hit;
  const src = join(ROOT, "test", "circuits", `${name}.circom`);
  const libs = [...["account", "bits", "bundle", "credit_slot", "logup", "merkle", "payout", "queue_op", "receipt", "ticket", "ticket_bundle", "token_span", "proved_scores", "influence_score"].map((f) => join("lib", f)), "exit", "batch"].map((f) => readFileSync(join(ROOT, "circuits", `${f}.circom`), "utf8"));
  const hash = sha256Hex([readFileSync(src, "utf8"), ...libs].join("\0"));
  const dir = join(OUT, name);
  const stamp = join(dir, "inputs.sha256");
  if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== hash) {
    mkdirSync(dir, { recursive: true });
    const r = spawnSync(join(ROOT, "node_modules", ".bin", "circom2"), [relative(ROOT, src), "--r1cs", "--wasm", "--sym", "-l", "node_modules", "-o", relative(ROOT, dir)], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`circom failed on ${name}:\n${r.stdout}${r.stderr}`);
    // The generated witness calculator is CommonJS; our package is ESM.
    writeFileSync(join(dir, "package.json"), '{ "type": "commonjs" }\n');
    writeFileSync(stamp, hash);
  }
  const builder = require(join(dir, `${name}_js`, "witness_calculator.js"));
  const calc = await builder(readFileSync(join(dir, `${name}_js`, `${name}.wasm`)));
  const compiled = { calc, r1cs: join(dir, `${name}.r1cs`), sym: join(dir, `${name}.sym`), wasm: join(dir, `${name}_js`, `${name}.wasm`) };
  cache.set(name, compiled);
  return compiled;
}

export async function witness(name: string, input: Record<string, unknown>): Promise<bigint[]> {
  return (await testCircuit(name)).calc.calculateWitness(input, true);
}

/** Witness generation must refuse the input (an assertion or a constraint fails). */
export async function witnessFails(name: string, input: Record<string, unknown>): Promise<void> {
  try {
    await witness(name, input);
  } catch (e) {
    if (!/Assert Failed/.test(String(e))) throw new Error(`witness generation for ${name} failed in an unexpected way: ${String(e)}`);
    return;
  }
  throw new Error(`witness generation for ${name} accepted ${JSON.stringify(input, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`);
}

/** Witness index of a signal by its full name, e.g. "main.div.r". */
export async function signalIndex(name: string, signal: string): Promise<number> {
  const sym = readFileSync((await testCircuit(name)).sym, "utf8");
  for (const line of sym.split("\n")) {
    const [, varIdx, , label] = line.split(",");
    if (label === signal && Number(varIdx) >= 0) return Number(varIdx);
  }
  throw new Error(`signal ${signal} not found in ${name}.sym`);
}

const r1csCache = new Map<string, { constraints: Record<string, string>[][] }>();

/** True when every constraint A*B = C holds for witness w. */
export async function satisfies(name: string, w: bigint[]): Promise<boolean> {
  const { r1cs } = await testCircuit(name);
  let json = r1csCache.get(r1cs);
  if (!json) {
    json = await snarkjs.r1cs.exportJson(r1cs, undefined);
    r1csCache.set(r1cs, json!);
  }
  const lc = (t: Record<string, string>) => Object.entries(t).reduce((acc, [i, c]) => (acc + BigInt(c) * w[Number(i)]) % FIELD_MODULUS, 0n);
  return json!.constraints.every(([a, b, c]) => (lc(a) * lc(b) - lc(c)) % FIELD_MODULUS === 0n);
}
