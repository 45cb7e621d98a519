// The sequencer's side of L1: reading the priority queue from the rollup
// contract's events and submitting proved batches.
import { getBytes, type Contract, type ContractTransactionReceipt, type EventLog } from "ethers";
import type { QueueOp } from "../core/queue.js";
import type { L1Cursor, L1QueueOp } from "./store.js";
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

/** What one scan of confirmed blocks found: the queue operations in order, and the new cursor. */
export interface QueueScan {
  ops: L1QueueOp[];
  cursor: L1Cursor;
}

/**
 * Reads the queue operations in blocks (cursor, head - confirmations], at most `maxBlocks` of them
 * (RPC providers cap log ranges), from the events of the rollup. `have` operations are stored
 * already: events before that index are skipped, and the rest must continue it without a gap.
 * Returns undefined when no new block is confirmed.
 */
export async function scanQueue(rollup: Contract, have: number, after: number, confirmations: number, maxBlocks = 2000): Promise<QueueScan | undefined> {
  const provider = rollup.runner!.provider!;
  const safe = (await provider.getBlockNumber()) - confirmations;
  if (safe <= after) return undefined;
  const to = Math.min(safe, after + maxBlocks);
  const from = after + 1;
  const found = new Map<number, L1QueueOp>();
  for (const e of (await rollup.queryFilter(rollup.filters.DepositQueued(), from, to)) as EventLog[]) {
    const [index, account, amount, ax, ay] = e.args;
    found.set(Number(index), { kind: "deposit", address: BigInt(account), amount, ax, ay, account: 0, blockNumber: e.blockNumber, blockHash: e.blockHash });
  }
  for (const e of (await rollup.queryFilter(rollup.filters.WithdrawalRequested(), from, to)) as EventLog[]) {
    const [index, account, accountIndex] = e.args;
    found.set(Number(index), { kind: "withdrawal", address: BigInt(account), amount: 0n, ax: 0n, ay: 0n, account: Number(accountIndex), blockNumber: e.blockNumber, blockHash: e.blockHash });
  }
  const ops: L1QueueOp[] = [];
  for (const i of [...found.keys()].filter((i) => i >= have).sort((a, b) => a - b)) {
    if (i !== have + ops.length) throw new Error(`L1 queue operation ${have + ops.length} has no event in blocks ${from}..${to}, yet ${i} has`);
    ops.push(found.get(i)!);
  }
  const block = await provider.getBlock(to);
  if (!block?.hash) throw new Error(`the L1 node did not return block ${to}`);
  return { ops, cursor: { block: to, hash: block.hash } };
}

/** submitBatch's arguments: newRoot, opsConsumed, beaconBatch (0 without tickets), body, proof. */
export function submitArgs(newRoot: bigint, opsConsumed: number, beaconBatch: bigint, body: Uint8Array, proof: bigint[]): unknown[] {
  return [newRoot, opsConsumed, beaconBatch, body, proof];
}

/** Submits a proved batch and waits for its receipt. */
export async function submitBatch(rollup: Contract, batch: BatchResult, proved: ProvedBatch): Promise<ContractTransactionReceipt> {
  const args = submitArgs(batch.publicInputs.newRoot, batch.decoded.ops.length, batch.publicInputs.tickets?.beaconBatch ?? 0n, batch.body, proofCalldata(proved.proof));
  const tx = await rollup.submitBatch(...args);
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
  /** The batch whose beacon decided this batch's winners (0 without tickets). */
  beaconBatch: number;
  txHash: string;
  /** Where its BatchSubmitted event is: (block, log index), to order it against BeaconRecorded events. */
  at: [number, number];
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
      beaconBatch: Number(call.args[2]),
      body: getBytes(call.args[3]),
      txHash: tx.hash,
      at: [e.blockNumber, e.index],
    });
  }
  return out.sort((a, b) => a.batchNumber - b.batchNumber);
}

export interface RecordedBeacon {
  beacon: bigint;
  /** (block, log index) of its BeaconRecorded event. */
  at: [number, number];
}

/** Recorded beacons by 0-based batch number, from BeaconRecorded events (PROTOCOL §16.5). */
export async function readBeacons(rollup: Contract): Promise<Map<number, RecordedBeacon>> {
  const out = new Map<number, RecordedBeacon>();
  for (const e of (await rollup.queryFilter(rollup.filters.BeaconRecorded())) as EventLog[]) {
    out.set(Number(e.args[0]), { beacon: e.args[1], at: [e.blockNumber, e.index] });
  }
  return out;
}

/** The beacon a posted batch's proof was checked against: `beacon[beaconBatch]` as it stood then (0 if recorded later, or never). */
export function beaconSeenBy(b: PostedBatch, beacons: Map<number, RecordedBeacon>): bigint {
  const r = beacons.get(b.beaconBatch);
  if (!r) return 0n;
  const before = r.at[0] < b.at[0] || (r.at[0] === b.at[0] && r.at[1] < b.at[1]);
  return before ? r.beacon : 0n;
}
