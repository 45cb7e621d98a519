// Witness generation and Groth16 proving for a batch, with the instance's
// artifacts from scripts/setup (build/circuits/<instance>/). Proofs are made by
// the native prover (prover/native) unless POA_PROVER=snarkjs, and by snarkjs
// where the native binary is missing; each is verified before it is returned.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as snarkjs from "snarkjs";
import { artifactPaths, type CircuitKind } from "../artifacts/paths.js";
import { nativeProve, NativeProverError } from "./native/run.js";

interface WitnessCalculator {
  calculateWTNSBin(input: unknown, sanityCheck: boolean): Promise<Uint8Array>;
}

// One witness calculator per instance: loading the wasm costs more than a witness.
const calculators = new Map<string, Promise<WitnessCalculator>>();
const require = createRequire(import.meta.url);

function calculator(wasm: string): Promise<WitnessCalculator> {
  let c = calculators.get(wasm);
  if (!c) {
    // circom's generated witness_calculator.js (CommonJS; setup marks its folder so).
    const builder = require(join(dirname(wasm), "witness_calculator.js"));
    c = builder(readFileSync(wasm)) as Promise<WitnessCalculator>;
    calculators.set(wasm, c);
  }
  return c;
}

export interface Groth16Proof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol?: string;
  curve?: string;
}

export interface ProvedBatch {
  proof: Groth16Proof;
  publicSignals: string[];
  /** Which prover made the proof. */
  prover: ProverBackend;
  /** The native prover process's CPU time (all its threads); undefined for snarkjs, whose threads nobody counts. */
  cpuMs?: number;
}

export const PROVER_BACKENDS = ["native", "snarkjs"] as const;
export type ProverBackend = (typeof PROVER_BACKENDS)[number];

/** The prover to use: `given` (a --prover flag), else POA_PROVER, else native. */
export function proverBackend(given?: string): ProverBackend {
  const v = given ?? process.env.POA_PROVER ?? "native";
  if (!(PROVER_BACKENDS as readonly string[]).includes(v)) throw new Error(`unknown prover "${v}": use ${PROVER_BACKENDS.join(" or ")}`);
  return v as ProverBackend;
}

let fallbackSaid = false;

/**
 * Proves a .wtns against a zkey (a path; snarkjs may be given the key's bytes
 * instead). The native prover falls back to snarkjs where it cannot run (no
 * binary, or it crashed), saying so once; a zkey or witness it names as bad
 * makes no proof at all.
 */
export async function proveWitness(zkeyPath: string, wtns: Uint8Array, backend: ProverBackend, zkeyBytes?: () => Uint8Array): Promise<ProvedBatch> {
  if (backend === "native") {
    try {
      const { proof, publicSignals, profile } = await nativeProve(zkeyPath, wtns);
      return { proof, publicSignals, prover: "native", cpuMs: profile.cpuMs };
    } catch (e) {
      if (!(e instanceof NativeProverError) || e.kind === "input") throw e;
      if (!fallbackSaid || e.kind === "crashed") console.warn(`⚠ ${e.message}: proving with snarkjs instead`);
      fallbackSaid = true;
    }
  }
  const zkey = zkeyBytes ? { type: "mem" as const, data: zkeyBytes() } : zkeyPath;
  const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, wtns);
  return { proof, publicSignals, prover: "snarkjs" };
}

/** Starts the message of every error where the circuit refuses an input (the sequencer tells these from prover failures). */
export const WITNESS_FAILED = "witness generation failed: ";

/** Runs the circuit's witness generator (.wtns bytes); throws where the input breaks a constraint. */
export async function calculateWitness(instance: string, input: Record<string, unknown>, kind: CircuitKind = "batch"): Promise<Uint8Array> {
  const wasm = artifactPaths(instance, kind).wasm;
  const calc = await calculator(wasm);
  try {
    return await calc.calculateWTNSBin(input, true);
  } catch (e) {
    // circom's calculator appends every failure to one message buffer; start afresh
    // so that the next error names only its own failing constraint.
    calculators.delete(wasm);
    throw new Error(WITNESS_FAILED + (e instanceof Error ? e.message : String(e)));
  }
}

/** Proves a batch and checks the proof against the verification key before returning it. */
export async function proveBatch(instance: string, input: Record<string, unknown>, backend = proverBackend()): Promise<ProvedBatch> {
  const wtns = await calculateWitness(instance, input);
  const proved = await proveWitness(artifactPaths(instance).zkey, wtns, backend);
  if (!(await verifyBatchProof(instance, proved.proof, proved.publicSignals))) throw new Error(`the ${proved.prover} prover produced a proof that does not verify`);
  return proved;
}

export async function verifyBatchProof(instance: string, proof: Groth16Proof, publicSignals: (string | bigint)[]): Promise<boolean> {
  const vkey = JSON.parse(readFileSync(artifactPaths(instance).vkey, "utf8"));
  return snarkjs.groth16.verify(vkey, publicSignals.map(String), proof);
}

/** The proof as the contract's uint256[8]: a, b (coordinates swapped per Fp2 element), c. */
export function proofCalldata(p: Groth16Proof): bigint[] {
  return [p.pi_a[0], p.pi_a[1], p.pi_b[0][1], p.pi_b[0][0], p.pi_b[1][1], p.pi_b[1][0], p.pi_c[0], p.pi_c[1]].map(BigInt);
}

/** snarkjs keeps curve worker threads alive; end them so the process can exit. */
export async function terminateCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } };
  await g.curve_bn128?.terminate();
  delete g.curve_bn128;
}
