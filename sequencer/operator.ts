// The smallest sequencer: keeps the reference model in step with L1, builds
// the next batch from the queue and signed bundles, proves it and submits it.
// (The HTTP service, batching policy and durability come with issue 3.)
import type { Contract, ContractTransactionReceipt } from "ethers";
import { ticketShape } from "../core/params.js";
import { buildBatch, type BatchInput, type BatchResult, type RollupState, type TicketBatchInput } from "../core/rollup.js";
import { proveBatch, type ProvedBatch } from "../prover/groth16.js";
import { readQueue, submitBatch } from "./l1.js";

export interface PreparedBatch {
  batch: BatchResult;
  proved: ProvedBatch;
}

export class Operator {
  constructor(
    readonly instance: string,
    readonly rollup: Contract,
    public state: RollupState,
    readonly domain: bigint,
  ) {}

  /**
   * Builds and proves the next batch: the oldest queued L1 operations plus `bundles`, and in an
   * instance with tickets the ticket steps (`tickets`, numbered as the next batch on L1).
   */
  async prepare(bundles: BatchInput["bundles"] = [], tickets?: Partial<Omit<TicketBatchInput, "batchNumber">>): Promise<PreparedBatch> {
    const ops = await readQueue(this.rollup, this.state.queueConsumed);
    const batchNumber = Number(await this.rollup.batchCount());
    const t = ticketShape(this.state.params).enabled ? { tickets: { batchNumber, commits: [], beaconBatch: 0, beacon: 0n, winners: [], ...tickets } } : {};
    const batch = await buildBatch(this.state, { ops: ops.slice(0, this.state.params.queueOps), bundles, ...t }, this.domain);
    return { batch, proved: await proveBatch(this.instance, batch.circuitInput) };
  }

  /** Submits a prepared batch (this.rollup must be connected to the sequencer) and adopts its state. */
  async commit(b: PreparedBatch): Promise<ContractTransactionReceipt> {
    const receipt = await submitBatch(this.rollup, b.batch, b.proved);
    this.state = b.batch.state;
    return receipt;
  }

  async next(bundles: BatchInput["bundles"] = [], tickets?: Partial<Omit<TicketBatchInput, "batchNumber">>): Promise<{ batch: BatchResult; receipt: ContractTransactionReceipt }> {
    const b = await this.prepare(bundles, tickets);
    return { batch: b.batch, receipt: await this.commit(b) };
  }
}
