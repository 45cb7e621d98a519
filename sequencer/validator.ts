// A validator's check of one batch from L1 data alone: the calldata of its
// submitBatch transaction, the contract's stored roots and queue hashes, the
// verification key — no access to the sequencer.
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import type { Contract } from "ethers";
import { loadInstance, ticketShape } from "../core/params.js";
import { bodyHash, publicSignals } from "../core/publicData.js";
import { applyBody } from "../core/replay.js";
import { RollupState } from "../core/rollup.js";
import { artifactPaths } from "../artifacts/paths.js";
import { beaconSeenBy, readBatches, readBeacons, readQueue } from "./l1.js";

export interface BatchCheck {
  batchNumber: number;
  proofValid: boolean;
  rootChainValid: boolean; // every root up to this batch rebuilt from bodies equals the contract's
  newRoot: bigint;
  txHash: string;
}

/** snarkjs's proof object from the contract's uint256[8] calldata layout. */
export function proofFromCalldata(p: bigint[]): object {
  const s = p.map(String);
  return { protocol: "groth16", curve: "bn128", pi_a: [s[0], s[1], "1"], pi_b: [[s[3], s[2]], [s[5], s[4]], ["1", "0"]], pi_c: [s[6], s[7], "1"] };
}

export async function verifyBatch(rollup: Contract, instance: string, n: number): Promise<BatchCheck> {
  const batches = await readBatches(rollup);
  const b = batches.find((x) => x.batchNumber === n);
  if (!b) throw new Error(`L1 has no batch ${n} (it holds ${batches.length})`);
  const tx = await (await rollup.runner!.provider!.getTransaction(b.txHash))!;
  const call = rollup.interface.parseTransaction({ data: tx.data })!;
  const proof = (call.args[4] as bigint[]).map(BigInt);
  const tickets = ticketShape(loadInstance(instance).params).enabled
    ? { batchNumber: BigInt(n - 1), beaconBatch: BigInt(b.beaconBatch), beacon: beaconSeenBy(b, await readBeacons(rollup)) }
    : undefined;
  const signals = publicSignals({
    oldRoot: BigInt(await rollup.batchRoot(n - 1)),
    newRoot: b.newRoot,
    oldQueueHash: BigInt(await rollup.queueHashAt(b.firstOp)),
    newQueueHash: BigInt(await rollup.queueHashAt(b.firstOp + b.opsConsumed)),
    domain: BigInt(await rollup.domain()),
    bodyHash: bodyHash(b.body),
    ...(tickets ? { tickets } : {}),
  });
  const vkey = JSON.parse(readFileSync(artifactPaths(instance).vkey, "utf8"));
  const proofValid = await snarkjs.groth16.verify(vkey, signals.map(String), proofFromCalldata(proof));

  const { rootChainValid } = await replayL1(rollup, instance, n);
  return { batchNumber: n, proofValid, rootChainValid, newRoot: b.newRoot, txHash: b.txHash };
}

/**
 * The state after batch `upTo` (default: the last), rebuilt from L1 data alone:
 * the genesis from the contract's treasury, each batch's body from its calldata
 * and the queue operations it consumed. `rootChainValid` is false if any
 * rebuilt root differs from the root the contract stored.
 */
export async function replayL1(rollup: Contract, instance: string, upTo = Infinity): Promise<{ state: RollupState; rootChainValid: boolean }> {
  const params = loadInstance(instance).params;
  let state = new RollupState(params, BigInt(await rollup.treasury()));
  let rootChainValid = state.root === BigInt(await rollup.batchRoot(0));
  for (const x of (await readBatches(rollup)).filter((x) => x.batchNumber <= upTo)) {
    // Commits in batch x are stamped with its 0-based number, x.batchNumber - 1 (PROTOCOL §16.3).
    state = applyBody(state, x.body, await readQueue(rollup, x.firstOp, x.firstOp + x.opsConsumed), x.batchNumber - 1);
    rootChainValid &&= state.root === BigInt(await rollup.batchRoot(x.batchNumber));
  }
  return { state, rootChainValid };
}
