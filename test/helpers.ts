// Shared fixtures: the test instance, provider keys, and a small world with
// funded providers, built through the same reference model the sequencer uses.
import { expect } from "chai";
import { initCrypto, publicKeyOf, type PublicKey } from "../core/crypto.js";
import { loadInstance, ticketShape, type BatchParams } from "../core/params.js";
import { signTicketBundle, ticketFor, type SignedTicketBundle } from "../core/ticket.js";
import { domainOf } from "../core/publicData.js";
import type { QueueOp } from "../core/queue.js";
import { signBundle, type AttributionEntry, type Receipt, type SignedBundle } from "../core/receipt.js";
import { buildBatch, RollupState, type BatchResult } from "../core/rollup.js";

export const INSTANCE = "test";
export const params: BatchParams = loadInstance(INSTANCE).params;
export const DOMAIN = domainOf(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
export const TREASURY = 0x7ea5n;
export const OPEN = 10n ** 18n;

/** A deterministic 32-byte Baby Jubjub private key. */
export function privateKey(seed: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (seed * 31 + i * 7 + 1) & 0xff);
}

export interface Provider {
  address: bigint;
  key: Uint8Array;
  pub: PublicKey;
}

export async function provider(seed: number): Promise<Provider> {
  await initCrypto();
  const key = privateKey(seed);
  return { address: 0xa000n + BigInt(seed), key, pub: await publicKeyOf(key) };
}

export function deposit(p: { address: bigint; pub?: PublicKey }, amount: bigint): QueueOp {
  return { kind: "deposit", address: p.address, amount, ax: p.pub?.ax ?? 0n, ay: p.pub?.ay ?? 0n, account: 0 };
}

export function withdrawal(address: bigint, account: number): QueueOp {
  return { kind: "withdrawal", address, amount: 0n, ax: 0n, ay: 0n, account };
}

export interface ReceiptSpec {
  owner: bigint;
  fee: bigint;
  entries: AttributionEntry[];
}

/** Signs receipts for `prov` starting at its current nonce in `state`. */
export async function bundleFor(state: RollupState, prov: Provider, specs: ReceiptSpec[], domain = DOMAIN): Promise<SignedBundle> {
  const idx = state.indexOf(prov.address);
  if (idx === undefined) throw new Error(`provider ${prov.address} has no account`);
  const nonce = state.account(idx).nonce;
  const receipts: Receipt[] = specs.map((s, j) => ({
    providerIdx: idx,
    owner: s.owner,
    fee: s.fee,
    nonce: nonce + BigInt(j),
    inputHash: BigInt(1000 + j),
    outputHash: BigInt(2000 + j),
    entries: s.entries,
  }));
  return signBundle(prov.key, receipts, params, domain);
}

/** Signs a ticket bundle for `prov` at its current nonce in `state`: ticket j pays receipt spec j at probability 2^-k. */
export async function ticketBundleFor(state: RollupState, prov: Provider, specs: ReceiptSpec[], k: number, domain = DOMAIN): Promise<SignedTicketBundle> {
  const idx = state.indexOf(prov.address);
  if (idx === undefined) throw new Error(`provider ${prov.address} has no account`);
  const firstNonce = state.account(idx).nonce;
  const tickets = specs.map((s, j) => ticketFor({ providerIdx: idx, owner: s.owner, fee: s.fee, nonce: firstNonce + BigInt(j), inputHash: BigInt(3000 + j), outputHash: BigInt(4000 + j), entries: s.entries }, k));
  return signTicketBundle(prov.key, { providerIdx: idx, firstNonce, tickets }, params, ticketShape(params).treeDepth, domain);
}

/** Genesis plus one batch per deposit, so that each provider has a funded account. */
export async function fundedWorld(providers: Provider[], amount: bigint): Promise<{ state: RollupState; batches: BatchResult[] }> {
  await initCrypto();
  let state = new RollupState(params, TREASURY);
  const batches: BatchResult[] = [];
  for (const p of providers) {
    const ops = [deposit(p, amount)];
    for (let i = 0; i < ops.length; i += params.queueOps) {
      const b = await buildBatch(state, { ops: ops.slice(i, i + params.queueOps), bundles: [] }, DOMAIN);
      batches.push(b);
      state = b.state;
    }
  }
  return { state, batches };
}

/** Awaits `p` and expects it to reject with a message containing `fragment`. */
export async function expectReject(p: Promise<unknown>, fragment: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(String(e instanceof Error ? e.message : e)).to.contain(fragment);
    return;
  }
  expect.fail(`expected a rejection containing "${fragment}"`);
}
