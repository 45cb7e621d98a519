// The batch public data (docs/PROTOCOL.md, "Public data"): the body that the
// sequencer posts as calldata and that the circuit hashes with SHA-256, and the
// six public inputs the contract derives from it and from its own storage.
import { sha256 } from "@noble/hashes/sha2.js";
import { bodyLength, indexBytes, type BatchParams } from "./params.js";

export interface OpRecord {
  accountIdx: number;
  amount: bigint; // deposited or withdrawn
}
export interface BundleRecord {
  providerIdx: number;
  count: number;
  totalFee: bigint;
}
export interface SlotRecord {
  accountIdx: number;
  delta: bigint;
}
export interface Body {
  ops: OpRecord[];
  bundles: BundleRecord[];
  slots: SlotRecord[];
  /** Addresses of the accounts that slots 1, 2, ... open (new accounts come first). */
  newAddresses: bigint[];
}

export interface PublicInputs {
  oldRoot: bigint;
  newRoot: bigint;
  oldQueueHash: bigint;
  newQueueHash: bigint;
  domain: bigint;
  bodyHash: bigint;
}

/** The order of the circuit's public signals. */
export function publicSignals(p: PublicInputs): bigint[] {
  return [p.oldRoot, p.newRoot, p.oldQueueHash, p.newQueueHash, p.domain, p.bodyHash];
}

/** chainId * 2^160 + rollup address: what signatures and proofs are bound to. */
export function domainOf(chainId: bigint, rollupAddress: string | bigint): bigint {
  return (chainId << 160n) + BigInt(rollupAddress);
}

function put(out: Uint8Array, at: number, bytes: number, v: bigint, what: string): number {
  if (v < 0n || v >= 1n << BigInt(8 * bytes)) throw new Error(`${what} ${v} does not fit in ${bytes} bytes`);
  for (let i = bytes - 1; i >= 0; i--) {
    out[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return at + bytes;
}

function get(data: Uint8Array, at: number, bytes: number): bigint {
  let v = 0n;
  for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(data[at + i]);
  return v;
}

/** Encodes a body; unused records are written as zeros up to the instance's counts. */
export function encodeBody(b: Body, p: BatchParams): Uint8Array {
  if (b.ops.length > p.queueOps || b.bundles.length > p.bundles || b.slots.length > p.slots || b.newAddresses.length > p.newAccounts) {
    throw new Error(`body has ${b.ops.length}/${b.bundles.length}/${b.slots.length}/${b.newAddresses.length} ops/bundles/slots/new accounts; the instance allows ${p.queueOps}/${p.bundles}/${p.slots}/${p.newAccounts}`);
  }
  const idx = indexBytes(p);
  const out = new Uint8Array(bodyLength(p));
  let at = 0;
  for (let i = 0; i < p.queueOps; i++) {
    const o = b.ops[i] ?? { accountIdx: 0, amount: 0n };
    at = put(out, at, idx, BigInt(o.accountIdx), "op accountIdx");
    at = put(out, at, 12, o.amount, "op amount");
  }
  for (let i = 0; i < p.bundles; i++) {
    const x = b.bundles[i] ?? { providerIdx: 0, count: 0, totalFee: 0n };
    at = put(out, at, idx, BigInt(x.providerIdx), "bundle providerIdx");
    at = put(out, at, 1, BigInt(x.count), "bundle count");
    at = put(out, at, 12, x.totalFee, "bundle totalFee");
  }
  for (let i = 0; i < p.slots; i++) {
    const s = b.slots[i] ?? { accountIdx: 0, delta: 0n };
    at = put(out, at, idx, BigInt(s.accountIdx), "slot accountIdx");
    at = put(out, at, 12, s.delta, "slot delta");
  }
  for (let i = 0; i < p.newAccounts; i++) at = put(out, at, 20, b.newAddresses[i] ?? 0n, "new account address");
  return out;
}

/** Decodes every record of a body, used or not, as a validator reads calldata. */
export function decodeBody(data: Uint8Array, p: BatchParams): Body {
  if (data.length !== bodyLength(p)) throw new Error(`body is ${data.length} bytes; this instance's body is ${bodyLength(p)} bytes`);
  const idx = indexBytes(p);
  const body: Body = { ops: [], bundles: [], slots: [], newAddresses: [] };
  let at = 0;
  for (let i = 0; i < p.queueOps; i++, at += idx + 12) {
    body.ops.push({ accountIdx: Number(get(data, at, idx)), amount: get(data, at + idx, 12) });
  }
  for (let i = 0; i < p.bundles; i++, at += idx + 13) {
    body.bundles.push({ providerIdx: Number(get(data, at, idx)), count: Number(get(data, at + idx, 1)), totalFee: get(data, at + idx + 1, 12) });
  }
  for (let i = 0; i < p.slots; i++, at += idx + 12) {
    body.slots.push({ accountIdx: Number(get(data, at, idx)), delta: get(data, at + idx, 12) });
  }
  for (let i = 0; i < p.newAccounts; i++, at += 20) body.newAddresses.push(get(data, at, 20));
  return body;
}

/** sha256(body) >> 3: the top 253 bits, so that it is a field element. */
export function bodyHash(body: Uint8Array): bigint {
  return get(sha256(body), 0, 32) >> 3n;
}
