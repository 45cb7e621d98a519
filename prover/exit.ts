// The forced exit's proof (circuits/exit.circom): an account leaf under the
// last state root, proved by the account's owner from a state that any
// validator rebuilds from L1 data (core/replay.ts). Small: ~4k constraints at
// 12 levels, a fraction of a second with the native prover.
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import type { RollupState } from "../core/rollup.js";
import { artifactPaths } from "../artifacts/paths.js";
import { calculateWitness, proofCalldata, proveWitness, proverBackend, type Groth16Proof, type ProverBackend } from "./groth16.js";

export interface ExitProof {
  index: number;
  address: bigint;
  balance: bigint;
  proof: Groth16Proof;
  prover: ProverBackend;
  /** The proof as the contract's uint256[8]. */
  calldata: bigint[];
}

/** The exit circuit's input for leaf `index` of `state`. */
export function exitInput(state: RollupState, index: number): Record<string, unknown> {
  const a = state.account(index);
  if (a.address === 0n) throw new Error(`leaf ${index} is empty: there is nothing to exit`);
  return { root: state.root, index: BigInt(index), address: a.address, balance: a.balance, ax: a.ax, ay: a.ay, nonce: a.nonce, siblings: state.tree.siblings(index) };
}

/** Proves that leaf `index` of `state` sits under `state.root`, and checks the proof before returning it. */
export async function proveExit(instance: string, state: RollupState, index: number, backend = proverBackend()): Promise<ExitProof> {
  const a = state.account(index);
  const input = exitInput(state, index);
  const paths = artifactPaths(instance, "exit");
  const wtns = await calculateWitness(instance, input, "exit");
  const { proof, publicSignals, prover } = await proveWitness(paths.zkey, wtns, backend);
  const vkey = JSON.parse(readFileSync(paths.vkey, "utf8"));
  if (!(await snarkjs.groth16.verify(vkey, publicSignals, proof))) throw new Error("the exit proof does not verify against the verification key");
  return { index, address: a.address, balance: a.balance, proof, prover, calldata: proofCalldata(proof) };
}
