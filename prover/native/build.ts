// Builds the native Groth16 prover (prover/native/src) into
// build/native/<hash>/poa-groth16, where <hash> covers the sources, the
// field generator's version and the flags: a binary is rebuilt exactly when
// one of them changes, and found again by the same hash at run time.
//
// With nasm present, the field arithmetic is x86-64 assembly that the ffiasm
// package generates for each BN254 prime (about 2× faster than the C path);
// without it, the C path. A failed build leaves build/native/<hash>/failed.txt
// saying why, and the service proves with snarkjs instead.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ROOT } from "../../artifacts/paths.js";

const SRC = join(ROOT, "prover", "native", "src");
// The Poseidon addon (core/poseidon-native.ts loads it) shares the field code.
const ADDON = join(ROOT, "prover", "native", "addon");
const CXXFLAGS = ["-std=c++17", "-O3", "-march=native", "-pthread", "-Wall"];
const PRIMES = {
  Fq: "21888242871839275222246405745257275088696311157297823662689037894645226208583",
  Fr: "21888242871839275222246405745257275088548364400416034343698204186575808495617",
};

export interface NativeBuild {
  binary: string;
  /** The Poseidon Node-API addon, when Node's headers were found. */
  poseidon?: string;
  dir: string;
  /** "asm": ffiasm's generated assembly; "c": the unsigned __int128 path. */
  field: "asm" | "c";
  seconds: number;
  compiler: string;
}

function has(cmd: string): boolean {
  return spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
}

function ffiasmDir(): string | undefined {
  try {
    return join(createRequire(import.meta.url).resolve("ffiasm/package.json"), "..");
  } catch {
    return undefined;
  }
}

/** Where the binary for the current sources lives (whether or not it is built). */
export function nativeBuildDir(): string {
  const h = createHash("sha256");
  for (const d of [SRC, ADDON]) for (const f of readdirSync(d).sort()) h.update(f).update(readFileSync(join(d, f)));
  const ffiasm = ffiasmDir();
  h.update(CXXFLAGS.join(" ")).update(ffiasm ? readFileSync(join(ffiasm, "package.json")) : "no-ffiasm").update(has("nasm") ? "nasm" : "no-nasm");
  return join(ROOT, "build", "native", h.digest("hex").slice(0, 16));
}

/** The built prover for the current sources, or why there is none. */
export function findNativeProver(): NativeBuild | { missing: string } {
  const dir = nativeBuildDir();
  const info = join(dir, "build.json");
  if (existsSync(info)) return JSON.parse(readFileSync(info, "utf8")) as NativeBuild;
  const failed = join(dir, "failed.txt");
  if (existsSync(failed)) return { missing: `the native prover failed to build: ${readFileSync(failed, "utf8").trim().split("\n").slice(0, 3).join(" / ")}` };
  return { missing: `the native prover is not built (${dir}): run \`npm run build:native\`` };
}

/** Builds the prover unless this hash is built; never throws for a failed compile (see failed.txt). */
export function buildNativeProver(log: (s: string) => void = () => {}): NativeBuild | { missing: string } {
  const found = findNativeProver();
  if (!("missing" in found)) return found;
  const dir = nativeBuildDir();
  try {
    const asm = Boolean(ffiasmDir()) && has("nasm");
    if (!asm) log("nasm or ffiasm is missing: building the C field arithmetic (about half the speed; Debian: apt-get install nasm)");
    const build = compileNativeProver(dir, asm);
    // Builds of older sources are never used again.
    const parent = join(dir, "..");
    for (const d of readdirSync(parent)) if (join(parent, d) !== dir) rmSync(join(parent, d), { recursive: true, force: true });
    return build;
  } catch (e) {
    const err = e as Error & { stderr?: Buffer };
    const why = `${err.message}\n${err.stderr?.toString() ?? ""}`;
    writeFileSync(join(dir, "failed.txt"), why);
    return { missing: `the native prover failed to build: ${why.split("\n")[0]}` };
  }
}

/** Compiles the sources into dir (emptied first), with ffiasm's assembly or the C field code; throws on failure. */
export function compileNativeProver(dir: string, asm: boolean): NativeBuild {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  if (!has("g++")) throw new Error("g++ is missing (Debian: apt-get install build-essential)");
  const objects: string[] = [];
  if (asm) {
    const ffiasm = ffiasmDir();
    if (!ffiasm) throw new Error("the ffiasm package is not installed");
    for (const [name, q] of Object.entries(PRIMES)) {
      const src = join(dir, `${name.toLowerCase()}.asm`);
      const obj = src.replace(/\.asm$/, ".o");
      // ffiasm also writes a C++ wrapper (it needs GMP); only the assembly is used.
      execFileSync(process.execPath, [join(ffiasm, "src", "buildzqfield.js"), "-q", q, "-n", name, "--oa", src, "--oc", join(dir, `${name}.unused.cpp`), "--oh", join(dir, `${name}.unused.hpp`)], { cwd: dir, stdio: "pipe" });
      execFileSync("nasm", ["-felf64", src, "-o", obj], { stdio: "pipe" });
      objects.push(obj);
    }
  }
  const sources = readdirSync(SRC).filter((f) => f.endsWith(".cpp")).map((f) => join(SRC, f));
  const binary = join(dir, "poa-groth16");
  // nasm's objects carry no .note.GNU-stack: say that the stack is not executable.
  execFileSync("g++", [...CXXFLAGS, ...(asm ? ["-DPOA_FIELD_ASM"] : []), "-o", binary, ...sources, ...objects, "-z", "noexecstack"], { stdio: "pipe" });
  const poseidon = compilePoseidonAddon(dir, objects.filter((o) => o.endsWith("fr.o")));
  const build: NativeBuild = {
    binary, ...(poseidon ? { poseidon } : {}), dir, field: asm ? "asm" : "c", seconds: (Date.now() - t0) / 1000,
    compiler: execFileSync("g++", ["--version"], { encoding: "utf8" }).split("\n")[0],
  };
  writeFileSync(join(dir, "build.json"), JSON.stringify(build, null, 2) + "\n");
  return build;
}

/** Node's own headers (node_api.h), beside the running binary or where Debian puts them. */
function nodeHeaders(): string | undefined {
  const candidates = [join(process.execPath, "..", "..", "include", "node"), "/usr/include/node", "/usr/local/include/node"];
  return candidates.find((d) => existsSync(join(d, "node_api.h")));
}

/**
 * Compiles the Poseidon addon into dir/poseidon.node, with the assembly field
 * code when it links, else the C path. Undefined (the service then hashes with
 * circomlibjs) without Node's headers or when both compiles fail; the reason
 * is left in dir/poseidon-failed.txt.
 */
export function compilePoseidonAddon(dir: string, frObjects: string[]): string | undefined {
  const headers = nodeHeaders();
  if (!headers) {
    writeFileSync(join(dir, "poseidon-failed.txt"), "Node's headers (node_api.h) were not found\n");
    return undefined;
  }
  const out = join(dir, "poseidon.node");
  const attempts = frObjects.length ? [frObjects, []] : [[]];
  const errors: string[] = [];
  for (const objects of attempts) {
    try {
      execFileSync("g++", [...CXXFLAGS, "-fPIC", "-shared", ...(objects.length ? ["-DPOA_FIELD_ASM"] : []), "-I", headers, "-o", out, join(ADDON, "poseidon.cpp"), ...objects, "-z", "noexecstack"], { stdio: "pipe" });
      return out;
    } catch (e) {
      errors.push(`${(e as Error).message}\n${(e as { stderr?: Buffer }).stderr?.toString() ?? ""}`);
    }
  }
  writeFileSync(join(dir, "poseidon-failed.txt"), errors.join("\n"));
  return undefined;
}
