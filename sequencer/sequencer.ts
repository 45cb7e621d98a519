// The sequencer: accepts signed bundles, seals them with the L1 queue into
// batches, proves batches on the prover pool and submits them in order.
//
// Every step is written to the store before it is relied on, and the
// in-memory state is a replay of the store, so a restart at any moment loses
// nothing acknowledged and applies nothing twice (docs/PROTOCOL.md has the
// rules; README.md the receipt lifecycle).
import type { Contract } from "ethers";
import { loadInstance, type BatchParams } from "../core/params.js";
import { bundleHash, checkBundleShape, receiptHash, verifyBundle, type SignedBundle } from "../core/receipt.js";
import { buildBatch, RollupState, type BatchResult } from "../core/rollup.js";
import { proofCalldata } from "../prover/groth16.js";
import type { Prover } from "../prover/pool.js";
import { readQueue } from "./l1.js";
import type { Metrics } from "./metrics.js";
import type { Store, StoredBatch, StoredBundle } from "./store.js";

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface SequencerOptions {
  instance: string;
  maxWaitMs: number; // seal a non-full batch once its oldest item waited this long
  pollMs: number; // pipeline tick
  resubmitAfterMs: number; // resend a submitted transaction that has no receipt after this long
  /** Crash tests only: kill -9 this process right after a bundle is acknowledged, a batch is proved, or its transaction is sent. */
  crashAt?: "accepted" | "proved" | "sent";
}

export type ReceiptStatus = "accepted" | "rejected" | "batched" | "proving" | "proved" | "submitted" | "finalized" | "failed";

const hex = (x: bigint) => `0x${x.toString(16).padStart(64, "0")}`;

export class Sequencer {
  readonly params: BatchParams;
  state!: RollupState; // after every sealed batch
  finalized!: RollupState; // after every batch final on L1
  private readonly results = new Map<number, BatchResult>(); // sealed, not final yet
  private pending = new Map<number, { count: bigint; fees: bigint }>(); // per provider, accepted not sealed
  private opsSeenAt = new Map<number, number>();
  private lock: Promise<unknown> = Promise.resolve();
  private proving?: Promise<void>;
  private submitting?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private treasury!: bigint;
  domain!: bigint;
  genesisRoot!: bigint;

  private constructor(readonly store: Store, readonly rollup: Contract, readonly prover: Prover, readonly opts: SequencerOptions, readonly metrics?: Metrics) {
    this.params = loadInstance(opts.instance).params;
  }

  /** Opens the sequencer on a store and a deployed rollup; replays the store from genesis. */
  static async open(store: Store, rollup: Contract, prover: Prover, opts: SequencerOptions, metrics?: Metrics): Promise<Sequencer> {
    const s = new Sequencer(store, rollup, prover, opts, metrics);
    const network = await rollup.runner!.provider!.getNetwork();
    store.bindDeployment(`${network.chainId}:${(await rollup.getAddress()).toLowerCase()}`);
    s.treasury = BigInt(await rollup.treasury());
    s.domain = await rollup.domain();
    await s.replay();
    return s;
  }

  private async replay(): Promise<void> {
    let state = new RollupState(this.params, this.treasury);
    if (state.root !== (await this.rollup.batchRoot(0))) throw new Error("the contract's genesis root differs from the model's: wrong circuit instance?");
    this.genesisRoot = state.root;
    this.finalized = state;
    for (const b of this.store.batches()) {
      const ops = this.store.l1Ops(b.firstOp, b.ops);
      const bundles = b.bundleIds.map((id) => this.store.bundle(id)!.bundle);
      const r = await buildBatch(state, { ops, bundles }, this.domain, { skipSignatureCheck: true });
      if (r.state.root !== b.newRoot) throw new Error(`replaying batch ${b.number} gives root ${hex(r.state.root)}, the store says ${hex(b.newRoot)}`);
      state = r.state;
      if (b.status === "finalized") this.finalized = state;
      else this.results.set(b.number, r);
    }
    this.state = state;
    this.recountPending();
  }

  private recountPending(): void {
    this.pending = new Map();
    for (const b of this.store.pendingBundles()) {
      const p = this.pending.get(b.providerIdx) ?? { count: 0n, fees: 0n };
      this.pending.set(b.providerIdx, { count: p.count + BigInt(b.count), fees: p.fees + b.totalFee });
    }
  }

  /** Runs `fn` alone: acceptance and sealing never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------ ingest

  /** Validates and stores a signed bundle. Idempotent: the same bundle again returns the first answer. */
  accept(bundle: SignedBundle): Promise<{ created: boolean; bundle: StoredBundle }> {
    return this.exclusive(async () => {
      try {
        checkBundleShape(bundle.receipts, this.params);
      } catch (e) {
        throw new ApiError(400, "bad_bundle", (e as Error).message);
      }
      const hash = hex(bundleHash(bundle.receipts, this.params));
      const seen = this.store.bundleByHash(hash);
      if (seen) return { created: false, bundle: seen }; // the first answer, whatever became of it

      const r0 = bundle.receipts[0];
      const provider = this.state.account(r0.providerIdx);
      if (provider.address === 0n) throw new ApiError(422, "unknown_provider", `provider account ${r0.providerIdx} does not exist (deposit on L1 first)`);
      if (provider.ax === 0n && provider.ay === 0n) throw new ApiError(422, "unknown_provider", `account ${r0.providerIdx} has no signing key (deposit with a Baby Jubjub key first)`);
      const pend = this.pending.get(r0.providerIdx) ?? { count: 0n, fees: 0n };
      const expected = provider.nonce + pend.count;
      if (r0.nonce < expected) throw new ApiError(409, "nonce_replayed", `nonce ${r0.nonce} of provider ${r0.providerIdx} is already used; the next nonce is ${expected}`);
      if (r0.nonce > expected) throw new ApiError(409, "nonce_skipped", `nonce ${r0.nonce} of provider ${r0.providerIdx} skips ahead; the next nonce is ${expected}`);
      if (!(await verifyBundle(bundle, provider, this.params, this.domain))) {
        throw new ApiError(401, "bad_signature", `the signature does not verify against provider ${r0.providerIdx}'s key for this rollup (domain ${this.domain})`);
      }
      const total = bundle.receipts.reduce((a, r) => a + r.fee, 0n);
      const available = provider.balance - pend.fees;
      if (total > available) throw new ApiError(422, "insufficient_balance", `fees ${total} exceed provider ${r0.providerIdx}'s available balance ${available}`);
      const credited = creditedAddresses(bundle, this.treasury);
      if (credited.size > this.params.slots) {
        throw new ApiError(422, "too_many_accounts", `the bundle credits ${credited.size - 1} accounts besides the treasury; a batch has room for ${this.params.slots - 1}`);
      }
      const stored = this.store.insertBundle(hash, bundle, bundle.receipts.map((r) => hex(receiptHash(r, this.params.entries))), total);
      this.pending.set(r0.providerIdx, { count: pend.count + BigInt(bundle.receipts.length), fees: pend.fees + total });
      this.metrics?.accepted.inc(bundle.receipts.length);
      return { created: true, bundle: stored };
    });
  }

  /** The nonce a provider's next bundle must start at: sealed state plus accepted bundles. */
  nextNonce(providerIdx: number): bigint {
    return this.state.account(providerIdx).nonce + (this.pending.get(providerIdx)?.count ?? 0n);
  }

  receiptView(id: string): { id: string; status: ReceiptStatus; bundle: number; position: number; batch: number | null; txHash: string | null; error: string | null } | undefined {
    const r = this.store.receipt(id.toLowerCase());
    if (!r) return undefined;
    const b = r.bundle;
    const batch = b.batch === null ? undefined : this.store.batch(b.batch);
    const status: ReceiptStatus = b.status === "batched" ? (batch!.status === "sealed" ? "batched" : batch!.status) : b.status;
    return { id: id.toLowerCase(), status, bundle: b.id, position: r.position, batch: b.batch, txHash: batch?.txHash ?? null, error: b.error ?? batch?.error ?? null };
  }

  // ------------------------------------------------------------ pipeline

  start(): void {
    const loop = async () => {
      try {
        await this.tick();
      } catch (e) {
        console.error(`sequencer tick: ${(e as Error).message}`);
      }
      if (this.timer) this.timer = setTimeout(loop, this.opts.pollMs);
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([this.proving, this.submitting, this.lock]);
  }

  /** One round: read the L1 queue, seal what is due, start a proof, submit what is proved. */
  async tick(): Promise<void> {
    await this.syncQueue();
    await this.exclusive(() => this.maybeSeal());
    this.proving ??= this.proveNext().finally(() => (this.proving = undefined));
    this.submitting ??= this.submitNext().finally(() => (this.submitting = undefined));
    const counts = this.store.counts();
    this.metrics?.queueDepth.set({ queue: "bundles_pending" }, counts.bundles_pending);
    this.metrics?.queueDepth.set({ queue: "l1_ops_pending" }, this.store.l1OpCount() - this.state.queueConsumed);
    this.metrics?.queueDepth.set({ queue: "batches_unfinalized" }, this.results.size);
  }

  private async syncQueue(): Promise<void> {
    const have = this.store.l1OpCount();
    const ops = await readQueue(this.rollup, have);
    if (ops.length === 0) return;
    this.store.addL1Ops(have, ops);
    ops.forEach((_, i) => this.opsSeenAt.set(have + i, Date.now()));
  }

  private async maybeSeal(): Promise<void> {
    const p = this.params;
    const bundles = this.store.pendingBundles();
    const opsPending = this.store.l1OpCount() - this.state.queueConsumed;
    if (bundles.length === 0 && opsPending === 0) return;
    // An L1 operation seen before a restart has no timestamp: it counts as overdue.
    const opsOldest = opsPending > 0 ? (this.opsSeenAt.get(this.state.queueConsumed) ?? 0) : Infinity;
    const oldest = Math.min(bundles[0]?.receivedAt ?? Infinity, opsOldest);
    const full = bundles.length >= p.bundles || opsPending >= p.queueOps;
    if (!full && Date.now() - oldest < this.opts.maxWaitMs) return;

    // First come, first served, while the credited accounts fit the slots; a
    // provider's later bundles wait behind its first one that does not fit.
    const chosen: StoredBundle[] = [];
    const blocked = new Set<number>();
    const addresses = new Set<bigint>([this.treasury]);
    for (const b of bundles) {
      if (chosen.length >= p.bundles) break;
      if (blocked.has(b.providerIdx)) continue;
      const mine = creditedAddresses(b.bundle, this.treasury);
      if (new Set([...addresses, ...mine]).size > p.slots) {
        blocked.add(b.providerIdx);
        continue;
      }
      chosen.push(b);
      mine.forEach((a) => addresses.add(a));
    }
    const ops = this.store.l1Ops(this.state.queueConsumed, Math.min(p.queueOps, opsPending));
    let r: BatchResult;
    try {
      r = await buildBatch(this.state, { ops, bundles: chosen.map((b) => b.bundle) }, this.domain, { skipSignatureCheck: true });
    } catch (e) {
      // A bundle that an earlier L1 operation made unpayable (its provider withdrew)
      // is rejected with its provider's later bundles, whose nonces follow it.
      const m = /^bundle (\d+): (.*)$/.exec((e as Error).message);
      if (!m) throw e;
      const bad = chosen[Number(m[1])];
      for (const b of bundles) if (b.providerIdx === bad.providerIdx && b.id >= bad.id) this.store.rejectBundle(b.id, m[2]);
      this.metrics?.rejected.inc({ reason: "unpayable_at_sealing" });
      this.recountPending();
      return;
    }
    const number = this.store.lastBatchNumber() + 1;
    this.store.sealBatch({ number, firstOp: this.state.queueConsumed, ops: ops.length, bundleIds: chosen.map((b) => b.id), newRoot: r.publicInputs.newRoot, body: r.body });
    this.state = r.state;
    this.results.set(number, r);
    this.recountPending();
    this.metrics?.batchReceipts.observe(chosen.reduce((a, b) => a + b.count, 0));
  }

  private async proveNext(): Promise<void> {
    const b = this.store.firstBatchIn("sealed", "proving");
    if (!b) return;
    this.store.updateBatch(b.number, { status: "proving" });
    try {
      const proved = await this.prover.prove(this.opts.instance, this.results.get(b.number)!.circuitInput);
      this.store.updateBatch(b.number, { status: "proved", proof: JSON.stringify(proved.proof) });
      this.metrics?.proofSeconds.observe(proved.ms / 1000);
      if (this.opts.crashAt === "proved") process.kill(process.pid, "SIGKILL");
    } catch (e) {
      this.store.updateBatch(b.number, { status: "failed", error: `proving failed: ${(e as Error).message}` });
    }
  }

  private async submitNext(): Promise<void> {
    const b = this.store.firstBatchIn("sealed", "proving", "proved", "submitted", "failed");
    if (!b || (b.status !== "proved" && b.status !== "submitted")) return;
    const onChain = Number(await this.rollup.batchCount());
    if (onChain >= b.number) return this.adoptOnChain(b);
    if (onChain !== b.number - 1) throw new Error(`L1 holds ${onChain} batches; batch ${b.number} cannot follow`);
    if (b.status === "submitted" && b.txHash) {
      const receipt = await this.rollup.runner!.provider!.getTransactionReceipt(b.txHash);
      if (!receipt && Date.now() - b.updatedAt < this.opts.resubmitAfterMs) return; // still pending
    }
    const proof = JSON.parse(b.proof!);
    try {
      const tx = await this.rollup.submitBatch(b.newRoot, b.ops, b.body, proofCalldata(proof));
      if (this.opts.crashAt === "sent") process.kill(process.pid, "SIGKILL");
      this.store.updateBatch(b.number, { status: "submitted", txHash: tx.hash });
      const receipt = await tx.wait();
      this.metrics?.gasUsed.inc(Number(receipt.gasUsed));
      this.finalize(b.number, tx.hash);
    } catch (e) {
      // Failed or dropped: the same batch is sent again on a later tick.
      this.store.updateBatch(b.number, { status: "proved", error: `submission failed, will retry: ${(e as Error).message.slice(0, 300)}` });
    }
  }

  /** L1 already has batch b (a crash after sending): check its root and adopt it. */
  private async adoptOnChain(b: StoredBatch): Promise<void> {
    const root = BigInt(await this.rollup.batchRoot(b.number));
    if (root !== b.newRoot) {
      this.store.updateBatch(b.number, { status: "failed", error: `L1 holds root ${hex(root)} for batch ${b.number}, not ${hex(b.newRoot)}` });
      return;
    }
    const events = await this.rollup.queryFilter(this.rollup.filters.BatchSubmitted(b.number));
    this.finalize(b.number, events[0]?.transactionHash ?? b.txHash ?? "");
  }

  private finalize(number: number, txHash: string): void {
    this.store.updateBatch(number, { status: "finalized", txHash, error: null });
    this.finalized = this.results.get(number)!.state;
    this.results.delete(number);
  }
}

/** Addresses a bundle may credit: the treasury, owners, and contributors with a positive score. */
function creditedAddresses(b: SignedBundle, treasury: bigint): Set<bigint> {
  const out = new Set<bigint>([treasury]);
  for (const r of b.receipts) {
    out.add(r.owner);
    for (const e of r.entries) if (e.score > 0n) out.add(e.contributor);
  }
  return out;
}
