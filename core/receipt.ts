// Inference receipts and the signed bundles that carry them
// (docs/PROTOCOL.md, "Receipts"), mirrored by circuits/lib/receipt.circom and
// circuits/lib/bundle.circom.
import { sha256 } from "@noble/hashes/sha2.js";
import { poseidon, signMessage, verifySignature, type EdDSASignature, type PublicKey } from "./crypto.js";
import { ADDRESS_BITS, leafCapacity, type BatchParams } from "./params.js";
import { payout, type PayoutConfig } from "./payout.js";

export interface AttributionEntry {
  contributor: bigint; // L1 address of the contributor
  score: bigint; // non-negative integer influence score
}

export interface Receipt {
  providerIdx: number; // account index of the provider that pays the fee
  owner: bigint; // L1 address of the model owner
  fee: bigint; // OPEN base units
  nonce: bigint; // the provider's nonce for this receipt
  inputHash: bigint; // contentHash(inference input)
  outputHash: bigint; // contentHash(inference output)
  entries: AttributionEntry[]; // at most K
}

export interface SignedBundle {
  receipts: Receipt[]; // same provider, consecutive nonces, at most bundleSize
  signature: EdDSASignature;
}

/** A content hash that fits the field: the first 31 bytes of SHA-256, big-endian. */
export function contentHash(data: Uint8Array | string): bigint {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = sha256(bytes);
  let x = 0n;
  for (let i = 0; i < 31; i++) x = (x << 8n) | BigInt(digest[i]);
  return x;
}

/** Checks one receipt against the instance's widths; throws naming the field. */
export function checkReceipt(r: Receipt, p: BatchParams): void {
  const bound = (name: string, v: bigint, bits: number) => {
    if (v < 0n || v >= 1n << BigInt(bits)) throw new Error(`receipt ${name} must be in [0, 2^${bits}), got ${v}`);
  };
  if (!Number.isInteger(r.providerIdx) || r.providerIdx < 0 || r.providerIdx >= leafCapacity(p)) {
    throw new Error(`receipt providerIdx ${r.providerIdx} is not an account index of a ${p.depth}-level 4-ary tree (0..${leafCapacity(p) - 1})`);
  }
  bound("fee", r.fee, p.feeBits);
  bound("owner", r.owner, ADDRESS_BITS);
  if (r.owner === 0n) throw new Error("receipt owner must be a non-zero address");
  bound("nonce", r.nonce, 64);
  if (r.entries.length > p.entries) throw new Error(`receipt has ${r.entries.length} attribution entries; at most ${p.entries} (K) are allowed`);
  r.entries.forEach((e, i) => {
    bound(`entries[${i}].contributor`, e.contributor, ADDRESS_BITS);
    bound(`entries[${i}].score`, e.score, p.scoreBits);
    if (e.contributor === 0n && e.score !== 0n) throw new Error(`receipt entries[${i}] has a score but no contributor address`);
  });
}

/** Entries padded with (0, 0) to exactly K. */
export function paddedEntries(entries: AttributionEntry[], K: number): AttributionEntry[] {
  return [...entries, ...Array.from({ length: K - entries.length }, () => ({ contributor: 0n, score: 0n }))];
}

export function receiptHash(r: Receipt, K: number): bigint {
  const entries = paddedEntries(r.entries, K).flatMap((e) => [e.contributor, e.score]);
  const entriesHash = poseidon(entries);
  return poseidon([BigInt(r.providerIdx), r.owner, r.fee, r.nonce, r.inputHash, r.outputHash, entriesHash]);
}

/** Poseidon of the receipt hashes, 0 for each unused slot up to the bundle size. */
export function bundleHash(receipts: Receipt[], p: BatchParams): bigint {
  return bundleHashOf(receipts.map((r) => receiptHash(r, p.entries)), p);
}

/** bundleHash from receipt hashes already computed (Poseidon is most of a bundle check's cost). */
export function bundleHashOf(receiptHashes: bigint[], p: BatchParams): bigint {
  const hashes = [...receiptHashes];
  while (hashes.length < p.bundleSize) hashes.push(0n);
  return poseidon(hashes);
}

/** The field element a provider signs for a bundle on one deployment. */
export function bundleMessage(receipts: Receipt[], p: BatchParams, domain: bigint): bigint {
  return bundleMessageOf(bundleHash(receipts, p), domain);
}

export function bundleMessageOf(bundleHash: bigint, domain: bigint): bigint {
  return poseidon([domain, bundleHash]);
}

/** Addresses a bundle credits: the treasury, and each owner and contributor whose payout is positive (each takes a slot of its batch). */
export function creditedAddresses(b: Pick<SignedBundle, "receipts">, treasury: bigint, cfg: PayoutConfig): Set<bigint> {
  // Exactly the addresses the batch credits (core/rollup.ts credits only positive amounts): a
  // contributor whose share rounds to 0, or any address of a zero-fee receipt, takes no slot and no leaf.
  const out = new Set<bigint>([treasury]);
  for (const r of b.receipts) {
    const pay = payout(r.fee, r.entries.map((e) => e.score), cfg);
    if (pay.ownerTotal > 0n) out.add(r.owner);
    r.entries.forEach((e, i) => {
      if (pay.shares[i] > 0n) out.add(e.contributor);
    });
  }
  return out;
}

/** Checks the shape of a bundle: one provider, consecutive nonces, size. */
export function checkBundleShape(receipts: Receipt[], p: BatchParams): void {
  if (receipts.length === 0) throw new Error("a bundle needs at least one receipt");
  if (receipts.length > p.bundleSize) throw new Error(`a bundle holds at most ${p.bundleSize} receipts, got ${receipts.length}`);
  receipts.forEach((r, j) => {
    checkReceipt(r, p);
    if (r.providerIdx !== receipts[0].providerIdx) throw new Error(`bundle receipt ${j} names provider ${r.providerIdx}, not ${receipts[0].providerIdx}`);
    if (r.nonce !== receipts[0].nonce + BigInt(j)) throw new Error(`bundle receipt ${j} has nonce ${r.nonce}; nonces must be consecutive from ${receipts[0].nonce}`);
  });
}

export async function signBundle(privateKey: Uint8Array, receipts: Receipt[], p: BatchParams, domain: bigint): Promise<SignedBundle> {
  checkBundleShape(receipts, p);
  const signature = await signMessage(privateKey, bundleMessage(receipts, p, domain));
  return { receipts, signature };
}

export async function verifyBundle(bundle: SignedBundle, key: PublicKey, p: BatchParams, domain: bigint): Promise<boolean> {
  checkBundleShape(bundle.receipts, p);
  return verifySignature(bundleMessage(bundle.receipts, p, domain), bundle.signature, key);
}
