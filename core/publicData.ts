// The batch public data (docs/PROTOCOL.md, "Public data"): the body that the
// sequencer posts as calldata and that the circuit hashes with SHA-256, and the
// six public inputs the contract derives from it and from its own storage.
import { sha256 } from "@noble/hashes/sha2.js";
import { bodyLength, indexBytes, ticketShape, type BatchParams } from "./params.js";

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
/** A ticket bundle committed by the batch (docs/PROTOCOL.md §16.3). */
export interface CommitRecord {
  providerIdx: number;
  bundleIdx: number;
  count: number;
  rootHash: bigint;
  rootSum: bigint;
}
/** A winning ticket the batch pays. */
export interface WinnerRecord {
  bundleIdx: number;
  ticketIndex: number;
}
export interface PoolRecord {
  poolIdx: number;
  inflow: bigint;
  outflow: bigint;
}
export interface Body {
  ops: OpRecord[];
  bundles: BundleRecord[];
  /** Ticket sections: present (padded to the instance's counts) only in an instance with tickets. */
  commits?: CommitRecord[];
  winners?: WinnerRecord[];
  pool?: PoolRecord;
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
  /** In an instance with tickets: this batch's number, and the batch whose L1 beacon its winners are drawn under, with that beacon. */
  tickets?: { batchNumber: bigint; beaconBatch: bigint; beacon: bigint };
}

/** The order of the circuit's public signals. */
export function publicSignals(p: PublicInputs): bigint[] {
  const base = [p.oldRoot, p.newRoot, p.oldQueueHash, p.newQueueHash, p.domain, p.bodyHash];
  return p.tickets ? [...base, p.tickets.batchNumber, p.tickets.beaconBatch, p.tickets.beacon] : base;
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
  const t = ticketShape(p);
  if (t.enabled) {
    if ((b.commits?.length ?? 0) > t.commits || (b.winners?.length ?? 0) > t.winners) {
      throw new Error(`body has ${b.commits?.length ?? 0}/${b.winners?.length ?? 0} ticket commits/winners; the instance allows ${t.commits}/${t.winners}`);
    }
    for (let i = 0; i < t.commits; i++) {
      const c = b.commits?.[i] ?? { providerIdx: 0, bundleIdx: 0, count: 0, rootHash: 0n, rootSum: 0n };
      at = put(out, at, idx, BigInt(c.providerIdx), "commit providerIdx");
      at = put(out, at, idx, BigInt(c.bundleIdx), "commit bundleIdx");
      at = put(out, at, 2, BigInt(c.count), "commit count");
      at = put(out, at, 32, c.rootHash, "commit rootHash");
      at = put(out, at, 12, c.rootSum, "commit rootSum");
    }
    for (let i = 0; i < t.winners; i++) {
      const w = b.winners?.[i] ?? { bundleIdx: 0, ticketIndex: 0 };
      at = put(out, at, idx, BigInt(w.bundleIdx), "winner bundleIdx");
      at = put(out, at, 2, BigInt(w.ticketIndex), "winner ticketIndex");
    }
    const pool = b.pool ?? { poolIdx: 0, inflow: 0n, outflow: 0n };
    at = put(out, at, idx, BigInt(pool.poolIdx), "pool poolIdx");
    at = put(out, at, 12, pool.inflow, "pool inflow");
    at = put(out, at, 12, pool.outflow, "pool outflow");
  } else if (b.commits?.length || b.winners?.length || b.pool) {
    throw new Error("body has ticket records; this instance has no tickets");
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
  const t = ticketShape(p);
  if (t.enabled) {
    body.commits = [];
    body.winners = [];
    for (let i = 0; i < t.commits; i++, at += 2 * idx + 46) {
      body.commits.push({
        providerIdx: Number(get(data, at, idx)), bundleIdx: Number(get(data, at + idx, idx)), count: Number(get(data, at + 2 * idx, 2)),
        rootHash: get(data, at + 2 * idx + 2, 32), rootSum: get(data, at + 2 * idx + 34, 12),
      });
    }
    for (let i = 0; i < t.winners; i++, at += idx + 2) body.winners.push({ bundleIdx: Number(get(data, at, idx)), ticketIndex: Number(get(data, at + idx, 2)) });
    body.pool = { poolIdx: Number(get(data, at, idx)), inflow: get(data, at + idx, 12), outflow: get(data, at + idx + 12, 12) };
    at += idx + 24;
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
