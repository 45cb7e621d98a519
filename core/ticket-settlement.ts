// The ticket steps of a batch in the reference model (docs/PROTOCOL.md §16.3),
// mirrored by circuits/lib/ticket_bundle.circom: commit a signed bundle, pay
// a winner, move the pool. Each function checks what the circuit checks,
// throws naming the problem, updates the state and returns the template's
// input, so that tests can hold model and circuit to the same roots.
import { leafFields, type Account } from "./account.js";
import { keyProblem, verifySignature } from "./crypto.js";
import { BALANCE_BITS, type BatchParams } from "./params.js";
import { payout } from "./payout.js";
import { paddedEntries } from "./receipt.js";
import type { RollupState } from "./rollup.js";
import {
  checkTicketBundle, POOL_ADDRESS, ticketBundleMessage, ticketTree, ticketWins, type BundleRecord, type SignedTicketBundle, type TicketBundle,
} from "./ticket.js";

export interface TicketSettings {
  /** Levels of the 4-ary ticket tree (4^DT tickets per bundle at most). */
  treeDepth: number;
}

export interface CommitResult {
  bundleIdx: number;
  record: BundleRecord;
  /** Into the pool. */
  inflow: bigint;
  circuitInput: Record<string, unknown>;
}

/** Commits a signed ticket bundle in batch `batchNumber` at the next free leaf. */
export async function commitTicketBundle(s: RollupState, b: SignedTicketBundle, t: TicketSettings, domain: bigint, batchNumber: number): Promise<CommitResult> {
  const p = s.params;
  checkTicketBundle(b, p, t.treeDepth);
  const provider = s.account(b.providerIdx);
  if (provider.address === 0n) throw new Error(`ticket bundle: provider account ${b.providerIdx} does not exist`);
  if (b.firstNonce !== provider.nonce) throw new Error(`ticket bundle: first nonce ${b.firstNonce} does not match provider ${b.providerIdx}'s nonce ${provider.nonce}`);
  const problem = await keyProblem(provider);
  if (problem) throw new Error(`ticket bundle: provider ${b.providerIdx}'s key cannot sign: ${problem}`);
  const root = ticketTree(b, p.entries, t.treeDepth).root;
  const count = b.tickets.length;
  if (!(await verifySignature(ticketBundleMessage(domain, b.providerIdx, b.firstNonce, count, root), b.signature, provider))) {
    throw new Error(`ticket bundle: the signature does not verify against provider ${b.providerIdx}'s key`);
  }
  if (root.sum > provider.balance) throw new Error(`ticket bundle: its expected value ${root.sum} exceeds provider ${b.providerIdx}'s balance ${provider.balance}`);

  const providerSiblings = s.tree.siblings(b.providerIdx);
  const rootIn = s.root;
  s.write(b.providerIdx, { ...provider, balance: provider.balance - root.sum, nonce: provider.nonce + BigInt(count) });
  const bundleIdx = s.freeLeaf();
  const bundleSiblings = s.tree.siblings(bundleIdx);
  const record: BundleRecord = { root, providerIdx: b.providerIdx, firstNonce: b.firstNonce, count, commitBatch: batchNumber, cursor: 0 };
  s.writeBundle(bundleIdx, record);
  const [address, balance, ax, ay, nonce] = leafFields(provider);
  return {
    bundleIdx, record, inflow: root.sum,
    circuitInput: {
      enabled: 1n, domain, batchNumber: BigInt(batchNumber), providerIdx: BigInt(b.providerIdx), address, balance, ax, ay, nonce, providerSiblings,
      sigS: b.signature.S, sigR8x: b.signature.R8x, sigR8y: b.signature.R8y, count: BigInt(count), rootHash: root.hash, rootSum: root.sum,
      bundleIdx: BigInt(bundleIdx), bundleOldLeaf: 0n, bundleSiblings, rootIn,
    },
  };
}

export interface WinnerResult {
  /** (address, amount) credits for the batch's credit slots: contributors, then the owner. */
  credits: [bigint, bigint][];
  /** Out of the pool: the face value less the protocol's share. */
  outflow: bigint;
  circuitInput: Record<string, unknown>;
}

/** Pays ticket `index` of the bundle committed at `bundleIdx`, which must have won under `beacon` (the beacon of batch `beaconBatch`). */
export function settleWinner(s: RollupState, bundleIdx: number, tickets: TicketBundle, index: number, t: TicketSettings, beaconBatch: number, beacon: bigint): WinnerResult {
  const p: BatchParams = s.params;
  const rec = s.bundles.get(bundleIdx);
  if (!rec) throw new Error(`winner: leaf ${bundleIdx} holds no committed ticket bundle`);
  if (rec.commitBatch !== beaconBatch) throw new Error(`winner: bundle ${bundleIdx} was committed in batch ${rec.commitBatch}; this batch presents the beacon of batch ${beaconBatch}`);
  if (beacon === 0n) throw new Error("winner: the beacon of batch " + beaconBatch + " is not recorded");
  if (index < rec.cursor) throw new Error(`winner: ticket ${index} of bundle ${bundleIdx} is behind its cursor ${rec.cursor} (paid, or passed over)`);
  if (index >= rec.count) throw new Error(`winner: bundle ${bundleIdx} has ${rec.count} tickets, no ticket ${index}`);
  const tree = ticketTree(tickets, p.entries, t.treeDepth);
  if (tree.root.hash !== rec.root.hash || tree.root.sum !== rec.root.sum) throw new Error(`winner: these tickets are not the ones committed in bundle ${bundleIdx}`);
  const ticket = tickets.tickets[index];
  if (!ticketWins(ticket, p.entries, beacon)) throw new Error(`winner: ticket ${index} of bundle ${bundleIdx} did not win`);

  const r = ticket.receipt;
  const entries = paddedEntries(r.entries, p.entries);
  const pay = payout(r.fee, entries.map((e) => e.score), p);
  const credits: [bigint, bigint][] = [...entries.map((e, i) => [e.contributor, pay.shares[i]] as [bigint, bigint]), [r.owner, pay.ownerTotal]];
  const sib = tree.siblings(index);
  const rootIn = s.root;
  const bundleOldLeaf = s.tree.leaf(bundleIdx);
  const bundleSiblings = s.tree.siblings(bundleIdx);
  s.writeBundle(bundleIdx, { ...rec, cursor: index + 1 });
  return {
    credits, outflow: r.fee - pay.protocol,
    circuitInput: {
      enabled: 1n, beaconBatch: BigInt(beaconBatch), beacon, bundleIdx: BigInt(bundleIdx), bundleOldLeaf,
      rootHash: rec.root.hash, rootSum: rec.root.sum, providerIdx: BigInt(rec.providerIdx), firstNonce: rec.firstNonce, count: BigInt(rec.count),
      commitBatch: BigInt(rec.commitBatch), cursor: BigInt(rec.cursor), bundleSiblings, ticketIndex: BigInt(index),
      owner: r.owner, face: r.fee, inputHash: r.inputHash, outputHash: r.outputHash,
      contributor: entries.map((e) => e.contributor), score: entries.map((e) => e.score), winProb: ticket.winProb,
      ticketSiblingHash: sib.map((l) => l.map((n) => n.hash)), ticketSiblingSum: sib.map((l) => l.map((n) => n.sum)), rootIn,
    },
  };
}

/** The pool's leaf: the existing one, else the next free leaf (opened as the pool). */
export function poolIndex(s: RollupState): number {
  return s.leafFor(POOL_ADDRESS);
}

/** Moves the pool by the batch's inflow and outflow; refuses to take it below zero. */
export function updatePool(s: RollupState, inflow: bigint, outflow: bigint): { poolIdx: number; circuitInput: Record<string, unknown> } {
  const enabled = inflow !== 0n || outflow !== 0n;
  const idx = enabled ? poolIndex(s) : 0;
  const before: Account = s.account(idx);
  const rootIn = s.root;
  const siblings = s.tree.siblings(idx);
  if (enabled) {
    const balance = before.balance + inflow - outflow;
    if (balance < 0n) throw new Error(`the ticket pool holds ${before.balance + inflow} base units with this batch's commits; its winners need ${outflow}`);
    if (balance >= 1n << BigInt(BALANCE_BITS)) throw new Error(`the ticket pool's balance would pass 2^${BALANCE_BITS}`);
    s.write(idx, { ...before, address: POOL_ADDRESS, balance });
  }
  const [address, balance, ax, ay, nonce] = leafFields(before);
  return { poolIdx: idx, circuitInput: { enabled: enabled ? 1n : 0n, poolIdx: BigInt(idx), address, balance, ax, ay, nonce, siblings, inflow, outflow, rootIn } };
}

// ---- Unused ticket slots of a batch: no-ops on leaf 0, every value 0 ----

export function idleCommitInput(s: RollupState, domain: bigint, batchNumber: number): Record<string, unknown> {
  const [address, balance, ax, ay, nonce] = leafFields(s.account(0));
  const sib = s.tree.siblings(0);
  return {
    enabled: 0n, domain, batchNumber: BigInt(batchNumber), providerIdx: 0n, address, balance, ax, ay, nonce, providerSiblings: sib,
    sigS: 0n, sigR8x: 0n, sigR8y: 1n, count: 0n, rootHash: 0n, rootSum: 0n, bundleIdx: 0n, bundleOldLeaf: s.tree.leaf(0), bundleSiblings: sib, rootIn: s.root,
  };
}

export function idleWinnerInput(s: RollupState, t: TicketSettings, beaconBatch: number, beacon: bigint): Record<string, unknown> {
  const K = s.params.entries;
  const zeros = (n: number) => Array.from({ length: n }, () => 0n);
  const levels = Array.from({ length: t.treeDepth }, () => zeros(3));
  return {
    enabled: 0n, beaconBatch: BigInt(beaconBatch), beacon, bundleIdx: 0n, bundleOldLeaf: s.tree.leaf(0), rootHash: 0n, rootSum: 0n, providerIdx: 0n,
    firstNonce: 0n, count: 0n, commitBatch: 0n, cursor: 0n, bundleSiblings: s.tree.siblings(0), ticketIndex: 0n, owner: 0n, face: 0n, inputHash: 0n, outputHash: 0n,
    contributor: zeros(K), score: zeros(K), winProb: 0n, ticketSiblingHash: levels, ticketSiblingSum: levels, rootIn: s.root,
  };
}
