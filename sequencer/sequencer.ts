// The sequencer: accepts signed bundles, seals them with the L1 queue into
// batches, proves them (several at once on a prover farm), checks every proof
// itself, and submits them in order.
//
// Every step is written to the store before it is relied on, and the
// in-memory state is a replay of the store, so a restart at any moment loses
// nothing acknowledged and applies nothing twice (docs/PROTOCOL.md has the
// rules; README.md the receipt lifecycle).
import type { Contract } from "ethers";
import { leafCapacity, loadInstance, type BatchParams } from "../core/params.js";
import type { PublicKey } from "../core/crypto.js";
import { ledgerRows, type LedgerRow } from "./ledger.js";
import { checkBundleShape, creditedAddresses, type SignedBundle } from "../core/receipt.js";
import { Piscina } from "piscina";
import ingestCheck, { ticketCheck, witnessCheck, type IngestResult, type IngestTask, type TicketIngestResult, type TicketIngestTask } from "./ingest-worker.js";
import { buildBatch, BundleError, RollupState, TicketBundleError, type BatchResult } from "../core/rollup.js";
import { checkTicketBundle, expectedValue, type SignedTicketBundle } from "../core/ticket.js";
import { TicketSettler, ticketsFillBatch } from "./tickets.js";
import { proofCalldata, WITNESS_FAILED } from "../prover/groth16.js";
import { sha256Hex } from "../artifacts/paths.js";
import type { Prover, ProverResult } from "../prover/pool.js";
import { publicSignals } from "../core/publicData.js";
import { artifactPaths } from "../artifacts/paths.js";
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import { scanQueue, submitArgs } from "./l1.js";
import { L1Submitter, type FeePolicy } from "./submitter.js";
import type { Metrics } from "./metrics.js";
import type { BatchTickets, L1Cursor, Store, StoredBatch, StoredBundle, StoredTicketBundle } from "./store.js";

export class ApiError extends Error {
  /** retryAfter: seconds, sent as Retry-After (a 429). */
  constructor(readonly status: number, readonly code: string, message: string, readonly retryAfter?: number) {
    super(message);
  }
}

/** Acceptance and sealing limits that keep one provider from filling the pipeline (docs/PROTOCOL.md §8, §12). */
export interface AdmissionPolicy {
  /** Every receipt pays at least this fee (OPEN base units); below it `fee_below_minimum`. */
  minFee: bigint;
  /** Bundles a provider may have accepted and not yet sealed; beyond it 429 `too_many_pending`. */
  maxPendingBundles: number;
  /** Batches sealed and not yet proved; sealing waits beyond it (default: the prover's capacity). */
  maxUnprovedBatches?: number;
}

/** 10^9 base units = 10^-9 OPEN per receipt; the protocol's 5 % of it pays for the receipt's place in a batch. */
export const DEFAULT_ADMISSION: AdmissionPolicy = { minFee: 10n ** 9n, maxPendingBundles: 32 };

export interface SequencerOptions {
  instance: string;
  maxWaitMs: number; // seal a non-full batch once its oldest item waited this long
  pollMs: number; // pipeline tick
  /** EIP-1559 fees: the cap, the tip, and when a stuck transaction is replaced (sequencer/submitter.ts). */
  fees: FeePolicy;
  /** Threads checking incoming bundles' hashes and signatures (default 2). */
  ingestThreads?: number;
  /** L1 blocks a queue operation must be under before the sequencer takes it (POA_CONFIRMATIONS). */
  confirmations: number;
  /** The rollup's deployment block: the first scan of the queue starts there. */
  l1FromBlock: number;
  /** Crash tests only: kill -9 this process right after a bundle is acknowledged, a batch is proved, or its transaction is sent. */
  crashAt?: "accepted" | "proved" | "sent";
  /** Minimum fee, pending bundles per provider, sealed-unproved batches (default DEFAULT_ADMISSION). */
  admission?: Partial<AdmissionPolicy>;
}

/** How far the oldest L1 operation that no batch on L1 has consumed is from its due block. */
export interface L1QueueHealth {
  /** Operations queued on L1 and not yet consumed by a batch on L1. */
  unconsumed: number;
  /** The contract's queue head and its due block (null when the queue is empty). */
  head: number;
  dueBlock: number | null;
  block: number;
  /** dueBlock - block: a batch consuming the head must land by then (negative: overdue). */
  blocksLeft: number | null;
  /** Blocks a batch sealed now needs to land, from the latest proof time and the chain's block time (null: not measured yet). */
  needBlocks: number | null;
  /** Below this many blocks left the sequencer alerts: half the exitDelay, or twice needBlocks if that is more. */
  alertBelowBlocks: number;
  /** The contract says a batch can no longer be submitted: anyone may begin exit mode. */
  overdue: boolean;
}

export interface ReceiptView { id: string; status: ReceiptStatus; bundle: number; position: number; batch: number | null; txHash: string | null; error: string | null }

export type ReceiptStatus = "accepted" | "rejected" | "batched" | "proving" | "proved" | "submitted" | "finalized" | "failed";

/** Ingest threads by default (0: the checks run on the event loop; the native EdDSA check costs ~2 ms). */
const INGEST_THREADS = 2;

/**
 * One ingest pool per process, made on first use and never ended: its idle threads are unref'd
 * and do not hold the process open. Ending a pool's threads (tsx, circomlibjs's WebAssembly) and
 * starting new ones as services came and went aborted the test process in native code ("double
 * free or corruption"); a pool that lives as long as the process has nothing to tear down.
 */
let ingestPool: Piscina | undefined;
function sharedIngestPool(threads: number): Piscina {
  ingestPool ??= new Piscina({ filename: new URL("./ingest-worker-entry.mjs", import.meta.url).href, minThreads: threads, maxThreads: threads, idleTimeout: Infinity });
  return ingestPool;
}

/** Bad proofs of one batch before the sequencer slows down and alerts (it keeps asking: liveness first). */
const MAX_BAD_PROOFS = 3;

const hex = (x: bigint) => `0x${x.toString(16).padStart(64, "0")}`;

export class Sequencer {
  readonly params: BatchParams;
  state!: RollupState; // after every sealed batch
  finalized!: RollupState; // after every batch final on L1
  private readonly results = new Map<number, BatchResult>(); // sealed, not final yet
  private pending = new Map<number, { count: bigint; fees: bigint; bundles: number }>(); // per provider, accepted not sealed
  private pendingFresh = new Set<bigint>(); // addresses without a leaf that accepted bundles credit
  /** Bundle hash -> the key its signature verified against at acceptance (memory only: a restart re-checks). */
  private readonly verifiedKey = new Map<string, string>();
  /** Bundles of a batch whose witness failed although the model took them; a second failure rejects them. */
  private readonly suspects = new Set<number>();
  private readonly proveRetryAt = new Map<number, { attempts: number; at: number }>();
  /** Problems the sequencer cannot resolve by itself; shown by /healthz and logged once each. */
  readonly alerts = new Map<string, number>();
  /** Leaves that credits may take: the tree minus the treasury and the leaves reserved for depositors. */
  creditLeafBudget = 0;
  private opsSeenAt = new Map<number, number>();
  /** When winners were first seen payable with none sealed since: they wait for a full batch at most maxWaitMs. */
  private winnersDueSince: number | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  /** Batches being proved now, by number (up to the prover's capacity). */
  private readonly provingNow = new Map<number, Promise<void>>();
  /** Proof attempts per batch since this process started (names farm jobs; bounds bad proofs). */
  private readonly attempts = new Map<number, number>();
  private vkey?: unknown;
  private stopping = false;
  private deploymentId = "";
  private submitting?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private treasury!: bigint;
  /** Per provider: the batch that last took one of its bundles (fair sealing: least recently served first). */
  private readonly lastServed = new Map<number, number>();
  readonly admission: AdmissionPolicy;
  /** The L1 queue's deadline as last read (every tick). */
  l1Queue?: L1QueueHealth;
  private exitDelay = 0;
  /** The latest proof's time (Retry-After estimates). */
  private lastProofMs = 0;
  private l1CheckedAt = 0;
  domain!: bigint;
  genesisRoot!: bigint;

  readonly submitter: L1Submitter;
  /** Payment tickets (PROTOCOL §16): commits, winners, beacons, ticket views; idle in an instance without them. */
  readonly tickets: TicketSettler;
  /** Threads that hash and verify incoming bundles (sequencer/ingest-worker.ts), shared by the process. */
  private readonly ingest?: Piscina;

  private constructor(readonly store: Store, readonly rollup: Contract, readonly prover: Prover, readonly opts: SequencerOptions, readonly metrics?: Metrics) {
    this.params = loadInstance(opts.instance).params;
    this.admission = { ...DEFAULT_ADMISSION, ...opts.admission };
    this.submitter = new L1Submitter(rollup, opts.fees);
    this.tickets = new TicketSettler(this.params, store, rollup);
    const threads = opts.ingestThreads ?? INGEST_THREADS;
    this.ingest = threads > 0 ? sharedIngestPool(threads) : undefined;
  }

  /** Opens the sequencer on a store and a deployed rollup; replays the store from genesis. */
  static async open(store: Store, rollup: Contract, prover: Prover, opts: SequencerOptions, metrics?: Metrics): Promise<Sequencer> {
    const s = new Sequencer(store, rollup, prover, opts, metrics);
    const network = await rollup.runner!.provider!.getNetwork();
    s.deploymentId = `${network.chainId}:${(await rollup.getAddress()).toLowerCase()}`;
    await store.bindDeployment(s.deploymentId);
    s.treasury = BigInt(await rollup.treasury());
    s.domain = await rollup.domain();
    s.creditLeafBudget = leafCapacity(s.params) - 1 - Number(await rollup.maxDepositors());
    s.exitDelay = Number(await rollup.exitDelay());
    await s.replay();
    return s;
  }

  private async replay(): Promise<void> {
    let state = new RollupState(this.params, this.treasury);
    if (state.root !== (await this.rollup.batchRoot(0))) throw new Error("the contract's genesis root differs from the model's: wrong circuit instance?");
    this.genesisRoot = state.root;
    this.finalized = state;
    for (const b of await this.store.batches()) {
      const ops = await this.store.l1Ops(b.firstOp, b.ops);
      const bundles = await Promise.all(b.bundleIds.map(async (id) => (await this.store.bundle(id))!.bundle));
      const tickets = await this.tickets.inputFor(b.number, b.tickets);
      const r = await buildBatch(state, { ops, bundles, tickets }, this.domain, { skipSignatureCheck: true });
      if (r.state.root !== b.newRoot) throw new Error(`replaying batch ${b.number} gives root ${hex(r.state.root)}, the store says ${hex(b.newRoot)}`);
      this.tickets.noteBatch(b.number, b.tickets, r);
      state = r.state;
      if (b.status === "finalized") {
        this.finalized = state;
        // Stores from before the ledger existed get their rows now.
        if (!(await this.store.hasLedger(b.number))) await this.store.writeLedger(b.number, await this.ledgerOf(b, r));
      } else this.results.set(b.number, r);
    }
    this.state = state;
    await this.recountPending();
  }

  private async recountPending(): Promise<void> {
    this.pending = new Map();
    this.pendingFresh = new Set();
    for (const b of await this.store.pendingBundles()) {
      const p = this.pending.get(b.providerIdx) ?? { count: 0n, fees: 0n, bundles: 0 };
      this.pending.set(b.providerIdx, { count: p.count + BigInt(b.count), fees: p.fees + b.totalFee, bundles: p.bundles + 1 });
      for (const a of this.freshAddresses(b.bundle)) this.pendingFresh.add(a);
    }
    // Ticket bundles share the provider's nonces and balance with its receipt bundles.
    for (const b of this.tickets.enabled ? await this.store.pendingTicketBundles() : []) {
      const p = this.pending.get(b.providerIdx) ?? { count: 0n, fees: 0n, bundles: 0 };
      this.pending.set(b.providerIdx, { count: p.count + BigInt(b.count), fees: p.fees + b.rootSum, bundles: p.bundles + 1 });
    }
  }

  /** Addresses a bundle credits that have no leaf yet: each will take a leaf when sealed. */
  private freshAddresses(b: SignedBundle): bigint[] {
    return [...creditedAddresses(b, this.treasury, this.params)].filter((a) => this.state.indexOf(a) === undefined);
  }

  /** Withdraws the alerts that begin with `prefix`: their problem is gone. */
  private resolve(prefix: string): void {
    for (const k of [...this.alerts.keys()]) if (k.startsWith(prefix)) this.alerts.delete(k);
  }

  /** Raises an operator alert: logged once per distinct problem, counted, shown by /healthz. */
  alert(problem: string): void {
    if (!this.alerts.has(problem)) console.error(`sequencer ALERT: ${problem}`);
    this.alerts.set(problem, Date.now());
    this.metrics?.alerts.inc();
  }

  /** Runs `fn` alone: acceptance and sealing never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------ ingest

  /**
   * Validates and stores a signed bundle. Idempotent: the same bundle again returns the first answer.
   * Hashing and the signature check run first, on an ingest thread and outside the lock (so that
   * neither the event loop nor other bundles wait on them), against the provider's key as it is now;
   * the decision is taken under the lock, with the key checked again.
   */
  async accept(bundle: SignedBundle): Promise<{ created: boolean; bundle: StoredBundle; receiptIds: string[] }> {
    try {
      checkBundleShape(bundle.receipts, this.params);
    } catch (e) {
      throw new ApiError(400, "bad_bundle", (e as Error).message);
    }
    const r0 = bundle.receipts[0];
    const check = (key: PublicKey): Promise<IngestResult> => {
      const task: IngestTask = { bundle, key: { ax: key.ax, ay: key.ay }, params: this.params, domain: this.domain };
      return this.ingest ? this.ingest.run(task) : ingestCheck(task);
    };
    let checked = await check(this.state.account(r0.providerIdx));
    return this.exclusive(async () => {
      // The same bundle again gets its first answer, whatever became of it. A rejected
      // bundle's receipts signed anew (a provider that rotated its key) are a new
      // attempt, kept under the bundle hash and the signature; nonces stop any repeat.
      const first = checked.hash;
      const sig = bundle.signature;
      const retryKey = `${first}:${sha256Hex(`${sig.R8x},${sig.R8y},${sig.S}`).slice(0, 16)}`;
      const seen = (await this.store.bundleByHash(retryKey)) ?? (await this.store.bundleByHash(first));
      const sameSignature = (b: StoredBundle) => b.bundle.signature.R8x === sig.R8x && b.bundle.signature.R8y === sig.R8y && b.bundle.signature.S === sig.S;
      if (seen && sameSignature(seen)) return { created: false, bundle: seen, receiptIds: await this.store.receiptIds(seen.id) };
      if (seen && seen.status !== "rejected") {
        // The same receipts under another signature are not a repeat (PROTOCOL §8): a bad one is refused as
        // such, a good one (a signer that does not sign deterministically) as a duplicate.
        if (!checked.signatureOk) throw new ApiError(401, "bad_signature", `the signature does not verify against provider ${r0.providerIdx}'s key for this rollup (domain ${this.domain}); these receipts are accepted already as bundle ${seen.id}`);
        throw new ApiError(409, "duplicate_bundle", `these receipts are accepted already as bundle ${seen.id}, under another signature; a repeat carries the same signature`);
      }
      const hash = seen ? retryKey : first;
      // After the repeat check: a bundle accepted before the minimum was raised still gets its first answer.
      const cheap = bundle.receipts.findIndex((r) => r.fee < this.admission.minFee);
      if (cheap >= 0) {
        throw new ApiError(422, "fee_below_minimum", `receipt ${cheap} pays a fee of ${bundle.receipts[cheap].fee}; this sequencer takes receipts paying at least ${this.admission.minFee} (OPEN base units)`);
      }

      const provider = this.state.account(r0.providerIdx);
      if (provider.address === 0n) throw new ApiError(422, "unknown_provider", `provider account ${r0.providerIdx} does not exist (deposit on L1 first)`);
      if (provider.ax === 0n && provider.ay === 0n) throw new ApiError(422, "unknown_provider", `account ${r0.providerIdx} has no signing key (deposit with a Baby Jubjub key first)`);
      // A batch sealed while the bundle was checked may have brought the provider a new key: check again (rare).
      if (keyId(provider) !== checked.keyId) checked = await check(provider);
      if (checked.keyProblem) throw new ApiError(422, "invalid_key", `provider ${r0.providerIdx}'s key cannot sign bundles: ${checked.keyProblem}; deposit again with a key made by prv2pub`);
      const pend = this.pending.get(r0.providerIdx) ?? { count: 0n, fees: 0n, bundles: 0 };
      if (pend.bundles >= this.admission.maxPendingBundles) {
        throw new ApiError(429, "too_many_pending", `provider ${r0.providerIdx} has ${pend.bundles} bundles accepted and not yet sealed (at most ${this.admission.maxPendingBundles}); post again once some are batched`, this.retryAfterSeconds());
      }
      const expected = provider.nonce + pend.count;
      if (r0.nonce < expected) throw new ApiError(409, "nonce_replayed", `nonce ${r0.nonce} of provider ${r0.providerIdx} is already used; the next nonce is ${expected}`);
      if (r0.nonce > expected) throw new ApiError(409, "nonce_skipped", `nonce ${r0.nonce} of provider ${r0.providerIdx} skips ahead; the next nonce is ${expected}`);
      if (!checked.signatureOk) {
        throw new ApiError(401, "bad_signature", `the signature does not verify against provider ${r0.providerIdx}'s key for this rollup (domain ${this.domain})`);
      }
      const total = bundle.receipts.reduce((a, r) => a + r.fee, 0n);
      const available = provider.balance - pend.fees;
      if (total > available) throw new ApiError(422, "insufficient_balance", `fees ${total} exceed provider ${r0.providerIdx}'s available balance ${available}`);
      const credited = creditedAddresses(bundle, this.treasury, this.params);
      if (credited.size > this.params.slots) {
        throw new ApiError(422, "too_many_accounts", `the bundle credits ${credited.size - 1} accounts besides the treasury; a batch has room for ${this.params.slots - 1}`);
      }
      const opening = this.freshAddresses(bundle);
      if (opening.length > this.params.newAccounts) {
        throw new ApiError(422, "too_many_new_accounts", `the bundle credits ${opening.length} accounts that have no leaf yet; a batch opens at most ${this.params.newAccounts}`);
      }
      const fresh = opening.filter((a) => !this.pendingFresh.has(a));
      const room = this.creditLeafBudget - this.state.creditLeaves - this.pendingFresh.size;
      if (fresh.length > room) {
        throw new ApiError(422, "tree_full", `the bundle credits ${fresh.length} accounts that have no leaf yet; the state tree has room for ${Math.max(room, 0)} more (leaves reserved for depositors excluded)`);
      }
      const stored = await this.store.insertBundle(hash, bundle, checked.receiptIds, total);
      this.verifiedKey.set(hash, keyId(provider));
      fresh.forEach((a) => this.pendingFresh.add(a));
      this.pending.set(r0.providerIdx, { count: pend.count + BigInt(bundle.receipts.length), fees: pend.fees + total, bundles: pend.bundles + 1 });
      this.metrics?.accepted.inc(bundle.receipts.length);
      return { created: true, bundle: stored, receiptIds: checked.receiptIds };
    });
  }

  /**
   * Validates and stores a signed ticket bundle (PROTOCOL §16), as accept() does a receipt bundle:
   * the sum tree and the signature on an ingest thread, the decision under the lock. The provider
   * pays the bundle's expected value (rootSum) when it is committed, so its available balance must
   * cover it now; its tickets take `count` nonces.
   */
  async acceptTickets(bundle: SignedTicketBundle): Promise<{ created: boolean; bundle: StoredTicketBundle; ticketIds: string[] }> {
    if (!this.tickets.enabled) throw new ApiError(404, "tickets_disabled", `circuit instance "${this.opts.instance}" has no ticket steps (circuits.json: ticketDepth, ticketCommits, winners)`);
    const treeDepth = this.tickets.shape.treeDepth;
    try {
      checkTicketBundle(bundle, this.params, treeDepth);
    } catch (e) {
      throw new ApiError(400, "bad_bundle", (e as Error).message);
    }
    const check = (key: PublicKey): Promise<TicketIngestResult> => {
      const task: TicketIngestTask = { bundle, key: { ax: key.ax, ay: key.ay }, params: this.params, treeDepth, domain: this.domain };
      return this.ingest ? this.ingest.run(task, { name: "ticketCheck" }) : ticketCheck(task);
    };
    let checked = await check(this.state.account(bundle.providerIdx));
    return this.exclusive(async () => {
      const seen = await this.store.ticketBundleByHash(checked.hash);
      if (seen && seen.status !== "rejected") {
        const sig = bundle.signature, was = seen.bundle.signature;
        if (sig.R8x === was.R8x && sig.R8y === was.R8y && sig.S === was.S) return { created: false, bundle: seen, ticketIds: await this.store.ticketIds(seen.id) };
        throw new ApiError(409, "duplicate_bundle", `these tickets are accepted already as ticket bundle ${seen.id}, under another signature`);
      }
      const cheap = bundle.tickets.findIndex((t) => expectedValue(t).value < this.admission.minFee);
      if (cheap >= 0) {
        throw new ApiError(422, "fee_below_minimum", `ticket ${cheap} is worth ${expectedValue(bundle.tickets[cheap]).value} in expectation (face × winProb / 2^32); this sequencer takes tickets worth at least ${this.admission.minFee} (OPEN base units)`);
      }
      const idx = bundle.providerIdx;
      const provider = this.state.account(idx);
      if (provider.address === 0n) throw new ApiError(422, "unknown_provider", `provider account ${idx} does not exist (deposit on L1 first)`);
      if (provider.ax === 0n && provider.ay === 0n) throw new ApiError(422, "unknown_provider", `account ${idx} has no signing key (deposit with a Baby Jubjub key first)`);
      if (keyId(provider) !== checked.keyId) checked = await check(provider);
      if (checked.keyProblem) throw new ApiError(422, "invalid_key", `provider ${idx}'s key cannot sign bundles: ${checked.keyProblem}; deposit again with a key made by prv2pub`);
      const pend = this.pending.get(idx) ?? { count: 0n, fees: 0n, bundles: 0 };
      if (pend.bundles >= this.admission.maxPendingBundles) {
        throw new ApiError(429, "too_many_pending", `provider ${idx} has ${pend.bundles} bundles accepted and not yet sealed (at most ${this.admission.maxPendingBundles}); post again once some are batched`, this.retryAfterSeconds());
      }
      const expected = provider.nonce + pend.count;
      if (bundle.firstNonce < expected) throw new ApiError(409, "nonce_replayed", `nonce ${bundle.firstNonce} of provider ${idx} is already used; the next nonce is ${expected}`);
      if (bundle.firstNonce > expected) throw new ApiError(409, "nonce_skipped", `nonce ${bundle.firstNonce} of provider ${idx} skips ahead; the next nonce is ${expected}`);
      if (!checked.signatureOk) throw new ApiError(401, "bad_signature", `the signature does not verify against provider ${idx}'s key for this rollup (domain ${this.domain})`);
      const available = provider.balance - pend.fees;
      if (checked.rootSum > available) {
        throw new ApiError(422, "insufficient_balance", `the tickets' expected value ${checked.rootSum} (paid into the ticket pool when the bundle is committed) exceeds provider ${idx}'s available balance ${available}`);
      }
      const room = this.creditLeafBudget - this.state.creditLeaves - this.state.bundles.size - this.pendingFresh.size - (await this.store.pendingTicketBundles()).length;
      if (room < 2) throw new ApiError(422, "tree_full", `a committed ticket bundle takes a leaf of the state tree, which has room for ${Math.max(room, 0)} more (leaves reserved for depositors excluded; the pool needs one)`);
      const stored = await this.store.insertTicketBundle(checked.hash, bundle, checked.ticketIds, checked.rootSum);
      this.pending.set(idx, { count: pend.count + BigInt(bundle.tickets.length), fees: pend.fees + checked.rootSum, bundles: pend.bundles + 1 });
      this.metrics?.accepted.inc(bundle.tickets.length);
      return { created: true, bundle: stored, ticketIds: checked.ticketIds };
    });
  }

  /** What a provider's next bundle may spend in fees: its sealed balance less the fees of bundles accepted and not yet sealed. */
  available(providerIdx: number): bigint {
    return this.state.account(providerIdx).balance - (this.pending.get(providerIdx)?.fees ?? 0n);
  }

  /** The nonce a provider's next bundle must start at: sealed state plus accepted bundles. */
  nextNonce(providerIdx: number): bigint {
    return this.state.account(providerIdx).nonce + (this.pending.get(providerIdx)?.count ?? 0n);
  }

  async receiptView(id: string): Promise<ReceiptView | undefined> {
    const r = await this.store.receipt(id.toLowerCase());
    return r && this.receiptViewIn(r.bundle, id, r.position);
  }

  /** A receipt's view from its bundle as read (a bundle just accepted needs no read: it is in no batch). */
  async receiptViewIn(b: StoredBundle, id: string, position: number): Promise<ReceiptView> {
    const batch = b.batch === null ? undefined : await this.store.batch(b.batch);
    const status: ReceiptStatus = b.status === "batched" ? (batch!.status === "sealed" ? "batched" : batch!.status) : b.status;
    return { id: id.toLowerCase(), status, bundle: b.id, position, batch: b.batch, txHash: batch?.txHash ?? null, error: b.error ?? batch?.error ?? null };
  }

  // ------------------------------------------------------------ pipeline

  start(): void {
    this.stopping = false;
    const loop = async () => {
      try {
        await (this.ticking = this.tick());
      } catch (e) {
        console.error(`sequencer tick: ${(e as Error).message}`);
      }
      if (this.timer) this.timer = setTimeout(loop, this.opts.pollMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Stops the pipeline; resolves once the tick, proof and submission under way have ended. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopping = true;
    // A tick under way may have started a proof or a submission after stop() looked: wait until
    // none is left, or the provider's end (service close) cancels their L1 calls.
    do await Promise.allSettled([this.ticking, ...this.provingNow.values(), this.submitting, this.lock]);
    while (this.submitting || this.provingNow.size > 0);
  }

  /** One round: read the L1 queue, seal what is due, start a proof, submit what is proved. */
  async tick(): Promise<void> {
    await this.syncQueue();
    await this.watchL1Deadline();
    await this.exclusive(() => this.maybeSeal());
    await this.dispatchProofs();
    if (!this.stopping) {
      this.submitting ??= this.submitNext()
        .catch((e: Error) => console.error(`sequencer submission: ${e.message}`)) // nobody awaits it but stop(): never an unhandled rejection
        .finally(() => (this.submitting = undefined));
    }
    const counts = await this.store.counts();
    this.metrics?.queueDepth.set({ queue: "bundles_pending" }, counts.bundles_pending);
    this.metrics?.queueDepth.set({ queue: "l1_ops_pending" }, (await this.store.l1OpCount()) - this.state.queueConsumed);
    this.metrics?.queueDepth.set({ queue: "batches_unfinalized" }, this.results.size);
    const jobs = this.metrics && (await this.prover.depth?.());
    if (jobs) {
      this.metrics!.queueDepth.set({ queue: "proof_jobs_queued" }, jobs.queued);
      this.metrics!.queueDepth.set({ queue: "proof_jobs_active" }, jobs.active);
    }
  }

  /**
   * Reads the L1 queue from the persisted cursor on, in blocks at least `confirmations` deep: an
   * operation that a reorganization removes or reorders before then is never seen. The cursor
   * moves with the operations, in one write. If the block at the cursor itself changed (a
   * reorganization deeper than the confirmation depth), the operations no batch has taken yet are
   * dropped and read again, with an alert.
   */
  private async syncQueue(): Promise<void> {
    let cursor = await this.store.l1Cursor();
    if (cursor) {
      const block = await this.rollup.runner!.provider!.getBlock(cursor.block);
      if (block?.hash !== cursor.hash) cursor = await this.rewindQueue(cursor);
    }
    for (let round = 0; round < 20; round++) {
      const have = await this.store.l1OpCount();
      const scan = await scanQueue(this.rollup, have, cursor?.block ?? this.opts.l1FromBlock - 1, this.opts.confirmations);
      if (!scan) return;
      await this.store.addL1Ops(have, scan.ops, scan.cursor);
      scan.ops.forEach((_, i) => this.opsSeenAt.set(have + i, Date.now()));
      cursor = scan.cursor;
    }
  }

  /**
   * Reads how many blocks the oldest L1 operation not yet consumed on L1 has left before its due
   * block (at most once a second), exports it, and alerts while fewer than half the exitDelay are
   * left: long before anyone could begin exit mode, and loudly once they can.
   */
  private async watchL1Deadline(): Promise<void> {
    if (this.l1Queue && Date.now() - this.l1CheckedAt < 1000) return;
    this.l1CheckedAt = Date.now();
    // Every read at one block: a batch landing between two reads would delete the head being read.
    const block = await this.rollup.runner!.provider!.getBlockNumber();
    const at = { blockTag: block };
    const [head, length, overdue] = await Promise.all([this.rollup.queueHead(at), this.rollup.queueLength(at), this.rollup.overdue(at)]);
    const unconsumed = Number(length - head);
    const dueBlock = unconsumed > 0 ? Number((await this.rollup.queuedOps(head, at)).dueBlock) : null;
    // From the measured proof time and the chain's block time: the blocks until a batch sealed now would land
    // (the unproved batches ahead of it, shared by the prover's capacity, then its own).
    const blockSeconds = await this.blockSeconds(block);
    const ahead = (await this.unprovedBatches()) + 1;
    const needBlocks = this.lastProofMs > 0 && blockSeconds ? Math.ceil((Math.ceil(ahead / Math.max(1, this.prover.capacity ?? 1)) * this.lastProofMs) / 1000 / blockSeconds) : null;
    const alertBelowBlocks = Math.max(Math.ceil(this.exitDelay / 2), 2 * (needBlocks ?? 0));
    const h: L1QueueHealth = { unconsumed, head: Number(head), dueBlock, block, blocksLeft: dueBlock === null ? null : dueBlock - block, needBlocks, alertBelowBlocks, overdue };
    this.l1Queue = h;
    this.metrics?.l1OpMarginBlocks.set(h.blocksLeft ?? this.exitDelay);
    const prefix = "L1 queue: ";
    const want = overdue
      ? `${prefix}operation ${h.head} was due at block ${dueBlock}: batches are refused and anyone may begin exit mode`
      : h.blocksLeft !== null && h.blocksLeft < alertBelowBlocks
        ? `${prefix}operation ${h.head} is due at block ${dueBlock}, under ${alertBelowBlocks} blocks away: a batch consuming it must land by then`
        : undefined;
    for (const k of [...this.alerts.keys()]) if (k.startsWith(prefix) && k !== want) this.alerts.delete(k);
    if (want && !this.alerts.has(want)) this.alert(want);
  }

  /** The chain's recent seconds per block (over the last 20 blocks), or null on a chain too young to tell. */
  private async blockSeconds(block: number): Promise<number | null> {
    if (block < 21) return null;
    const provider = this.rollup.runner!.provider!;
    const [now, then] = await Promise.all([provider.getBlock(block), provider.getBlock(block - 20)]);
    return now && then && now.timestamp > then.timestamp ? (now.timestamp - then.timestamp) / 20 : null;
  }

  private async rewindQueue(stale: L1Cursor): Promise<L1Cursor | undefined> {
    const keep = this.state.queueConsumed; // taken by sealed batches: those stay (L1 refuses a batch whose queue hash is wrong)
    const last = keep > 0 ? (await this.store.l1Ops(keep - 1, 1))[0] : undefined;
    const back = last?.blockNumber !== undefined ? await this.rollup.runner!.provider!.getBlock(last.blockNumber - 1) : null;
    const cursor = back?.hash ? { block: back.number, hash: back.hash } : null;
    await this.store.dropL1Ops(keep, cursor);
    for (const i of [...this.opsSeenAt.keys()]) if (i >= keep) this.opsSeenAt.delete(i);
    this.alert(`L1 reorganized deeper than ${this.opts.confirmations} confirmations: block ${stale.block} is no longer ${stale.hash.slice(0, 10)}…; the queue is read again from block ${(cursor?.block ?? this.opts.l1FromBlock - 1) + 1}`);
    return cursor ?? undefined;
  }

  private async maybeSeal(): Promise<void> {
    const p = this.params;
    let bundles = await this.store.pendingBundles();
    let ticketBundles = this.tickets.enabled ? await this.store.pendingTicketBundles() : [];
    const opsPending = (await this.store.l1OpCount()) - this.state.queueConsumed;
    // Winners whose beacon is on L1 wait for a batch: one that commits tickets too (ticketsFillBatch),
    // or, once the first of them has waited maxWaitMs, any batch, like any other item.
    const due = this.tickets.enabled ? await this.tickets.chooseWinners(this.state, 0n, new Set([this.treasury]), this.creditLeavesLeft([])) : undefined;
    const winnersDue = due?.winners.length ?? 0;
    if (winnersDue === 0) this.winnersDueSince = undefined;
    else this.winnersDueSince ??= Date.now();
    if (bundles.length === 0 && opsPending === 0 && ticketBundles.length === 0 && winnersDue === 0) return;
    // An L1 operation seen before a restart has no timestamp: it counts as overdue.
    const opsOldest = opsPending > 0 ? (this.opsSeenAt.get(this.state.queueConsumed) ?? 0) : Infinity;
    const oldest = Math.min(bundles[0]?.receivedAt ?? Infinity, ticketBundles[0]?.receivedAt ?? Infinity, opsOldest, this.winnersDueSince ?? Infinity);
    const full = bundles.length >= p.bundles || opsPending >= p.queueOps || (this.tickets.enabled && (await ticketsFillBatch(this.tickets.shape, { commitsWaiting: ticketBundles.length, winnersDue, moreWinners: due!.more, awaitingBeacon: () => this.tickets.awaitingBeacon() })));
    if (!full && Date.now() - oldest < this.opts.maxWaitMs) return;
    // Seal no further ahead of the provers than they can clear: an L1 operation goes into the next
    // batch sealed, so it waits for at most the proofs under way plus its own, never a backlog.
    const bound = this.admission.maxUnprovedBatches ?? Math.max(1, this.prover.capacity ?? 1);
    if ((await this.unprovedBatches()) >= bound) return;

    const ops = await this.store.l1Ops(this.state.queueConsumed, Math.min(p.queueOps, opsPending));
    // The model checks every bundle exactly as the circuit will, at its place in the
    // batch: after this batch's queue operations (a deposit may have replaced the
    // provider's key, a withdrawal emptied its balance). A bundle that fails is
    // rejected with its reason, and the batch is chosen again without it.
    const number = (await this.store.lastBatchNumber()) + 1;
    for (;;) {
      const chosen = this.chooseBundles(bundles);
      const tickets = this.tickets.enabled ? await this.chooseTickets(chosen, ticketBundles) : undefined;
      let r: BatchResult;
      try {
        r = await buildBatch(this.state, { ops, bundles: chosen.map((b) => b.bundle), tickets: tickets && { batchNumber: number - 1, ...tickets.input } }, this.domain, {
          verifiedAgainst: (i, key) => this.verifiedKey.get(chosen[i].hash) === keyId(key),
        });
      } catch (e) {
        if (e instanceof TicketBundleError) {
          const bad = (await this.store.ticketBundle(tickets!.stored.commitIds[e.commit]))!;
          await this.rejectFrom(bad.providerIdx, bad.bundle.firstNonce, bad.id, `ticket bundle ${bad.id}`, e.reason, "invalid_at_sealing");
          bundles = await this.store.pendingBundles();
          ticketBundles = await this.store.pendingTicketBundles();
          continue;
        }
        if (!(e instanceof BundleError)) {
          // Not a bundle's fault (e.g. a model/contract mismatch): nothing to reject, so say so,
          // and keep the L1 queue moving with a batch of its operations alone.
          this.alert(`cannot seal batch ${(await this.store.lastBatchNumber()) + 1}${chosen.length ? ` with bundles ${chosen.map((b) => b.id).join(", ")}` : ""}: ${(e as Error).message}`);
          if (chosen.length === 0 || ops.length === 0) return;
          bundles = [];
          continue;
        }
        await this.rejectWithLater(chosen[e.bundle], e.reason, "invalid_at_sealing");
        bundles = await this.store.pendingBundles();
        ticketBundles = this.tickets.enabled ? await this.store.pendingTicketBundles() : [];
        continue;
      }
      const stored = tickets?.stored;
      if (ops.length === 0 && chosen.length === 0 && !stored?.commitIds.length && !stored?.winners.length) {
        // Nothing fits: an empty batch would cost a proof and gas and change nothing. Ticket bundles that wait
        // for a leaf the tree no longer has (winners' new accounts took it since they were accepted) are refused.
        const first = ticketBundles[0];
        if (first && this.creditLeavesLeft(chosen) < 1) {
          await this.rejectFrom(first.providerIdx, first.bundle.firstNonce, first.id, `ticket bundle ${first.id}`, "tree_full: the state tree has no leaf left for a committed ticket bundle (leaves reserved for depositors excluded)", "tree_full");
        }
        return;
      }
      await this.store.sealBatch({ number, firstOp: this.state.queueConsumed, ops: ops.length, bundleIds: chosen.map((b) => b.id), ...(stored ? { tickets: stored } : {}), newRoot: r.publicInputs.newRoot, body: r.body });
      this.tickets.noteBatch(number, stored, r);
      this.state = r.state;
      this.results.set(number, r);
      chosen.forEach((b) => this.lastServed.set(b.providerIdx, number));
      chosen.forEach((b) => this.verifiedKey.delete(b.hash)); // sealed: an unsealed batch is checked in full again
      await this.recountPending();
      this.metrics?.batchReceipts.observe(chosen.reduce((a, b) => a + b.count, 0));
      return;
    }
  }

  /**
   * The ticket steps of the batch being sealed beside receipt bundles `chosen`: the pending ticket
   * bundles that continue their providers' nonces after those receipts (receipt bundles come first
   * in a batch), and the winners that are due (PROTOCOL §16.3).
   */
  private async chooseTickets(chosen: StoredBundle[], pending: StoredTicketBundle[]): Promise<{ stored: BatchTickets; input: { commits: SignedTicketBundle[]; beaconBatch: number; beacon: bigint; winners: { bundleIdx: number; index: number; tickets: SignedTicketBundle }[] } }> {
    const after = new Map<number, bigint>();
    for (const b of chosen) after.set(b.providerIdx, b.bundle.receipts[0].nonce + BigInt(b.count));
    const commits = this.tickets.chooseCommits(pending, (i) => after.get(i) ?? this.state.account(i).nonce, this.creditLeavesLeft(chosen));
    for (const c of commits) await this.tickets.withHashes(c);
    const credited = new Set<bigint>([this.treasury, ...chosen.flatMap((b) => [...creditedAddresses(b.bundle, this.treasury, this.params)])]);
    // Winners' new accounts take credit leaves too: what the receipts and the commits leave of them.
    const w = await this.tickets.chooseWinners(this.state, commits.reduce((a, b) => a + b.rootSum, 0n), credited, this.creditLeavesLeft(chosen) - commits.length);
    return {
      stored: { commitIds: commits.map((b) => b.id), beaconBatch: w.beaconBatch, beacon: w.beacon, winners: w.ids },
      input: { commits: commits.map((b) => b.bundle), beaconBatch: w.beaconBatch, beacon: w.beacon, winners: w.winners as { bundleIdx: number; index: number; tickets: SignedTicketBundle }[] },
    };
  }

  /**
   * Leaves that credits and bundle leaves may still take beside receipt bundles `chosen`: the tree less the
   * treasury, the leaves reserved for depositors, what credits and bundles took already, and one for the
   * ticket pool (kept, or taken: the pool's leaf is not counted among credits).
   */
  private creditLeavesLeft(chosen: StoredBundle[]): number {
    const fresh = new Set(chosen.flatMap((b) => this.freshAddresses(b.bundle)));
    return this.creditLeafBudget - this.state.creditLeaves - this.state.bundles.size - fresh.size - 1;
  }

  /**
   * Fair across providers: the provider least recently served goes first (ties: whose oldest
   * bundle waited longest), then the next, each provider's bundles in nonce order, round after
   * round, while the credited accounts fit the slots and the new ones fit the published
   * new-account records; a provider's later bundles wait behind its first one that does not fit.
   * The provider first in line always fits (a bundle fits an empty batch: acceptance checked it
   * against an older, smaller state), so with P providers waiting each one's oldest bundle is
   * sealed within P batches (ceil(P / NB) when their bundles fit together), whatever the others'
   * backlogs: one provider's flood cannot push another's receipts back.
   */
  private chooseBundles(pending: StoredBundle[]): StoredBundle[] {
    const p = this.params;
    const chosen: StoredBundle[] = [];
    const blocked = new Set<number>();
    const addresses = new Set<bigint>([this.treasury]);
    const opening = new Set<bigint>();
    const next = new Map<number, bigint>();
    for (const b of this.fairOrder(pending)) {
      if (chosen.length >= p.bundles) break;
      if (blocked.has(b.providerIdx)) continue;
      // A provider's ticket bundle may hold the nonces before this one: then it waits for a later batch.
      const nonce = next.get(b.providerIdx) ?? this.state.account(b.providerIdx).nonce;
      if (b.bundle.receipts[0].nonce !== nonce) {
        blocked.add(b.providerIdx);
        continue;
      }
      const mine = creditedAddresses(b.bundle, this.treasury, this.params);
      const mineNew = this.freshAddresses(b.bundle);
      if (new Set([...addresses, ...mine]).size > p.slots || new Set([...opening, ...mineNew]).size > p.newAccounts) {
        blocked.add(b.providerIdx);
        continue;
      }
      chosen.push(b);
      next.set(b.providerIdx, nonce + BigInt(b.count));
      mine.forEach((a) => addresses.add(a));
      mineNew.forEach((a) => opening.add(a));
    }
    return chosen;
  }

  /** Pending bundles interleaved across providers: round r holds each provider's r-th bundle, least recently served provider first. */
  private fairOrder(pending: StoredBundle[]): StoredBundle[] {
    const byProvider = new Map<number, StoredBundle[]>();
    for (const b of pending) byProvider.set(b.providerIdx, [...(byProvider.get(b.providerIdx) ?? []), b]);
    const queues = [...byProvider.entries()].sort(([a, qa], [b, qb]) => (this.lastServed.get(a) ?? 0) - (this.lastServed.get(b) ?? 0) || qa[0].id - qb[0].id).map(([, q]) => q);
    const out: StoredBundle[] = [];
    for (let round = 0; out.length < pending.length; round++) for (const q of queues) if (round < q.length) out.push(q[round]);
    return out;
  }

  /** Seconds a provider told to wait (429) should wait: about one batch, by the latest proof time. */
  private retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(Math.max(this.opts.maxWaitMs, this.lastProofMs) / 1000));
  }

  /** Batches sealed and not yet proved (their proofs running or waiting). */
  private async unprovedBatches(): Promise<number> {
    const first = await this.store.firstBatchIn("sealed", "proving", "failed");
    if (!first) return 0;
    return (await this.store.batchesFrom(first.number)).filter((b) => b.status === "sealed" || b.status === "proving" || b.status === "failed").length;
  }

  /** Rejects a pending bundle and its provider's later ones, whose nonces follow it; their nonces are free again. */
  private async rejectWithLater(bad: StoredBundle, reason: string, metric: string): Promise<void> {
    await this.rejectFrom(bad.providerIdx, bad.bundle.receipts[0].nonce, -1, `bundle ${bad.id}`, reason, metric);
  }

  /**
   * Rejects a provider's pending bundles of both kinds from nonce `nonce` on (the one at `nonce`,
   * named `what`, for `reason`; the later ones because their nonces follow it): the nonces are free again.
   */
  private async rejectFrom(providerIdx: number, nonce: bigint, ticketBundleId: number, what: string, reason: string, metric: string): Promise<void> {
    const why = (first: bigint) => (first === nonce ? reason : `follows ${what} of the same provider, which was rejected: ${reason}`);
    for (const b of await this.store.pendingBundles()) {
      if (b.providerIdx !== providerIdx || b.bundle.receipts[0].nonce < nonce) continue;
      await this.store.rejectBundle(b.id, why(b.bundle.receipts[0].nonce));
      this.verifiedKey.delete(b.hash);
      this.suspects.delete(b.id);
    }
    for (const b of this.tickets.enabled ? await this.store.pendingTicketBundles() : []) {
      if (b.providerIdx !== providerIdx || b.bundle.firstNonce < nonce) continue;
      await this.store.rejectTicketBundle(b.id, b.id === ticketBundleId ? reason : why(b.bundle.firstNonce));
    }
    this.metrics?.rejected.inc({ reason: metric });
    await this.recountPending();
  }

  /** Starts proofs of the oldest unproved batches, up to the prover's capacity; each runs on its own. */
  private async dispatchProofs(): Promise<void> {
    const capacity = Math.max(1, this.prover.capacity ?? 1);
    if (this.stopping || this.provingNow.size >= capacity) return;
    const first = await this.store.firstBatchIn("sealed", "proving", "failed");
    if (!first) return;
    for (const b of await this.store.batchesFrom(first.number)) {
      if (this.provingNow.size >= capacity) break;
      if ((b.status !== "sealed" && b.status !== "proving" && b.status !== "failed") || this.provingNow.has(b.number)) continue;
      const retry = this.proveRetryAt.get(b.number);
      if (b.status === "failed" && retry && Date.now() < retry.at) continue; // after a restart: at once
      this.provingNow.set(b.number, this.proveBatch(b).finally(() => this.provingNow.delete(b.number)));
    }
  }

  /**
   * Proves one batch and checks the proof itself against the public inputs it computed: a proof
   * from any prover (a farm worker above all) that does not verify is recorded against that
   * worker and asked for again, as a new attempt.
   */
  private async proveBatch(b: StoredBatch): Promise<void> {
    const r = this.results.get(b.number)!;
    const retry = this.proveRetryAt.get(b.number);
    const attempt = (this.attempts.get(b.number) ?? 0) + 1;
    this.attempts.set(b.number, attempt);
    await this.store.updateBatch(b.number, { status: "proving" });
    let proved: ProverResult;
    try {
      proved = await this.prover.prove(this.opts.instance, r.circuitInput, { batch: b.number, key: `${this.deploymentId}:${b.number}:${hex(b.newRoot)}`, attempt });
    } catch (e) {
      if (this.stopping) return; // stays "proving": proved again after the restart
      const message = (e as Error).message;
      if (message.startsWith(WITNESS_FAILED)) {
        // A prover's word that the circuit refuses the batch is checked before any bundle pays for it.
        const own = await this.witnessCheck(r.circuitInput);
        if (own !== null) return this.exclusive(() => this.unseal(b.number, own));
        const worker = (e as { worker?: string }).worker ?? "(unnamed)";
        const problem = `worker ${worker} said the circuit refuses batch ${b.number}, but the sequencer's own witness generation takes it`;
        await this.store.recordProofAttempt({ batch: b.number, worker, outcome: "false_refusal", ms: null, error: `${problem}: ${message.slice(0, 300)}` });
        this.proveRetryAt.set(b.number, { attempts: retry?.attempts ?? 0, at: attempt >= MAX_BAD_PROOFS ? Date.now() + 30_000 : 0 });
        await this.store.updateBatch(b.number, { status: "failed", error: `${problem}; proving again` });
        this.alert(`${problem} (the worker is lying or broken; its refusals are recorded in the batch's proof attempts)`);
        return;
      }
      // The prover itself failed (out of memory, a crashed worker, a farm job out of tries): the
      // batch is fine, so it is proved again after a growing pause.
      const failures = (retry?.attempts ?? 0) + 1;
      const waitMs = Math.min(60_000, this.opts.pollMs * 2 ** failures);
      this.proveRetryAt.set(b.number, { attempts: failures, at: Date.now() + waitMs });
      await this.store.recordProofAttempt({ batch: b.number, worker: "(none)", outcome: "failed", ms: null, error: message.slice(0, 500) });
      await this.store.updateBatch(b.number, { status: "failed", error: `proving failed: ${message}` });
      if (failures >= 3) this.alert(`proving batch ${b.number} fails repeatedly (3 attempts or more): ${message}`);
      return;
    }
    // An unseal may have taken the batch apart while it was proved: then this proof is for nothing.
    if (this.results.get(b.number) !== r) return;
    const worker = proved.worker ?? "(unnamed)";
    if (!(await this.proofVerifies(r, proved))) {
      const problem = `worker ${worker} returned a proof of batch ${b.number} that does not verify against the sequencer's public inputs`;
      await this.store.recordProofAttempt({ batch: b.number, worker, prover: proved.prover, outcome: "bad_proof", ms: proved.ms, error: problem });
      // Asked for again at once; after MAX_BAD_PROOFS bad ones, more slowly and with an alert.
      const bad = attempt >= MAX_BAD_PROOFS;
      this.proveRetryAt.set(b.number, { attempts: retry?.attempts ?? 0, at: bad ? Date.now() + 30_000 : 0 });
      await this.store.updateBatch(b.number, { status: "failed", error: `${problem}; proving again` });
      if (bad) this.alert(`batch ${b.number}: ${attempt} proofs that do not verify (last from worker ${worker})`);
      return;
    }
    await this.store.recordProofAttempt({ batch: b.number, worker, prover: proved.prover, outcome: "proved", ms: proved.ms, error: null });
    await this.store.updateBatch(b.number, { status: "proved", proof: JSON.stringify(proved.proof), error: null });
    this.proveRetryAt.delete(b.number);
    this.resolve(`proving batch ${b.number} fails repeatedly`);
    this.resolve(`batch ${b.number}: `);
    this.metrics?.proofSeconds.observe({ prover: proved.prover }, proved.ms / 1000);
    if (proved.cpuMs !== undefined) this.metrics?.proofCpuSeconds.inc({ prover: proved.prover }, proved.cpuMs / 1000);
    this.lastProofMs = proved.ms;
    if (this.opts.crashAt === "proved") process.kill(process.pid, "SIGKILL");
  }

  /** The circuit's verdict on an input by this sequencer's own witness generation (on an ingest thread): null if it takes it, else the error. */
  private async witnessCheck(input: Record<string, unknown>): Promise<string | null> {
    const task = { instance: this.opts.instance, input };
    return this.ingest ? this.ingest.run(task, { name: "witnessCheck" }) : witnessCheck(task);
  }

  /** Groth16 check of a returned proof against the public inputs this sequencer computed (never the worker's). */
  private async proofVerifies(r: BatchResult, proved: ProverResult): Promise<boolean> {
    this.vkey ??= JSON.parse(readFileSync(artifactPaths(this.opts.instance).vkey, "utf8"));
    try {
      return await snarkjs.groth16.verify(this.vkey, publicSignals(r.publicInputs).map(String), proved.proof);
    } catch {
      return false; // malformed: not a proof at all
    }
  }

  /**
   * The circuit refused batch `number`, which the model had accepted. Every
   * batch from it on (none has reached L1: batches are proved and sent in
   * order) is unsealed; its bundles go back to the pending queue, where
   * sealing checks them again with every check (signatures included) and
   * rejects the ones that fail. A bundle whose batch fails twice although the
   * model accepts it is rejected as well, with an operator alert: the model
   * and the circuit disagree, and liveness comes first.
   */
  private async unseal(number: number, reason: string): Promise<void> {
    const dropped = await this.store.batchesFrom(number);
    const bundleIds = (await this.store.batch(number))!.bundleIds;
    const again = bundleIds.filter((id) => this.suspects.has(id));
    await this.store.unsealFrom(number, reason);
    this.metrics?.unsealed.inc(dropped.length);
    for (const b of dropped) this.results.delete(b.number);
    this.tickets.forgetFrom(number);
    this.state = number === 1 ? this.finalized : (this.results.get(number - 1)?.state ?? this.finalized);
    for (const b of dropped.flatMap((d) => d.bundleIds)) this.verifiedKey.delete((await this.store.bundle(b))!.hash);
    if (bundleIds.length === 0) this.alert(`batch ${number} (queue operations only) failed witness generation: ${reason}`);
    for (const id of again) {
      const b = (await this.store.bundle(id))!;
      if (b.status === "accepted") await this.rejectWithLater(b, `the circuit refuses this bundle although the sequencer's checks accept it (${reason.slice(0, 200)})`, "circuit_refused");
    }
    if (again.length > 0) this.alert(`the model accepted bundles ${again.join(", ")} that the circuit refused: ${reason.slice(0, 300)}`);
    bundleIds.filter((id) => !again.includes(id)).forEach((id) => this.suspects.add(id));
    await this.recountPending();
  }

  /**
   * Sends the oldest proved batch, or follows the transaction that carries it: finalized once its
   * receipt is in, sent again if it reverted, replaced on the same nonce with higher fees (within the
   * cap) once it has waited stuckAfterMs without one. A base fee above the cap holds the batch back
   * with an alert. Batches reach L1 in order: a later one waits for every earlier one.
   */
  private async submitNext(): Promise<void> {
    const b = await this.store.firstBatchIn("sealed", "proving", "proved", "submitted", "failed");
    if (!b || (b.status !== "proved" && b.status !== "submitted")) return this.recordDueBeacon();
    const onChain = Number(await this.rollup.batchCount());
    if (onChain >= b.number) return this.adoptOnChain(b);
    if (onChain !== b.number - 1) throw new Error(`L1 holds ${onChain} batches; batch ${b.number} cannot follow`);
    const args = submitArgs(b.newRoot, b.ops, BigInt(b.tickets?.beaconBatch ?? 0), b.body, proofCalldata(JSON.parse(b.proof!)));
    const feeAlert = `batch ${b.number} waits: `;
    try {
      if (b.status === "submitted" && b.txHash) {
        const receipt = await this.submitter.receipt(b.txHash);
        if (receipt?.status === 1) {
          this.metrics?.gasUsed.inc(Number(receipt.gasUsed));
          return this.finalize(b.number, b.txHash);
        }
        if (receipt) {
          await this.store.updateBatch(b.number, { status: "proved", error: `transaction ${b.txHash} reverted; the batch is sent again` });
          return;
        }
        if (Date.now() - b.updatedAt < this.submitter.fees.stuckAfterMs) return; // pending, not yet stuck
        const r = await this.submitter.replace(b.txHash, args).catch(async (e: Error) => {
          // E.g. the old transaction was mined meanwhile ("nonce too low"): the next tick sees it.
          await this.store.updateBatch(b.number, { error: `replacing ${b.txHash} failed: ${e.message.slice(0, 300)}` });
          return null;
        });
        if (r === null) return;
        if (r && "wait" in r) return this.alert(feeAlert + r.wait);
        if (r) {
          this.resolve(feeAlert);
          this.metrics?.replaced.inc();
          await this.store.updateBatch(b.number, { status: "submitted", txHash: r.hash, error: `replaced stuck transaction ${b.txHash} (nonce ${r.nonce}) with one offering ${r.maxFeePerGas} wei per gas` });
          return;
        }
        // The node no longer knows the transaction (dropped): send afresh.
      }
      const sent = await this.submitter.send(args);
      if ("wait" in sent) return this.alert(feeAlert + sent.wait);
      this.resolve(feeAlert);
      if (this.opts.crashAt === "sent") process.kill(process.pid, "SIGKILL");
      await this.store.updateBatch(b.number, { status: "submitted", txHash: sent.hash, error: null });
    } catch (e) {
      // Refused or failed to send (an RPC error, a revert in estimation): the same batch is sent again on a later tick.
      await this.store.updateBatch(b.number, { status: "proved", error: `submission failed, will retry: ${(e as Error).message.slice(0, 300)}` });
    }
  }

  /**
   * Tickets committed by a batch on L1 wait for its beacon, which the next submitBatch records; with
   * no batch to send, the sequencer records it itself (recordBeacon, PROTOCOL §16.5) so that the
   * winners can be sealed now. Runs only between submissions: both use the sequencer's nonce.
   */
  private async recordDueBeacon(): Promise<void> {
    if (!this.tickets.enabled) return;
    const n = await this.tickets.dueBeacon(Number(await this.rollup.batchCount()));
    if (n === undefined) return;
    const prefix = "beacon: ";
    // At the batches' fees (under the same cap), and never waited on for long: submitBatch records due beacons too.
    const fees = await this.submitter.currentFees();
    if ("wait" in fees) return;
    try {
      const receipt = await (await this.rollup.recordBeacon(n, { type: 2, ...fees })).wait(1, 60_000);
      if (receipt?.status === 1) this.resolve(prefix);
    } catch (e) {
      this.alert(`${prefix}recording the beacon of batch ${n + 1} failed: ${(e as Error).message.slice(0, 200)}`);
    }
  }

  /** L1 already has batch b (a crash after sending): check its root and adopt it. */
  private async adoptOnChain(b: StoredBatch): Promise<void> {
    const root = BigInt(await this.rollup.batchRoot(b.number));
    if (root !== b.newRoot) {
      const problem = `L1 holds root ${hex(root)} for batch ${b.number}, not ${hex(b.newRoot)}: another sequencer shares this rollup, or the store belongs elsewhere`;
      await this.store.updateBatch(b.number, { status: "failed", error: problem });
      this.alert(problem);
      return;
    }
    const events = await this.rollup.queryFilter(this.rollup.filters.BatchSubmitted(b.number));
    await this.finalize(b.number, events[0]?.transactionHash ?? b.txHash ?? "");
  }

  /** The balance movements of batch `b` (sequencer/ledger.ts). */
  private async ledgerOf(b: StoredBatch, r: BatchResult): Promise<LedgerRow[]> {
    const bundles = await Promise.all(b.bundleIds.map(async (id) => {
      const stored = (await this.store.bundle(id))!;
      const receiptIds = await this.store.receiptIds(id);
      return { bundle: stored.bundle, receiptIds, meta: await Promise.all(receiptIds.map((rid) => this.store.receiptMeta(rid))) };
    }));
    const winners = await Promise.all((b.tickets?.winners ?? []).map(async (w) => ({
      receipt: (await this.store.ticketBundle(w.ticketBundleId))!.bundle.tickets[w.index].receipt,
      ticketId: (await this.store.ticketIds(w.ticketBundleId))[w.index],
    })));
    return ledgerRows(b.number, r, await this.store.l1Ops(b.firstOp, b.ops), bundles, this.params, this.treasury, winners);
  }

  private async finalize(number: number, txHash: string): Promise<void> {
    await this.store.finalizeBatch(number, txHash, await this.ledgerOf((await this.store.batch(number))!, this.results.get(number)!));
    this.finalized = this.results.get(number)!.state;
    this.results.delete(number);
  }
}

const keyId = (k: PublicKey) => `${k.ax}:${k.ay}`;


