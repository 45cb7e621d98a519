// The L1 priority queue (docs/PROTOCOL.md, "L1 queue"). The contract chains
// every deposit and withdrawal request into a Poseidon hash; a batch proves it
// consumed a prefix of that chain, in order.
import { poseidon } from "./crypto.js";

export type QueueOpKind = "deposit" | "withdrawal";

export interface QueueOp {
  kind: QueueOpKind;
  address: bigint; // msg.sender of the L1 call
  amount: bigint; // deposit amount; 0 for a withdrawal request
  ax: bigint; // deposit key (0, 0 keeps the leaf's key); 0 for a withdrawal request
  ay: bigint;
  account: number; // leaf named by a withdrawal request; 0 for a deposit
}

export const QUEUE_GENESIS = 0n;

export function kindCode(kind: QueueOpKind): bigint {
  return kind === "deposit" ? 1n : 2n;
}

export function queueStep(prev: bigint, op: QueueOp): bigint {
  return poseidon([prev, poseidon([kindCode(op.kind), op.address, op.amount, op.ax, op.ay, BigInt(op.account)])]);
}
