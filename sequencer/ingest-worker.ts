// An ingest thread: the hashing and signature check of an incoming bundle, off
// the HTTP event loop (Poseidon costs 0.1–0.75 ms per hash here by width, and
// most of a bundle's check; the EdDSA check ~1 ms with the key's table, see
// bench/RESULTS.md "Ingest"). The sequencer then decides, under its lock, with
// the state it holds: nonces, balances, duplicates.
import { initCrypto, keyProblem, verifySignature, type PublicKey } from "../core/crypto.js";
import type { BatchParams } from "../core/params.js";
import { calculateWitness } from "../prover/groth16.js";
import { bundleHashOf, bundleMessageOf, checkBundleShape, receiptHash, type SignedBundle } from "../core/receipt.js";
import { checkTicketBundle, ticketBundleMessage, ticketLeaf, type SignedTicketBundle } from "../core/ticket.js";
import { TicketTree } from "../core/ticket-tree.js";

export interface IngestTask {
  bundle: SignedBundle;
  /** The provider's key as the sequencer's state held it when the bundle arrived. */
  key: PublicKey;
  params: BatchParams;
  domain: bigint;
}

export interface IngestResult {
  /** 0x, 32 bytes: the bundle hash (idempotency key) and each receipt's hash (its id). */
  hash: string;
  receiptIds: string[];
  /** Why the key cannot sign, if it cannot (the signature is then not checked). */
  keyProblem: string | null;
  signatureOk: boolean;
  /** "ax:ay" of the key checked against. */
  keyId: string;
}

const hex = (x: bigint) => `0x${x.toString(16).padStart(64, "0")}`;

export default async function check(t: IngestTask): Promise<IngestResult> {
  await initCrypto();
  checkBundleShape(t.bundle.receipts, t.params);
  // Each receipt hashed once: its id, the bundle hash and the signed message all come from these.
  const receiptHashes = t.bundle.receipts.map((r) => receiptHash(r, t.params.entries));
  const bundle = bundleHashOf(receiptHashes, t.params);
  const hash = hex(bundle);
  const receiptIds = receiptHashes.map(hex);
  const keyId = `${t.key.ax}:${t.key.ay}`;
  if (t.key.ax === 0n && t.key.ay === 0n) return { hash, receiptIds, keyProblem: null, signatureOk: false, keyId };
  const problem = (await keyProblem(t.key)) ?? null;
  const signatureOk = problem === null && (await verifySignature(bundleMessageOf(bundle, t.domain), t.bundle.signature, t.key));
  return { hash, receiptIds, keyProblem: problem, signatureOk, keyId };
}

export interface TicketIngestTask {
  bundle: SignedTicketBundle;
  key: PublicKey;
  params: BatchParams;
  treeDepth: number;
  domain: bigint;
}

export interface TicketIngestResult {
  /** 0x, 32 bytes: the signed message (idempotency key) and each ticket's hash (its id). */
  hash: string;
  ticketIds: string[];
  rootSum: bigint;
  keyProblem: string | null;
  signatureOk: boolean;
  keyId: string;
}

/** A ticket bundle's check: its sum tree (two Poseidon hashes a ticket, one per four nodes) and its signature. */
export async function ticketCheck(t: TicketIngestTask): Promise<TicketIngestResult> {
  await initCrypto();
  checkTicketBundle(t.bundle, t.params, t.treeDepth);
  const leaves = t.bundle.tickets.map((x) => ticketLeaf(x, t.params.entries));
  const root = new TicketTree(t.treeDepth, leaves).root;
  const message = ticketBundleMessage(t.domain, t.bundle.providerIdx, t.bundle.firstNonce, t.bundle.tickets.length, root);
  const base = { hash: hex(message), ticketIds: leaves.map((l) => hex(l.hash)), rootSum: root.sum, keyId: `${t.key.ax}:${t.key.ay}` };
  if (t.key.ax === 0n && t.key.ay === 0n) return { ...base, keyProblem: null, signatureOk: false };
  const problem = (await keyProblem(t.key)) ?? null;
  const signatureOk = problem === null && (await verifySignature(message, t.bundle.signature, t.key));
  return { ...base, keyProblem: problem, signatureOk };
}

/**
 * Whether the circuit takes a batch's input: the sequencer's own witness generation, run here
 * (a fraction of a proof, off the event loop) before it believes a prover that says it does not.
 * Returns null when it does, the witness error otherwise.
 */
export async function witnessCheck(t: { instance: string; input: Record<string, unknown> }): Promise<string | null> {
  return calculateWitness(t.instance, t.input).then(
    () => null,
    (e: Error) => e.message,
  );
}
