// Probabilistic payment tickets (issue 24), the reference model's first part:
// one ticket struct and one win rule. A ticket is a receipt whose fee is its
// face value, plus a win probability winProb / 2^32. Only winning tickets are
// settled, at face value, so a ticket stands for face·winProb/2^32 in
// expectation. The beacon that decides a ticket is fixed after the ticket is
// signed (the L1 side is not built yet); this file has no opinion on where it
// comes from, only on how it decides.
//
// Win rule: draw = Poseidon(ticketHash, beacon); the ticket wins iff the low
// 32 bits of the draw are below winProb. The draw is uniform on [0, r), so the
// low bits are uniform on [0, 2^32) up to 2^32/r < 2^-221: the true
// probability differs from winProb/2^32 by less than that, far less than one
// base unit of any fee that fits 80 bits. In the circuit this is one strict
// bit decomposition of the draw and a 32-bit comparison (circuits/lib/ticket.circom).
// p = 1 is not a ticket: it is an exact receipt.
import { FIELD_MODULUS, poseidon, signMessage, verifySignature, type EdDSASignature, type PublicKey } from "./crypto.js";
import type { BatchParams } from "./params.js";
import { checkReceipt, receiptHash, type Receipt } from "./receipt.js";
import { ticketCapacity, TicketTree, type SumNode } from "./ticket-tree.js";

export const WIN_PROB_BITS = 32;
/**
 * The ticket pool's address: the low 160 bits of keccak256("poa-rollup ticket pool").
 * Nobody holds a key for it, so no L1 withdrawal request can name its leaf.
 */
export const POOL_ADDRESS = 0xbab7f080636de0d2c87a4560c46e1874dfce8998n;
/** winProb is a numerator over 2^32. */
export const WIN_PROB_DENOMINATOR = 1n << BigInt(WIN_PROB_BITS);
const LOW_BITS = WIN_PROB_DENOMINATOR - 1n;

export interface Ticket {
  /** The receipt it pays if it wins: `fee` is the face value. */
  receipt: Receipt;
  /** Win probability × 2^32, in [1, 2^32). */
  winProb: bigint;
}

/** Checks a ticket against the instance's widths; throws naming the field. */
export function checkTicket(t: Ticket, p: BatchParams): void {
  checkReceipt(t.receipt, p);
  if (t.winProb < 1n || t.winProb >= WIN_PROB_DENOMINATOR) {
    throw new Error(`ticket winProb must be in [1, 2^${WIN_PROB_BITS}) (a probability of winProb/2^${WIN_PROB_BITS}; p = 1 is an exact receipt), got ${t.winProb}`);
  }
  if (!expectedValue(t).exact) {
    throw new Error(`ticket face value × winProb must be a multiple of 2^${WIN_PROB_BITS}, so that its expected value is a whole number of base units (face ${t.receipt.fee}, winProb ${t.winProb})`);
  }
}

export function ticketHash(t: Ticket, K: number): bigint {
  return poseidon([receiptHash(t.receipt, K), t.winProb]);
}

/** The ticket's draw under a beacon: uniform on [0, r). */
export function winDraw(hash: bigint, beacon: bigint): bigint {
  if (beacon < 0n || beacon >= FIELD_MODULUS) throw new Error(`a beacon must be a field element (below r), got ${beacon}`);
  return poseidon([hash, beacon]);
}

/** The one win rule, on a draw. */
export function drawWins(draw: bigint, winProb: bigint): boolean {
  return (draw & LOW_BITS) < winProb;
}

export function ticketWins(t: Ticket, K: number, beacon: bigint): boolean {
  return drawWins(winDraw(ticketHash(t, K), beacon), t.winProb);
}

/**
 * A ticket for a fee at probability 2^-k (1 ≤ k ≤ 31): face value fee·2^k and
 * winProb 2^(32−k), so that face·winProb/2^32 is the fee exactly, to the unit.
 */
export function ticketFor(receipt: Receipt, k: number): Ticket {
  if (!Number.isInteger(k) || k < 1 || k >= WIN_PROB_BITS) throw new Error(`a ticket's probability is 2^-k for an integer k in [1, ${WIN_PROB_BITS - 1}], got k = ${k}`);
  return { receipt: { ...receipt, fee: receipt.fee << BigInt(k) }, winProb: 1n << BigInt(WIN_PROB_BITS - k) };
}

/** What a ticket pays in expectation, in base units: face·winProb/2^32, exact when it divides (always for ticketFor's). */
export function expectedValue(t: Ticket): { value: bigint; exact: boolean } {
  const n = t.receipt.fee * t.winProb;
  return { value: n / WIN_PROB_DENOMINATOR, exact: n % WIN_PROB_DENOMINATOR === 0n };
}

// ---- Ticket bundles (docs/PROTOCOL.md §16) --------------------------------

/** Many tickets of one provider under one signature, over their ticket tree. */
export interface TicketBundle {
  providerIdx: number;
  /** Ticket j carries receipt nonce firstNonce + j: the bundle takes `count` nonces, as a receipt bundle does. */
  firstNonce: bigint;
  tickets: Ticket[];
}

export interface SignedTicketBundle extends TicketBundle {
  signature: EdDSASignature;
}

/** A ticket's leaf in its bundle's sum tree: its hash and its expected value. */
export function ticketLeaf(t: Ticket, K: number): SumNode {
  return { hash: ticketHash(t, K), sum: expectedValue(t).value };
}

/** Checks a ticket bundle's shape against the instance; throws naming the ticket and the field. */
export function checkTicketBundle(b: TicketBundle, p: BatchParams, treeDepth: number): void {
  if (b.tickets.length === 0) throw new Error("a ticket bundle needs at least one ticket");
  if (b.tickets.length > ticketCapacity(treeDepth)) throw new Error(`a ticket bundle holds at most ${ticketCapacity(treeDepth)} tickets (4^${treeDepth}), got ${b.tickets.length}`);
  b.tickets.forEach((t, j) => {
    try {
      checkTicket(t, p);
    } catch (e) {
      throw new Error(`ticket ${j}: ${(e as Error).message}`);
    }
    if (t.receipt.providerIdx !== b.providerIdx) throw new Error(`ticket ${j} names provider ${t.receipt.providerIdx}, not the bundle's ${b.providerIdx}`);
    if (t.receipt.nonce !== b.firstNonce + BigInt(j)) throw new Error(`ticket ${j} has nonce ${t.receipt.nonce}; a bundle's tickets carry consecutive nonces from ${b.firstNonce}`);
  });
}

// A signed bundle is never edited (its provider signed exactly these tickets), so its tickets'
// hashes and its tree are computed once per bundle object: the sequencer meets the same bundle at
// its commit, in its draw and at each of its winners, and at 4^DT tickets each pass costs seconds.
const hashesOf = new WeakMap<Ticket[], { K: number; hashes: bigint[] }>();
const treesOf = new WeakMap<Ticket[], { K: number; depth: number; tree: TicketTree }>();

/** Every ticket's hash, in bundle order (memoized per bundle). */
export function ticketHashes(b: TicketBundle, K: number): bigint[] {
  const known = hashesOf.get(b.tickets);
  if (known && known.K === K && known.hashes.length === b.tickets.length) return known.hashes;
  const hashes = b.tickets.map((t) => ticketHash(t, K));
  hashesOf.set(b.tickets, { K, hashes });
  return hashes;
}

/**
 * Gives a bundle's ticket hashes without recomputing them: only hashes this process computed from
 * these very tickets (the sequencer's ingest check, which returns them as the tickets' ids).
 */
export function seedTicketHashes(b: TicketBundle, K: number, hashes: bigint[]): void {
  if (hashes.length !== b.tickets.length) throw new Error(`seedTicketHashes: ${hashes.length} hashes for ${b.tickets.length} tickets`);
  if (!hashesOf.has(b.tickets)) hashesOf.set(b.tickets, { K, hashes });
}

export function ticketTree(b: TicketBundle, K: number, treeDepth: number): TicketTree {
  const known = treesOf.get(b.tickets);
  if (known && known.K === K && known.depth === treeDepth && known.tree.size === b.tickets.length) return known.tree;
  const hashes = ticketHashes(b, K);
  const tree = new TicketTree(treeDepth, b.tickets.map((t, j) => ({ hash: hashes[j], sum: expectedValue(t).value })));
  treesOf.set(b.tickets, { K, depth: treeDepth, tree });
  return tree;
}

/**
 * The field element a provider signs for a ticket bundle. Six inputs, where a
 * receipt bundle's message has two, so neither can stand for the other.
 */
export function ticketBundleMessage(domain: bigint, providerIdx: number, firstNonce: bigint, count: number, root: SumNode): bigint {
  return poseidon([domain, BigInt(providerIdx), firstNonce, BigInt(count), root.hash, root.sum]);
}

export async function signTicketBundle(privateKey: Uint8Array, b: TicketBundle, p: BatchParams, treeDepth: number, domain: bigint): Promise<SignedTicketBundle> {
  checkTicketBundle(b, p, treeDepth);
  const root = ticketTree(b, p.entries, treeDepth).root;
  const signature = await signMessage(privateKey, ticketBundleMessage(domain, b.providerIdx, b.firstNonce, b.tickets.length, root));
  return { ...b, signature };
}

export async function verifyTicketBundle(b: SignedTicketBundle, key: PublicKey, p: BatchParams, treeDepth: number, domain: bigint): Promise<boolean> {
  checkTicketBundle(b, p, treeDepth);
  const root = ticketTree(b, p.entries, treeDepth).root;
  return verifySignature(ticketBundleMessage(domain, b.providerIdx, b.firstNonce, b.tickets.length, root), b.signature, key);
}

/**
 * A committed bundle as its state-tree leaf holds it. `cursor` is the lowest
 * ticket index that may still be paid: winners are settled in index order,
 * each once.
 */
export interface BundleRecord {
  root: SumNode;
  providerIdx: number;
  firstNonce: bigint;
  count: number;
  /** The batch that committed it: that batch's L1 beacon decides its tickets. */
  commitBatch: number;
  cursor: number;
}

/** Seven inputs, where an account leaf has five: a bundle leaf is never an account. */
export function bundleLeafHash(r: BundleRecord): bigint {
  return poseidon([r.root.hash, r.root.sum, BigInt(r.providerIdx), r.firstNonce, BigInt(r.count), BigInt(r.commitBatch), BigInt(r.cursor)]);
}

/** Indices of a bundle's winning tickets under a beacon, in index order. */
export function winners(b: TicketBundle, K: number, beacon: bigint): number[] {
  const hashes = ticketHashes(b, K);
  const out: number[] = [];
  b.tickets.forEach((t, j) => {
    if (drawWins(winDraw(hashes[j], beacon), t.winProb)) out.push(j);
  });
  return out;
}

/**
 * The k of a 2^-k ticket for a fee, so that its face value fee·2^k is as close to `targetFace` as a power of
 * two allows without passing it (in (targetFace/2, targetFace]); 0 when the fee already reaches the target:
 * that answer is paid by an exact receipt. At most 31 (winProb ≥ 2).
 */
export function ticketExponent(fee: bigint, targetFace: bigint): number {
  if (fee <= 0n) throw new Error(`a ticket's fee must be positive, got ${fee}`);
  let k = 0;
  while (k < WIN_PROB_BITS - 1 && fee << BigInt(k + 1) <= targetFace) k++;
  return k;
}
