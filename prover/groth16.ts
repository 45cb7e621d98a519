// Witness generation and Groth16 proving for a batch, with the instance's
// artifacts from scripts/setup (build/circuits/<instance>/).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as snarkjs from "snarkjs";
import { artifactPaths } from "../scripts/lib/artifacts.js";

interface WitnessCalculator {
  calculateWTNSBin(input: unknown, sanityCheck: boolean): Promise<Uint8Array>;
}

// One witness calculator per instance: loading the wasm costs more than a witness.
const calculators = new Map<string, Promise<WitnessCalculator>>();
const require = createRequire(import.meta.url);

function calculator(instance: string): Promise<WitnessCalculator> {
  let c = calculators.get(instance);
  if (!c) {
    const wasm = artifactPaths(instance).wasm;
    // circom's generated witness_calculator.js (CommonJS; setup marks its folder so).
    const builder = require(join(dirname(wasm), "witness_calculator.js"));
    c = builder(readFileSync(wasm)) as Promise<WitnessCalculator>;
    calculators.set(instance, c);
  }
  return c;
}

export interface Groth16Proof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
}

export interface ProvedBatch {
  proof: Groth16Proof;
  publicSignals: string[];
}

/** Starts the message of every error where the circuit refuses an input (the sequencer tells these from prover failures). */
export const WITNESS_FAILED = "witness generation failed: ";

/** Runs the circuit's witness generator (.wtns bytes); throws where the input breaks a constraint. */
export async function calculateWitness(instance: string, input: Record<string, unknown>): Promise<Uint8Array> {
  const calc = await calculator(instance);
  try {
    return await calc.calculateWTNSBin(input, true);
  } catch (e) {
    // circom's calculator appends every failure to one message buffer; start afresh
    // so that the next error names only its own failing constraint.
    calculators.delete(instance);
    throw new Error(WITNESS_FAILED + (e instanceof Error ? e.message : String(e)));
  }
}

/** Proves a batch and checks the proof against the verification key before returning it. */
export async function proveBatch(instance: string, input: Record<string, unknown>): Promise<ProvedBatch> {
  const a = artifactPaths(instance);
  const wtns = await calculateWitness(instance, input);
  const { proof, publicSignals } = await snarkjs.groth16.prove(a.zkey, wtns);
  if (!(await verifyBatchProof(instance, proof, publicSignals))) throw new Error("the prover produced a proof that does not verify");
  return { proof, publicSignals };
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
