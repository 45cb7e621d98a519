// The sequencer's side of L1: reading the priority queue from the rollup
// contract's events and submitting proved batches.
import { getBytes, type Contract, type ContractTransactionReceipt, type EventLog } from "ethers";
import type { QueueOp } from "../core/queue.js";
import type { BatchResult } from "../core/rollup.js";
import { proofCalldata, type ProvedBatch } from "../prover/groth16.js";

/** Queued operations [from, to) in queue order, rebuilt from DepositQueued / WithdrawalRequested events. */
export async function readQueue(rollup: Contract, from: number, to?: number): Promise<QueueOp[]> {
  const end = to ?? Number(await rollup.queueLength());
  if (end <= from) return [];
  const ops = new Map<number, QueueOp>();
  for (const e of (await rollup.queryFilter(rollup.filters.DepositQueued())) as EventLog[]) {
    const [index, account, amount, ax, ay] = e.args;
    ops.set(Number(index), { kind: "deposit", address: BigInt(account), amount, ax, ay, account: 0 });
  }
  for (const e of (await rollup.queryFilter(rollup.filters.WithdrawalRequested())) as EventLog[]) {
    const [index, account, accountIndex] = e.args;
    ops.set(Number(index), { kind: "withdrawal", address: BigInt(account), amount: 0n, ax: 0n, ay: 0n, account: Number(accountIndex) });
  }
  const out: QueueOp[] = [];
  for (let i = from; i < end; i++) {
    const op = ops.get(i);
    if (!op) throw new Error(`queue operation ${i} has no event on L1`);
    out.push(op);
  }
  return out;
}

/** Submits a proved batch and waits for its receipt. */
export async function submitBatch(rollup: Contract, batch: BatchResult, proved: ProvedBatch): Promise<ContractTransactionReceipt> {
  const consumed = batch.decoded.ops.length;
  const tx = await rollup.submitBatch(batch.publicInputs.newRoot, consumed, batch.body, proofCalldata(proved.proof));
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error(`submitBatch transaction ${tx.hash} failed`);
  return receipt;
}

export interface PostedBatch {
  batchNumber: number;
  newRoot: bigint;
  firstOp: number;
  opsConsumed: number;
  body: Uint8Array;
  txHash: string;
}

/** Every batch on L1, from BatchSubmitted events and the calldata of their transactions. */
export async function readBatches(rollup: Contract): Promise<PostedBatch[]> {
  const out: PostedBatch[] = [];
  for (const e of (await rollup.queryFilter(rollup.filters.BatchSubmitted())) as EventLog[]) {
    const tx = await e.getTransaction();
    const call = rollup.interface.parseTransaction({ data: tx.data, value: tx.value });
    if (!call || call.name !== "submitBatch") throw new Error(`batch ${e.args[0]}: transaction ${tx.hash} is not a submitBatch call`);
    out.push({
      batchNumber: Number(e.args[0]),
      newRoot: call.args[0],
      firstOp: Number(e.args[3]),
      opsConsumed: Number(call.args[1]),
      body: getBytes(call.args[2]),
      txHash: tx.hash,
    });
  }
  return out.sort((a, b) => a.batchNumber - b.batchNumber);
}
