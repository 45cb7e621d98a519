// Sending batches to L1 as EIP-1559 transactions under a fee cap, and
// replacing a transaction that is stuck in the mempool with one on the same
// nonce that bids more (a replacement must raise both the fee cap and the tip:
// geth asks for 10 % at least, so bumps are 25 %). The sequencer calls
// `send` for a proved batch and `check` on every later tick; the transaction
// hash is written to the store by the sequencer before it relies on it.
import type { Contract, TransactionReceipt, TransactionResponse } from "ethers";

export interface FeePolicy {
  /** Never offer more than this per gas (wei): a batch waits out a base fee above it (POA_MAX_FEE_GWEI). */
  maxFeePerGas: bigint;
  /** The tip offered to the block producer at first (wei; POA_PRIORITY_FEE_GWEI). */
  priorityFee: bigint;
  /** A transaction without a receipt after this long is replaced with higher fees. */
  stuckAfterMs: number;
  /** Percent by which a replacement raises the fee cap and the tip (≥ 10, geth's minimum). */
  bumpPercent: number;
}

export const GWEI = 10n ** 9n;
export const DEFAULT_FEES: FeePolicy = { maxFeePerGas: 200n * GWEI, priorityFee: 2n * GWEI, stuckAfterMs: 30_000, bumpPercent: 25 };

export type FeeProblem = { wait: string };
export type Sent = { hash: string; nonce: number; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };

const bump = (x: bigint, pct: number) => (x * BigInt(100 + pct) + 99n) / 100n;
const gwei = (x: bigint) => `${(Number(x) / 1e9).toFixed(2)} gwei`;

export class L1Submitter {
  constructor(readonly rollup: Contract, readonly fees: FeePolicy) {
    if (fees.bumpPercent < 10) throw new Error(`a replacement must raise fees by 10 % at least (nodes refuse less), not ${fees.bumpPercent} %`);
    if (fees.priorityFee > fees.maxFeePerGas) throw new Error(`the tip ${gwei(fees.priorityFee)} exceeds the fee cap ${gwei(fees.maxFeePerGas)}`);
  }

  private get provider() {
    return this.rollup.runner!.provider!;
  }

  /**
   * The fees a first transaction offers now: the tip, and twice the base fee plus the tip (room for
   * the base fee to rise for a few blocks), both within the cap. A base fee that leaves no room
   * under the cap for the tip is a reason to wait, not to overpay.
   */
  async currentFees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | FeeProblem> {
    const base = (await this.provider.getBlock("latest"))?.baseFeePerGas ?? 0n;
    if (base + this.fees.priorityFee > this.fees.maxFeePerGas) {
      return { wait: `the L1 base fee is ${gwei(base)}; with the tip of ${gwei(this.fees.priorityFee)} it exceeds the fee cap of ${gwei(this.fees.maxFeePerGas)}` };
    }
    const want = 2n * base + this.fees.priorityFee;
    return { maxFeePerGas: want < this.fees.maxFeePerGas ? want : this.fees.maxFeePerGas, maxPriorityFeePerGas: this.fees.priorityFee };
  }

  /** Sends submitBatch at the current fees on the account's next nonce. */
  async send(args: unknown[]): Promise<Sent | FeeProblem> {
    const fees = await this.currentFees();
    if ("wait" in fees) return fees;
    const tx: TransactionResponse = await this.rollup.submitBatch(...args, { type: 2, ...fees });
    return { hash: tx.hash, nonce: tx.nonce, ...fees };
  }

  /**
   * Replaces the pending transaction `hash` with the same call on the same nonce, its fees raised by
   * bumpPercent (and at least today's), within the cap. Returns the new transaction, a reason to
   * wait (already at the cap), or undefined when the node no longer knows `hash` (dropped: the
   * caller sends afresh).
   */
  async replace(hash: string, args: unknown[]): Promise<Sent | FeeProblem | undefined> {
    const old = await this.provider.getTransaction(hash);
    if (!old) return undefined;
    const oldMax = old.maxFeePerGas ?? old.gasPrice ?? 0n;
    const oldTip = old.maxPriorityFeePerGas ?? oldMax;
    const now = await this.currentFees();
    const maxFeePerGas = [bump(oldMax, this.fees.bumpPercent), "wait" in now ? 0n : now.maxFeePerGas].reduce((a, b) => (a > b ? a : b));
    const maxPriorityFeePerGas = bump(oldTip, this.fees.bumpPercent);
    if (maxFeePerGas > this.fees.maxFeePerGas) {
      return { wait: `transaction ${hash} offers ${gwei(oldMax)} per gas and is not mined; a replacement would need ${gwei(maxFeePerGas)}, above the fee cap of ${gwei(this.fees.maxFeePerGas)}` };
    }
    // The old transaction's gas limit: estimating again would run against the pending state, where
    // the old transaction has already taken this batch, and revert.
    const tx: TransactionResponse = await this.rollup.submitBatch(...args, {
      type: 2, nonce: old.nonce, gasLimit: old.gasLimit, maxFeePerGas, maxPriorityFeePerGas: maxPriorityFeePerGas > maxFeePerGas ? maxFeePerGas : maxPriorityFeePerGas,
    });
    return { hash: tx.hash, nonce: tx.nonce, maxFeePerGas, maxPriorityFeePerGas };
  }

  receipt(hash: string): Promise<TransactionReceipt | null> {
    return this.provider.getTransactionReceipt(hash);
  }
}
