// Witness generation and Groth16 proving for a batch, with the instance's
// artifacts from scripts/setup (build/circuits/<instance>/).
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import { artifactPaths } from "../scripts/lib/artifacts.js";

export interface Groth16Proof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
}

export interface ProvedBatch {
  proof: Groth16Proof;
  publicSignals: string[];
}

/** Runs the circuit's witness generator; throws where the input breaks a constraint. */
export async function calculateWitness(instance: string, input: Record<string, unknown>): Promise<void> {
  const out = { type: "mem" } as { type: "mem"; data?: Uint8Array };
  await snarkjs.wtns.calculate(input, artifactPaths(instance).wasm, out);
}

/** Proves a batch and checks the proof against the verification key before returning it. */
export async function proveBatch(instance: string, input: Record<string, unknown>): Promise<ProvedBatch> {
  const a = artifactPaths(instance);
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, a.wasm, a.zkey);
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
