// Runs the native prover (prover/native/src) as a child process: the witness
// goes in on stdin, the proof and public signals come back as snarkjs's JSON.
// A process per proof keeps its memory and threads out of the service's.
import { spawn } from "node:child_process";
import type { Groth16Proof } from "../groth16.js";
import { findNativeProver } from "./build.js";

/** Stage timings the prover reports (ms). */
export interface NativeProfile {
  readMs: number;
  abcMs: number;
  fftMs: number;
  msmG1Ms: number;
  msmG2Ms: number;
  proveMs: number;
  /** CPU time of the prover process over all its threads (user + system). */
  cpuMs: number;
  threads: number;
  /** Peak resident set of the prover process. */
  peakMiB: number;
}

export interface NativeProof {
  proof: Groth16Proof;
  publicSignals: string[];
  profile: NativeProfile;
}

/**
 * Why the native prover made no proof. kind "input": the zkey or witness cannot
 * be proved (the message names the problem); "missing": no binary for these
 * sources; "crashed": anything else.
 */
export class NativeProverError extends Error {
  constructor(readonly kind: "input" | "missing" | "crashed", message: string) {
    super(message);
    this.name = "NativeProverError";
  }
}

export interface NativeOptions {
  /** Defaults to the build for the current sources. */
  binary?: string;
  /** Threads for one proof (default: every core). */
  threads?: number;
}

export async function nativeProve(zkeyPath: string, wtns: Uint8Array, o: NativeOptions = {}): Promise<NativeProof> {
  const { stdout, stderr } = await runNative([zkeyPath, "-", "--profile", ...(o.threads ? ["--threads", String(o.threads)] : [])], o, wtns);
  const profileLine = stderr.split("\n").find((l) => l.startsWith("profile "));
  const { proof, publicSignals } = JSON.parse(stdout);
  return { proof, publicSignals, profile: profileLine ? JSON.parse(profileLine.slice(8)) : ({} as NativeProfile) };
}

/** What `poa-groth16 setup` reports. */
export interface NativeSetup {
  /** The zkey's circuit hash (BLAKE2b-512), hex. */
  csHash: string;
  /** False when the domain is the ptau's whole size: snarkjs then hashes bytes past its tauG1 section, this prover does not. */
  csHashMatchesSnarkjs: boolean;
  constraints: number;
  wires: number;
  public: number;
  domainSize: number;
  terms: number;
  readMs: number;
  composeMs: number;
  hashMs: number;
  totalMs: number;
  threads: number;
  peakMiB: number;
}

/**
 * Groth16 phase 2's first step (snarkjs's `zkey new`) natively: the circuit's
 * r1cs and a prepared ptau in, the initial zkey (no contribution) at zkeyPath.
 */
export async function nativeNewZkey(r1csPath: string, ptauPath: string, zkeyPath: string, o: NativeOptions = {}): Promise<NativeSetup> {
  const { stdout } = await runNative(["setup", r1csPath, ptauPath, zkeyPath, ...(o.threads ? ["--threads", String(o.threads)] : [])], o);
  return JSON.parse(stdout) as NativeSetup;
}

/** Runs the binary; exit 1 is an input error (its message names the problem), anything else but 0 a crash. */
function runNative(args: string[], o: NativeOptions, stdin?: Uint8Array): Promise<{ stdout: string; stderr: string }> {
  let binary = o.binary;
  if (!binary) {
    const b = findNativeProver();
    if ("missing" in b) return Promise.reject(new NativeProverError("missing", b.missing));
    binary = b.binary;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(binary!, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("error", (e) => reject(new NativeProverError((e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "crashed", `the native prover cannot run (${binary}): ${e.message}`)));
    child.stdin.on("error", () => {}); // the prover may exit before reading all of a bad witness
    child.on("close", (code, signal) => {
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout: Buffer.concat(out).toString(), stderr });
      else if (code === 1) reject(new NativeProverError("input", stderr.trim().replace(/^error: /, "")));
      else reject(new NativeProverError("crashed", `the native prover failed (${signal ? `signal ${signal}` : `exit ${code}`}): ${stderr.trim()}`));
    });
    child.stdin.end(stdin);
  });
}
