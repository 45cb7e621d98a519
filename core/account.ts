// Account leaves (docs/PROTOCOL.md, "State").
import { poseidon } from "./crypto.js";

export interface Account {
  address: bigint; // L1 address as an integer; 0 means the leaf is empty
  balance: bigint; // OPEN base units, < 2^96
  ax: bigint; // Baby Jubjub public key; (0, 0) for accounts that never sign
  ay: bigint;
  nonce: bigint; // receipts this account has signed and had applied
}

export const EMPTY_ACCOUNT: Readonly<Account> = Object.freeze({ address: 0n, balance: 0n, ax: 0n, ay: 0n, nonce: 0n });

export function leafHash(a: Account): bigint {
  if (a.address === 0n) return 0n;
  return poseidon([a.address, a.balance, a.ax, a.ay, a.nonce]);
}

/** The five leaf fields in circuit order. */
export function leafFields(a: Account): bigint[] {
  return [a.address, a.balance, a.ax, a.ay, a.nonce];
}
