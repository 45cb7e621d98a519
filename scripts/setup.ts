// scripts/setup: builds a circuit instance from circuits/circuits.json.
//
//   npm run setup -- --config test                      # tests, CI, npm start
//   npm run setup -- --config production --ptau powersOfTau28_hez_final_22.ptau \
//                    --ptau-blake2b <published hash>
//
// Each instance has two circuits: the batch circuit and the exit circuit (a
// Merkle path at the instance's depth, for the forced exit). For each, these
// steps, each skipped when its inputs' hashes are unchanged:
//   1. compile the circuit (circom2, --O2) into r1cs + wasm;
//   2. pick a powers-of-tau file (flag > ../shared/ptau > generated, insecure);
//   3. Groth16 phase 2: the initial zkey (the native prover's `setup`, else
//      snarkjs's `zkey new`: the same file) + one random contribution;
//   4. export the verification key and the Solidity verifier;
//   5. write build/circuits/<instance>/[exit/]manifest.json with every hash;
//   6. compile the contracts with the new verifier (Hardhat).
import { spawn } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { loadInstance, templateArgs, ticketShape, type BatchParams } from "../core/params.js";
import { artifactPaths, fileHash, readManifest, ROOT, sha256Hex, type ArtifactPaths, type BuildStep, type CircuitKind, type Manifest } from "../artifacts/paths.js";
import { snarkLogger, step } from "../ops/progress.js";
import { choosePtau } from "../ops/ptau.js";
import { findNativeProver } from "../prover/native/build.js";
import { nativeNewZkey } from "../prover/native/run.js";

export interface SetupOptions {
  instance: string;
  ptau?: string;
  ptauHash?: string;
  /** Compile only (constraint counts for benchmarks); no phase 2. */
  compileOnly?: boolean;
}

function circomSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? circomSources(join(dir, e.name)) : e.name.endsWith(".circom") ? [join(dir, e.name)] : [],
  );
}

/** What one circuit of an instance is built from. */
interface CircuitSpec {
  instance: string;
  kind: CircuitKind;
  paths: ArtifactPaths;
  file: string; // under circuits/
  template: string;
  args: number[];
  publics: string[];
  /** Phase 2 without a --ptau flag (the batch circuit: the instance's `prove`; the exit circuit: always, it is small). */
  prove: boolean;
  /** Hashed into the compile inputs (the instance declaration for the batch circuit). */
  declaration: unknown;
}

/** The batch circuit's public inputs in order (PROTOCOL §6; §16.3 adds three in an instance with tickets). */
function batchPublics(p: BatchParams): string[] {
  const base = ["oldRoot", "newRoot", "oldQueueHash", "newQueueHash", "domain", "bodyHash"];
  return ticketShape(p).enabled ? [...base, "batchNumber", "beaconBatch", "beacon"] : base;
}

function specs(instance: string): CircuitSpec[] {
  const inst = loadInstance(instance);
  return [
    { instance, kind: "batch", paths: artifactPaths(instance), file: inst.file, template: inst.template, args: templateArgs(inst.params),
      publics: batchPublics(inst.params), prove: inst.prove, declaration: inst },
    { instance, kind: "exit", paths: artifactPaths(instance, "exit"), file: "exit.circom", template: "Exit", args: [inst.params.depth],
      publics: ["root", "index", "address", "balance"], prove: true, declaration: { template: "Exit", depth: inst.params.depth } },
  ];
}

/** The circuit's own file, every library template and the compiler versions. */
function compileInputsHash(c: CircuitSpec): string {
  const files = circomSources(join(ROOT, "circuits")).filter((f) => f === join(ROOT, "circuits", c.file) || f.startsWith(join(ROOT, "circuits", "lib"))).sort();
  const parts = files.map((f) => `${relative(ROOT, f)}\n${readFileSync(f, "utf8")}`);
  const versions = ["circom2", "circomlib"].map((p) => JSON.parse(readFileSync(join(ROOT, "node_modules", p, "package.json"), "utf8")).version);
  const name = c.kind === "batch" ? c.instance : `${c.instance}/${c.kind}`;
  return sha256Hex([name, JSON.stringify(c.declaration), versions.join(","), ...parts].join("\n\0"));
}

/** The record of one build step: wall time and peak resident memory, with the machine it ran on. */
function buildStep(t0: number, peakBytes: number): BuildStep {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  return { seconds: Math.round((performance.now() - t0) / 100) / 10, peakMiB: Math.round(peakBytes / 2 ** 20), machine, date: new Date().toISOString() };
}

/** Peak resident memory of a live process so far (Linux VmHWM), in bytes; 0 where /proc is missing. */
function peakOf(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs a command to completion; its output and its peak resident memory (sampled every 250 ms). */
function run(cmd: string, args: string[]): Promise<{ out: string; peakBytes: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let peakBytes = 0;
    const sampler = setInterval(() => (peakBytes = Math.max(peakBytes, peakOf(child.pid))), 250);
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", (e) => (clearInterval(sampler), reject(e)));
    child.on("close", (code) => {
      clearInterval(sampler);
      if (code === 0) resolve({ out, peakBytes });
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${code}):\n${out}`));
    });
  });
}

async function compile(c: CircuitSpec): Promise<{ constraints: number; stats: BuildStep }> {
  const a = c.paths;
  const name = c.kind === "batch" ? c.instance : `${c.instance} ${c.kind}`;
  mkdirSync(a.dir, { recursive: true });
  const include = relative(a.dir, join(ROOT, "circuits", c.file));
  writeFileSync(
    a.main,
    `pragma circom 2.1.0;\n// Generated by scripts/setup.ts from circuits/circuits.json ("${c.instance}").\n` +
      `include "${include}";\n\n` +
      `component main {public [${c.publics.join(", ")}]} = ${c.template}(${c.args.join(", ")});\n`,
  );
  const circom = join(ROOT, "node_modules", ".bin", "circom2");
  // circom2 runs in WASM with the repo root as its file system: paths are relative to ROOT.
  const t0 = performance.now();
  const { out, peakBytes } = await step(`compile ${name} circuit (circom --O2)`, () =>
    run(circom, [relative(ROOT, a.main), "--r1cs", "--wasm", "--O2", "-l", "node_modules", "-o", relative(ROOT, a.dir)]),
  );
  const stats = buildStep(t0, peakBytes);
  // The generated witness calculator is CommonJS; this package is ESM.
  writeFileSync(join(dirname(a.wasm), "package.json"), '{ "type": "commonjs" }\n');
  const m = /non-linear constraints: (\d+)/.exec(out);
  const lin = /linear constraints: (\d+)/.exec(out.replace(/non-linear constraints: \d+/, ""));
  if (!m) throw new Error(`could not read the constraint count from circom's output:\n${out}`);
  return { constraints: Number(m[1]) + Number(lin?.[1] ?? 0), stats };
}

/** Builds (or reuses) an instance's artifacts (batch and exit circuits) and returns the batch circuit's manifest. */
export async function setup(opts: SetupOptions): Promise<Manifest> {
  const [batch, exit] = specs(opts.instance);
  const manifest = await setupCircuit(batch, opts);
  await setupCircuit(exit, opts);
  return manifest;
}

async function setupCircuit(c: CircuitSpec, opts: SetupOptions): Promise<Manifest> {
  const a = c.paths;
  const label = c.kind === "batch" ? opts.instance : `${opts.instance} ${c.kind}`;
  let manifest = readManifest(opts.instance, c.kind);
  const inputsHash = compileInputsHash(c);

  const witnessJs = join(dirname(a.wasm), "package.json");
  if (!manifest || manifest.compileInputsHash !== inputsHash || !existsSync(a.r1cs) || !existsSync(a.wasm) || !existsSync(witnessJs)) {
    const { constraints, stats } = await compile(c);
    manifest = { instance: opts.instance, params: (c.declaration as { params?: unknown }).params ?? c.declaration, compileInputsHash: inputsHash, constraints, insecure: true, files: {}, build: { compile: stats } };
    manifest.files.r1cs = { path: relative(ROOT, a.r1cs), sha256: await fileHash(a.r1cs, "sha256") };
    manifest.files.wasm = { path: relative(ROOT, a.wasm), sha256: await fileHash(a.wasm, "sha256") };
    writeFileSync(a.manifest, JSON.stringify(manifest, null, 2));
  } else {
    console.log(`✓ ${label} circuit is up to date (${manifest.constraints} constraints)`);
  }
  if (opts.compileOnly || !c.prove && !opts.ptau) return manifest;

  const needPower = Math.max(8, Math.ceil(Math.log2(manifest.constraints + c.publics.length + 1)));
  const ptau = await choosePtau(needPower, opts, manifest.ptau);
  const st = statSync(ptau.path);
  manifest.ptau = { path: ptau.path, blake2b: ptau.blake2b, power: ptau.power, source: ptau.source, size: st.size, mtimeMs: st.mtimeMs };
  const setupHash = sha256Hex(`${manifest.files.r1cs.sha256}\n${ptau.blake2b}`);
  if (manifest.setupInputsHash !== setupHash || !existsSync(a.zkey) || !existsSync(a.vkey) || !existsSync(a.verifierSol)) {
    const snarkjs = await import("snarkjs");
    const t0 = performance.now();
    const zkey0 = join(a.dir, "main_0000.zkey");
    const by = await initialZkey(a.r1cs, ptau.path, zkey0, `${manifest.constraints} constraints, ptau 2^${ptau.power}`);
    const entropy = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
    await step("phase 2 contribution (random, discarded)", () =>
      snarkjs.zKey.contribute(zkey0, a.zkey, "poa-rollup setup", entropy, snarkLogger),
    );
    rmSync(zkey0);
    // The contribution runs in this process (snarkjs's worker threads included); the native step reports its own peak.
    manifest.build = { ...manifest.build, phase2: { ...buildStep(t0, Math.max(process.resourceUsage().maxRSS * 1024, by.peakBytes)), by: by.by } };
    const vkey = await snarkjs.zKey.exportVerificationKey(a.zkey, snarkLogger);
    writeFileSync(a.vkey, JSON.stringify(vkey, null, 2));
    const template = readFileSync(join(ROOT, "node_modules", "snarkjs", "templates", "verifier_groth16.sol.ejs"), "utf8");
    const sol: string = await snarkjs.zKey.exportSolidityVerifier(a.zkey, { groth16: template }, snarkLogger);
    mkdirSync(dirname(a.verifierSol), { recursive: true });
    writeFileSync(
      a.verifierSol,
      `// Generated by scripts/setup.ts from ${relative(ROOT, a.zkey)}. Do not edit.\n` +
        sol.replace(/contract Groth16Verifier/, `contract ${a.verifierName}`).replace(/pragma solidity [^;]+;/, "pragma solidity 0.8.28;"),
    );
    manifest.setupInputsHash = setupHash;
    manifest.files.zkey = { path: relative(ROOT, a.zkey), sha256: await fileHash(a.zkey, "sha256") };
    manifest.files.vkey = { path: relative(ROOT, a.vkey), sha256: await fileHash(a.vkey, "sha256") };
    manifest.files.verifier = { path: relative(ROOT, a.verifierSol), sha256: await fileHash(a.verifierSol, "sha256") };
  } else {
    console.log(`✓ ${label} zkey is up to date`);
  }
  manifest.insecure = ptau.insecure;
  writeFileSync(a.manifest, JSON.stringify(manifest, null, 2));
  if (manifest.insecure) {
    console.log(`⚠ ${label}: built from an INSECURE development powers-of-tau (${ptau.source}: ${ptau.path}). Never deploy it where value is at stake.`);
  }
  return manifest;
}

/**
 * The initial zkey (snarkjs's `zkey new`): the native prover's `setup` when it
 * is built (the same file, minutes instead of hours at production size), else
 * snarkjs.
 */
async function initialZkey(r1cs: string, ptau: string, zkey0: string, what: string): Promise<{ by: "native" | "snarkjs"; peakBytes: number }> {
  const native = findNativeProver();
  if (!("missing" in native)) {
    const st = await step(`groth16 setup, native (${what})`, () => nativeNewZkey(r1cs, ptau, zkey0, { binary: native.binary }));
    console.log(`  ${st.terms.toLocaleString("en-US")} point terms composed in ${(st.composeMs / 1000).toFixed(1)} s; circuit hash ${st.csHash.slice(0, 16)}…`);
    if (!st.csHashMatchesSnarkjs) console.log("  (the circuit fills the whole ptau: snarkjs's `zkey verify` would hash one point past its tauG1 section, so its circuit hash differs; proofs are unaffected)");
    return { by: "native", peakBytes: st.peakMiB * 1024 * 1024 };
  }
  console.log(`  ${native.missing}: snarkjs makes the initial zkey (hours at production size)`);
  const snarkjs = await import("snarkjs");
  await step(`groth16 setup, snarkjs (${what})`, () => snarkjs.zKey.newZKey(r1cs, ptau, zkey0, snarkLogger));
  return { by: "snarkjs", peakBytes: 0 };
}

function parseArgs(argv: string[]): SetupOptions {
  const opts: SetupOptions = { instance: "test" };
  for (let i = 0; i < argv.length; i++) {
    const need = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case "--config": opts.instance = need(); break;
      case "--ptau": opts.ptau = need(); break;
      case "--ptau-blake2b": opts.ptauHash = need(); break;
      case "--compile-only": opts.compileOnly = true; break;
      case "-h":
      case "--help":
        console.log("usage: npm run setup -- [--config <instance>] [--ptau <file> --ptau-blake2b <hash>] [--compile-only]");
        process.exit(0);
      default: throw new Error(`unknown option ${argv[i]} (see --help)`);
    }
  }
  return opts;
}

/** Compiles the contracts, the generated verifier among them (Hardhat caches unchanged sources). */
export async function compileContracts(): Promise<void> {
  await step("compile contracts (hardhat, solc-js)", () => run(join(ROOT, "node_modules", ".bin", "hardhat"), ["compile", "--quiet"]).then(() => undefined));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = parseArgs(process.argv.slice(2));
  setup(opts)
    .then(async () => {
      if (!opts.compileOnly) await compileContracts();
      await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
    })
    .catch((e) => {
      console.error(`setup failed: ${e instanceof Error ? e.message : e}`);
      process.exit(1);
    });
}
