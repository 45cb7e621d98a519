// The sequencer's embedded store (better-sqlite3, WAL, synchronous=FULL): a
// bundle is on disk before its receipts are acknowledged, a batch is sealed in
// one transaction with the bundles it takes, and every later step of a batch
// (proof, transaction hash, finality) is written before it is relied on. The
// in-memory state is never stored: it is a replay of the store from genesis.
import Database from "better-sqlite3";
import { EventEmitter } from "node:events";
import type { QueueOp } from "../core/queue.js";
import type { SignedBundle } from "../core/receipt.js";
import { bundleToJson, bundleSchema, ticketBundleSchema, ticketBundleToJson, toSignedBundle, toSignedTicketBundle } from "./schemas.js";
import type { SignedTicketBundle } from "../core/ticket.js";
import { ticketShape, type BatchParams } from "../core/params.js";
import type { LedgerRow, ReceiptMeta } from "./ledger.js";
import { MIGRATIONS_TABLE, pending } from "./migrations.js";
import type { ProverBackend } from "../prover/groth16.js";

export type BatchStatus = "sealed" | "proving" | "proved" | "submitted" | "finalized" | "failed";

export interface StoredBundle {
  id: number;
  hash: string;
  providerIdx: number;
  count: number;
  totalFee: bigint;
  bundle: SignedBundle;
  status: "accepted" | "batched" | "rejected";
  batch: number | null;
  error: string | null;
  receivedAt: number;
}

/** A signed ticket bundle as stored (docs/PROTOCOL.md §16): its tickets' expected values sum to `rootSum`. */
export interface StoredTicketBundle {
  id: number;
  hash: string;
  providerIdx: number;
  count: number;
  rootSum: bigint;
  bundle: SignedTicketBundle;
  status: "accepted" | "batched" | "rejected";
  /** The batch that committed it (the sequencer's 1-based number). */
  batch: number | null;
  error: string | null;
  receivedAt: number;
}

/** A batch's ticket steps, enough to build it again: the bundles it commits, and the winners it pays under one beacon. */
export interface BatchTickets {
  commitIds: number[];
  beaconBatch: number;
  beacon: bigint;
  winners: { ticketBundleId: number; index: number }[];
}

export interface StoredBatch {
  number: number;
  status: BatchStatus;
  firstOp: number;
  ops: number;
  bundleIds: number[];
  /** In an instance with tickets: its ticket steps (absent in one without). */
  tickets?: BatchTickets;
  newRoot: bigint;
  body: Uint8Array;
  proof: string | null;
  txHash: string | null;
  error: string | null;
  updatedAt: number;
}

const big = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** A queue operation with the L1 block its event was read from (absent for stores from before version 2). */
export type L1QueueOp = QueueOp & { blockNumber?: number; blockHash?: string };
/** The last L1 block the queue reader scanned, with its hash (a changed hash means L1 reorganized below it). */
export interface L1Cursor {
  block: number;
  hash: string;
}
export interface ProofAttempt {
  batch: number;
  worker: string;
  /** The prover that made the attempt's proof (proved, bad_proof); null where none was made. */
  prover?: ProverBackend | null;
  /** false_refusal: the worker said the circuit refuses the batch; the sequencer's own witness generation took it. */
  outcome: "proved" | "bad_proof" | "failed" | "false_refusal";
  ms: number | null;
  error: string | null;
  at: number;
}

export interface OpRow {
  json: string;
  block_number: number | string | null;
  block_hash: string | null;
}
const opJson = (op: L1QueueOp): QueueOp => ({ kind: op.kind, address: op.address, amount: op.amount, ax: op.ax, ay: op.ay, account: op.account });
/** A stored queue operation (both stores keep the same JSON). */
export function toOp(r: OpRow): L1QueueOp {
  const o = JSON.parse(r.json);
  const op: L1QueueOp = { ...o, address: BigInt(o.address), amount: BigInt(o.amount), ax: BigInt(o.ax), ay: BigInt(o.ay) };
  if (r.block_number !== null) op.blockNumber = Number(r.block_number);
  if (r.block_hash !== null) op.blockHash = r.block_hash;
  return op;
}
export { big as bigintJson, opJson };

/**
 * Emits "batch" ({ number, status, at }) when a batch is sealed or changes status, and "bundle"
 * ({ id, count }) when a bundle is accepted: the explorer's live updates (GET /v1/events).
 */
export class SqliteStore extends EventEmitter {
  readonly db: Database.Database;
  private readonly rows: BundleRows; // pendingBundles() runs every tick
  private readonly ticketRows: TicketBundleRows;

  constructor(file: string, params: BatchParams) {
    super();
    this.setMaxListeners(0); // one listener per open event stream
    this.rows = new BundleRows(params);
    this.ticketRows = new TicketBundleRows(params);
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.migrate();
  }

  /**
   * The prepared statement of `text`, prepared once: preparing costs about as much as running a
   * short query, and the accept path and every tick run the same few statements. The texts built
   * at run time (IN lists, column sets) take a few shapes each; the cap only guards against a bug.
   */
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      if (this.statements.size >= 512) this.statements.clear();
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }
  private readonly statements = new Map<string, Database.Statement>();

  /** Applies the schema migrations this file lacks, each in its own transaction (sequencer/migrations.ts). */
  private migrate(): void {
    this.db.exec(MIGRATIONS_TABLE);
    const applied = (this.sql("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version);
    for (const m of pending(applied)) {
      this.db.transaction(() => {
        this.db.exec(m.sqlite);
        this.sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, Date.now());
      })();
    }
  }

  /** The schema versions applied to this store, in order. */
  schemaVersions(): number[] {
    return (this.sql("SELECT version FROM schema_migrations ORDER BY version").all() as { version: number }[]).map((r) => r.version);
  }

  close(): void {
    this.db.close();
  }

  /** Binds the store to one deployment; a store made for another rollup is refused. */
  bindDeployment(id: string): void {
    const row = this.sql("SELECT value FROM meta WHERE key = 'deployment'").get() as { value: string } | undefined;
    if (!row) this.sql("INSERT INTO meta (key, value) VALUES ('deployment', ?)").run(id);
    else if (row.value !== id) throw new Error(`the store at ${this.db.name} belongs to deployment ${row.value}, not ${id}`);
  }

  // ------------------------------------------------------------ bundles

  /** Inserts an accepted bundle and its receipt ids in one transaction. */
  insertBundle(hash: string, bundle: SignedBundle, receiptIds: string[], totalFee: bigint): StoredBundle {
    const now = Date.now();
    const tx = this.db.transaction(() => {
      const r = this
        .sql("INSERT INTO bundles (hash, provider_idx, first_nonce, count, total_fee, json, status, received_at) VALUES (?, ?, ?, ?, ?, ?, 'accepted', ?)")
        .run(hash, bundle.receipts[0].providerIdx, bundle.receipts[0].nonce.toString(), bundle.receipts.length, totalFee.toString(), JSON.stringify(bundleToJson(bundle)), now);
      const id = Number(r.lastInsertRowid);
      // A receipt of a rejected bundle may come back in a new bundle (its nonce is free
      // again); it then follows the new bundle. Nonce checks stop any other repeat.
      const ins = this.sql("INSERT OR REPLACE INTO receipts (id, bundle_id, position) VALUES (?, ?, ?)");
      receiptIds.forEach((rid, i) => ins.run(rid, id, i));
      return id;
    });
    const stored = acceptedBundle(tx(), hash, bundle, totalFee, now);
    this.emit("bundle", { id: stored.id, count: stored.count });
    return stored;
  }

  bundleByHash(hash: string): StoredBundle | undefined {
    const row = this.sql("SELECT * FROM bundles WHERE hash = ?").get(hash);
    return row ? this.rows.read(row as Record<string, unknown>) : undefined;
  }

  bundle(id: number): StoredBundle | undefined {
    const row = this.sql("SELECT * FROM bundles WHERE id = ?").get(id);
    return row ? this.rows.read(row as Record<string, unknown>) : undefined;
  }

  /** Bundles not yet in a batch, oldest first. */
  pendingBundles(): StoredBundle[] {
    return (this.sql("SELECT * FROM bundles WHERE status = 'accepted' ORDER BY id").all() as Record<string, unknown>[]).map((r) => this.rows.read(r));
  }

  /** A pending bundle that can no longer be applied (e.g. an L1 withdrawal emptied the provider first). */
  rejectBundle(id: number, reason: string): void {
    this.sql("UPDATE bundles SET status = 'rejected', error = ? WHERE id = ? AND status = 'accepted'").run(reason, id);
  }

  /** Receipt ids of a bundle, in bundle order. */
  receiptIds(bundleId: number): string[] {
    return (this.sql("SELECT id FROM receipts WHERE bundle_id = ? ORDER BY position").all(bundleId) as { id: string }[]).map((r) => r.id);
  }

  receipt(id: string): { bundle: StoredBundle; position: number } | undefined {
    const row = this.sql("SELECT bundle_id, position FROM receipts WHERE id = ?").get(id) as { bundle_id: number; position: number } | undefined;
    return row ? { bundle: this.bundle(row.bundle_id)!, position: row.position } : undefined;
  }

  // ------------------------------------------------------------ ticket bundles

  /** Inserts an accepted ticket bundle and its tickets' ids (their hashes) in one transaction. */
  insertTicketBundle(hash: string, bundle: SignedTicketBundle, ticketIds: string[], rootSum: bigint): StoredTicketBundle {
    const now = Date.now();
    const id = this.db.transaction(() => {
      const r = this
        .sql("INSERT INTO ticket_bundles (hash, provider_idx, first_nonce, count, root_sum, status, received_at) VALUES (?, ?, ?, ?, ?, 'accepted', ?)")
        .run(hash, bundle.providerIdx, bundle.firstNonce.toString(), bundle.tickets.length, rootSum.toString(), now);
      const id = Number(r.lastInsertRowid);
      this.sql("INSERT INTO ticket_bundle_json (ticket_bundle_id, json) VALUES (?, ?)").run(id, JSON.stringify(ticketBundleToJson(bundle)));
      const ins = this.sql("INSERT OR REPLACE INTO tickets (id, ticket_bundle_id, position) VALUES (?, ?, ?)");
      ticketIds.forEach((tid, i) => ins.run(tid, id, i));
      return id;
    })();
    this.emit("bundle", { id, count: bundle.tickets.length, tickets: true });
    return { id, hash, providerIdx: bundle.providerIdx, count: bundle.tickets.length, rootSum, bundle, status: "accepted", batch: null, error: null, receivedAt: now };
  }

  /** A ticket bundle row, its json read only if the bundle is not parsed yet. */
  private ticketRow(r: Record<string, unknown>): StoredTicketBundle {
    return this.ticketRows.read(r, () => (this.sql("SELECT json FROM ticket_bundle_json WHERE ticket_bundle_id = ?").get(r.id) as { json: string }).json);
  }

  ticketBundleByHash(hash: string): StoredTicketBundle | undefined {
    const row = this.sql(`SELECT ${TicketBundleRows.COLUMNS} FROM ticket_bundles WHERE hash = ?`).get(hash);
    return row ? this.ticketRow(row as Record<string, unknown>) : undefined;
  }

  ticketBundle(id: number): StoredTicketBundle | undefined {
    const row = this.sql(`SELECT ${TicketBundleRows.COLUMNS} FROM ticket_bundles WHERE id = ?`).get(id);
    return row ? this.ticketRow(row as Record<string, unknown>) : undefined;
  }

  /** Ticket bundles not yet committed by a batch, oldest first. */
  pendingTicketBundles(): StoredTicketBundle[] {
    return (this.sql(`SELECT ${TicketBundleRows.COLUMNS} FROM ticket_bundles WHERE status = 'accepted' ORDER BY id`).all() as Record<string, unknown>[]).map((r) => this.ticketRow(r));
  }

  /** Ticket bundles committed by a sealed batch, oldest first (the explorer's ticket views). */
  committedTicketBundles(): StoredTicketBundle[] {
    return (this.sql(`SELECT ${TicketBundleRows.COLUMNS} FROM ticket_bundles WHERE status = 'batched' ORDER BY id`).all() as Record<string, unknown>[]).map((r) => this.ticketRow(r));
  }

  rejectTicketBundle(id: number, reason: string): void {
    this.sql("UPDATE ticket_bundles SET status = 'rejected', error = ? WHERE id = ? AND status = 'accepted'").run(reason, id);
  }

  ticketIds(ticketBundleId: number): string[] {
    return (this.sql("SELECT id FROM tickets WHERE ticket_bundle_id = ? ORDER BY position").all(ticketBundleId) as { id: string }[]).map((r) => r.id);
  }

  ticket(id: string): { bundle: StoredTicketBundle; position: number } | undefined {
    const row = this.sql("SELECT ticket_bundle_id, position FROM tickets WHERE id = ?").get(id) as { ticket_bundle_id: number; position: number } | undefined;
    return row ? { bundle: this.ticketBundle(row.ticket_bundle_id)!, position: row.position } : undefined;
  }

  // ------------------------------------------------------------ L1 queue

  l1OpCount(): number {
    return (this.sql("SELECT COUNT(*) AS n FROM l1_ops").get() as { n: number }).n;
  }

  /**
   * Appends queue operations [from, from + ops.length) read from L1 and, in the same transaction,
   * moves the reader's cursor to the last block it scanned: a restart resumes the scan there.
   */
  addL1Ops(from: number, ops: L1QueueOp[], cursor?: L1Cursor): void {
    const ins = this.sql("INSERT OR IGNORE INTO l1_ops (queue_index, json, block_number, block_hash) VALUES (?, ?, ?, ?)");
    this.db.transaction(() => {
      ops.forEach((op, i) => ins.run(from + i, JSON.stringify(opJson(op), big), op.blockNumber ?? null, op.blockHash ?? null));
      if (cursor) this.sql("INSERT INTO meta (key, value) VALUES ('l1_cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(JSON.stringify(cursor));
    })();
  }

  /** The last L1 block the queue reader scanned (confirmed), or undefined before the first scan. */
  l1Cursor(): L1Cursor | undefined {
    const r = this.sql("SELECT value FROM meta WHERE key = 'l1_cursor'").get() as { value: string } | undefined;
    return r ? JSON.parse(r.value) : undefined;
  }

  l1Ops(from: number, count: number): L1QueueOp[] {
    const rows = this.sql("SELECT json, block_number, block_hash FROM l1_ops WHERE queue_index >= ? AND queue_index < ? ORDER BY queue_index").all(from, from + count) as OpRow[];
    return rows.map(toOp);
  }

  /** Removes queue operations from index `from` on (L1 reorganized below the cursor) and sets the cursor back (null: to the start). */
  dropL1Ops(from: number, cursor: L1Cursor | null): void {
    this.db.transaction(() => {
      this.sql("DELETE FROM l1_ops WHERE queue_index >= ?").run(from);
      if (cursor) this.sql("INSERT INTO meta (key, value) VALUES ('l1_cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(JSON.stringify(cursor));
      else this.sql("DELETE FROM meta WHERE key = 'l1_cursor'").run();
    })();
  }

  // ------------------------------------------------------------ proving attempts

  /** Records one attempt at proving a batch: which worker, how it ended, how long it took. */
  recordProofAttempt(a: Omit<ProofAttempt, "at">): void {
    this.sql("INSERT INTO proof_attempts (batch, worker, prover, outcome, ms, error, at) VALUES (?, ?, ?, ?, ?, ?, ?)").run(a.batch, a.worker, a.prover ?? null, a.outcome, a.ms, a.error, Date.now());
  }

  proofAttempts(batch: number): ProofAttempt[] {
    return this.sql("SELECT batch, worker, prover, outcome, ms, error, at FROM proof_attempts WHERE batch = ? ORDER BY id").all(batch) as ProofAttempt[];
  }

  // ------------------------------------------------------------ batches

  /** Seals a batch and moves its bundles to it, atomically. */
  sealBatch(b: Omit<StoredBatch, "status" | "proof" | "txHash" | "error" | "updatedAt">): void {
    this.db.transaction(() => {
      this
        .sql("INSERT INTO batches (number, status, first_op, ops, bundle_ids, tickets, new_root, body, updated_at) VALUES (?, 'sealed', ?, ?, ?, ?, ?, ?, ?)")
        .run(b.number, b.firstOp, b.ops, JSON.stringify(b.bundleIds), batchTicketsJson(b.tickets), b.newRoot.toString(), Buffer.from(b.body), Date.now());
      this.sql("INSERT INTO batch_events (number, status, at) VALUES (?, 'sealed', ?)").run(b.number, Date.now());
      const upd = this.sql("UPDATE bundles SET status = 'batched', batch = ? WHERE id = ? AND status = 'accepted'");
      for (const id of b.bundleIds) {
        if (upd.run(b.number, id).changes !== 1) throw new Error(`bundle ${id} is not pending; it cannot join batch ${b.number}`);
      }
      const commit = this.sql("UPDATE ticket_bundles SET status = 'batched', batch = ? WHERE id = ? AND status = 'accepted'");
      for (const id of b.tickets?.commitIds ?? []) {
        if (commit.run(b.number, id).changes !== 1) throw new Error(`ticket bundle ${id} is not pending; batch ${b.number} cannot commit it`);
      }
    })();
    this.emit("batch", { number: b.number, status: "sealed", at: Date.now() });
  }

  updateBatch(number: number, fields: Partial<Pick<StoredBatch, "status" | "proof" | "txHash" | "error">>): void {
    const sets: string[] = ["updated_at = @now"];
    if (fields.status !== undefined) sets.push("status = @status");
    if (fields.proof !== undefined) sets.push("proof = @proof");
    if (fields.txHash !== undefined) sets.push("tx_hash = @txHash");
    if (fields.error !== undefined) sets.push("error = @error");
    const now = Date.now();
    this.db.transaction(() => {
      this.sql(`UPDATE batches SET ${sets.join(", ")} WHERE number = @number`).run({ now, number, status: null, proof: null, txHash: null, error: null, ...fields });
      if (fields.status !== undefined) this.sql("INSERT INTO batch_events (number, status, at, tx_hash, error) VALUES (?, ?, ?, ?, ?)").run(number, fields.status, now, fields.txHash ?? null, fields.error ?? null);
    })();
    if (fields.status !== undefined) this.emit("batch", { number, status: fields.status, at: now });
  }

  /** Marks batch `number` finalized and writes its ledger rows, in one transaction. */
  finalizeBatch(number: number, txHash: string, rows: LedgerRow[]): void {
    this.db.transaction(() => {
      this.updateBatch(number, { status: "finalized", txHash, error: null });
      this.writeLedger(number, rows);
    })();
  }

  /** Writes the ledger rows of a finalized batch (once: a batch that has rows keeps them). */
  writeLedger(number: number, rows: LedgerRow[]): void {
    const at = Date.now();
    this.db.transaction(() => {
      if (this.hasLedger(number)) return;
      const ins = this.sql("INSERT INTO ledger (batch, address, kind, amount, receipt, model, datanet, contribution, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      for (const r of rows) ins.run(number, r.address, r.kind, r.amount.toString(), r.receipt, r.model, r.datanet, r.contribution, at);
      // A batch with no movement still gets a marker row, so that it is not backfilled again.
      if (rows.length === 0) ins.run(number, "", "protocol", "0", null, null, null, null, at);
    })();
  }

  hasLedger(number: number): boolean {
    return this.sql("SELECT 1 FROM ledger WHERE batch = ? LIMIT 1").get(number) !== undefined;
  }

  /** An address's ledger rows, oldest first, with each batch's finalization time. */
  ledgerOf(address: string): (LedgerRow & { at: number })[] {
    const rows = this.sql("SELECT * FROM ledger WHERE address = ? ORDER BY batch, id").all(address.toLowerCase()) as Record<string, unknown>[];
    return rows.map(toLedgerRow);
  }

  /** Totals over the ledger grouped by model or by datanet (contributor and owner earnings). */
  ledgerTotals(by: "model" | "datanet"): { key: number; amount: bigint; receipts: number }[] {
    const rows = this.sql(`SELECT ${by} AS k, amount, receipt FROM ledger WHERE ${by} IS NOT NULL AND kind IN ('contributor', 'owner')`).all() as { k: number; amount: string; receipt: string }[];
    return sumTotals(rows);
  }

  setReceiptMeta(receiptIds: string[], metas: (ReceiptMeta | null | undefined)[]): void {
    const ins = this.sql("INSERT OR IGNORE INTO receipt_meta (receipt, json) VALUES (?, ?)");
    this.db.transaction(() => receiptIds.forEach((id, i) => metas[i] && ins.run(id, JSON.stringify(metas[i]))))();
  }

  receiptMeta(id: string): ReceiptMeta | null {
    const r = this.sql("SELECT json FROM receipt_meta WHERE receipt = ?").get(id) as { json: string } | undefined;
    return r ? JSON.parse(r.json) : null;
  }

  /** The statuses batch `number` took, in order, with their times (ms). */
  batchEvents(number: number): { status: BatchStatus; at: number; txHash: string | null; error: string | null }[] {
    const rows = this.sql("SELECT status, at, tx_hash, error FROM batch_events WHERE number = ? ORDER BY id").all(number) as { status: BatchStatus; at: number; tx_hash: string | null; error: string | null }[];
    return rows.map((r) => ({ status: r.status, at: r.at, txHash: r.tx_hash, error: r.error }));
  }

  /** Batches newest first, up to `limit`, numbered below `before`. */
  latestBatches(limit: number, before = Number.MAX_SAFE_INTEGER): StoredBatch[] {
    return (this.sql("SELECT * FROM batches WHERE number < ? ORDER BY number DESC LIMIT ?").all(before, limit) as Record<string, unknown>[]).map(toBatch);
  }

  /** The batch submitted in L1 transaction `txHash`. */
  batchByTx(txHash: string): number | undefined {
    const r = this.sql("SELECT number FROM batches WHERE lower(tx_hash) = ?").get(txHash.toLowerCase()) as { number: number } | undefined;
    return r?.number;
  }

  /** Receipts accepted since `since` (ms), in bundles not rejected. */
  receiptsSince(since: number): number {
    return (this.sql("SELECT COALESCE(SUM(count), 0) AS n FROM bundles WHERE received_at >= ? AND status != 'rejected'").get(since) as { n: number }).n;
  }

  /** Receipts in the given bundles. */
  receiptCount(bundleIds: number[]): number {
    if (bundleIds.length === 0) return 0;
    return (this.sql(`SELECT COALESCE(SUM(count), 0) AS n FROM bundles WHERE id IN (${bundleIds.map(() => "?").join(", ")})`).get(...bundleIds) as { n: number }).n;
  }

  batch(number: number): StoredBatch | undefined {
    const row = this.sql("SELECT * FROM batches WHERE number = ?").get(number);
    return row ? toBatch(row as Record<string, unknown>) : undefined;
  }

  /** The oldest batch in one of `statuses` (an index scan, not a read of every batch). */
  firstBatchIn(...statuses: BatchStatus[]): StoredBatch | undefined {
    const row = this.sql(`SELECT * FROM batches WHERE status IN (${statuses.map(() => "?").join(", ")}) ORDER BY number LIMIT 1`).get(...statuses);
    return row ? toBatch(row as Record<string, unknown>) : undefined;
  }

  lastBatchNumber(): number {
    return (this.sql("SELECT COALESCE(MAX(number), 0) AS n FROM batches").get() as { n: number }).n;
  }

  /**
   * Takes batches `number` and later apart (none of them on L1): each is recorded
   * in batch_failures, its row deleted (the number is sealed again), and its
   * bundles return to the pending queue, in their original order.
   */
  unsealFrom(number: number, reason: string): void {
    this.db.transaction(() => {
      const now = Date.now();
      for (const b of this.batchesFrom(number)) {
        if (b.status === "submitted" || b.status === "finalized") throw new Error(`batch ${b.number} is ${b.status}; it cannot be unsealed`);
        this.sql("INSERT INTO batch_failures (number, bundle_ids, error, at) VALUES (?, ?, ?, ?)").run(b.number, JSON.stringify(b.bundleIds), b.number === number ? reason : `follows batch ${number}, which failed`, now);
        this.sql("UPDATE bundles SET status = 'accepted', batch = NULL WHERE batch = ? AND status = 'batched'").run(b.number);
        this.sql("UPDATE ticket_bundles SET status = 'accepted', batch = NULL WHERE batch = ? AND status = 'batched'").run(b.number);
      }
      this.sql("DELETE FROM batches WHERE number >= ?").run(number);
      this.sql("DELETE FROM batch_events WHERE number >= ?").run(number);
    })();
  }

  /** Earlier attempts at batch `number` that were taken apart, oldest first. */
  batchFailures(number: number): { bundleIds: number[]; error: string; at: number }[] {
    const rows = this.sql("SELECT bundle_ids, error, at FROM batch_failures WHERE number = ? ORDER BY id").all(number) as { bundle_ids: string; error: string; at: number }[];
    return rows.map((r) => ({ bundleIds: JSON.parse(r.bundle_ids), error: r.error, at: r.at }));
  }

  /** Batches from `number` on, oldest first. */
  batchesFrom(number: number): StoredBatch[] {
    return (this.sql("SELECT * FROM batches WHERE number >= ? ORDER BY number").all(number) as Record<string, unknown>[]).map(toBatch);
  }

  /** Every batch, oldest first: for the replay at start only. */
  batches(): StoredBatch[] {
    return (this.sql("SELECT * FROM batches ORDER BY number").all() as Record<string, unknown>[]).map(toBatch);
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.sql("SELECT status, COUNT(*) AS n FROM batches GROUP BY status").all() as { status: string; n: number }[]) out[`batches_${r.status}`] = r.n;
    out.bundles_pending = (this.sql("SELECT COUNT(*) AS n FROM bundles WHERE status = 'accepted'").get() as { n: number }).n;
    return out;
  }
}

/** A bundles row as a StoredBundle (both stores keep the same columns). */
/** The row insertBundle wrote, as bundle(id) would read it back (without the read and the parse). */
export function acceptedBundle(id: number, hash: string, bundle: SignedBundle, totalFee: bigint, receivedAt: number): StoredBundle {
  return { id, hash, providerIdx: bundle.receipts[0].providerIdx, count: bundle.receipts.length, totalFee, bundle, status: "accepted", batch: null, error: null, receivedAt };
}

/**
 * Reads bundles rows. A bundle's JSON is written once and never changes, so each is parsed (zod,
 * BigInts) once per id: the sealer reads every pending bundle on every tick, and a backlog grows
 * while proofs run. The cap bounds memory; past it the cache starts over.
 */
export class BundleRows {
  private readonly schema: ReturnType<typeof bundleSchema>;
  private readonly parsed = new Map<number, SignedBundle>();
  constructor(params: BatchParams) {
    this.schema = bundleSchema(params);
  }

  read(r: Record<string, unknown>): StoredBundle {
    const id = r.id as number;
    let bundle = this.parsed.get(id);
    if (!bundle) {
      bundle = toSignedBundle(this.schema.parse(JSON.parse(r.json as string)));
      if (this.parsed.size >= 50_000) this.parsed.clear();
      this.parsed.set(id, bundle);
    }
    return {
      id,
      hash: r.hash as string,
      providerIdx: r.provider_idx as number,
      count: r.count as number,
      totalFee: BigInt(r.total_fee as string),
      bundle,
      status: r.status as StoredBundle["status"],
      batch: (r.batch as number | null) ?? null,
      error: (r.error as string | null) ?? null,
      receivedAt: Number(r.received_at),
    };
  }
}

/** Parses stored ticket bundles once each (like BundleRows): sealing reads the pending ones every tick. */
export class TicketBundleRows {
  private readonly schema: ReturnType<typeof ticketBundleSchema>;
  private readonly parsed = new Map<number, SignedTicketBundle>();
  constructor(params: BatchParams) {
    this.schema = ticketBundleSchema(params, ticketShape(params).treeDepth || 1);
  }

  /**
   * A ticket bundle's columns. Its json, megabytes at 4^DT tickets, is a table of its own
   * (ticket_bundle_json: a row read never walks it); parsed once and kept, it is read only for a
   * bundle not parsed yet (`json`).
   */
  static readonly COLUMNS = "id, hash, provider_idx, count, root_sum, status, batch, error, received_at";

  /** Whether bundle `id` is parsed: a row without its json can be read. */
  has(id: number): boolean {
    return this.parsed.has(id);
  }

  read(r: Record<string, unknown>, json?: () => string): StoredTicketBundle {
    const id = r.id as number;
    let bundle = this.parsed.get(id);
    if (!bundle) {
      const text = (r.json as string | undefined) ?? json?.();
      if (text === undefined) throw new Error(`ticket bundle ${id} was read without its json`);
      bundle = toSignedTicketBundle(this.schema.parse(JSON.parse(text)));
      if (this.parsed.size >= 10_000) this.parsed.clear();
      this.parsed.set(id, bundle);
    }
    return {
      id, hash: r.hash as string, providerIdx: r.provider_idx as number, count: r.count as number, rootSum: BigInt(r.root_sum as string), bundle,
      status: r.status as StoredTicketBundle["status"], batch: (r.batch as number | null) ?? null, error: (r.error as string | null) ?? null, receivedAt: Number(r.received_at),
    };
  }
}

export function batchTicketsJson(t: BatchTickets | undefined): string | null {
  return t ? JSON.stringify(t, big) : null;
}

export function parseBatchTickets(s: string): BatchTickets {
  const t = JSON.parse(s);
  return { ...t, beacon: BigInt(t.beacon) };
}

/** Ledger amounts summed per key, with the number of distinct receipts behind each sum. */
export function sumTotals(rows: { k: number; amount: string; receipt: string }[]): { key: number; amount: bigint; receipts: number }[] {
  const out = new Map<number, { amount: bigint; receipts: Set<string> }>();
  for (const r of rows) {
    const t = out.get(r.k) ?? { amount: 0n, receipts: new Set<string>() };
    t.amount += BigInt(r.amount);
    t.receipts.add(r.receipt);
    out.set(r.k, t);
  }
  return [...out].map(([key, t]) => ({ key, amount: t.amount, receipts: t.receipts.size }));
}

/** A ledger row with its time. */
export function toLedgerRow(r: Record<string, unknown>): LedgerRow & { at: number } {
  return {
    batch: Number(r.batch), address: String(r.address), kind: r.kind as LedgerRow["kind"], amount: BigInt(r.amount as string),
    receipt: (r.receipt as string | null) ?? null, model: (r.model as number | null) ?? null, datanet: (r.datanet as number | null) ?? null, contribution: (r.contribution as number | null) ?? null, at: Number(r.at),
  };
}

/** A batches row as a StoredBatch. */
export function toBatch(r: Record<string, unknown>): StoredBatch {
  return {
    number: r.number as number,
    status: r.status as BatchStatus,
    firstOp: r.first_op as number,
    ops: r.ops as number,
    bundleIds: JSON.parse(r.bundle_ids as string),
    ...(r.tickets ? { tickets: parseBatchTickets(r.tickets as string) } : {}),
    newRoot: BigInt(r.new_root as string),
    body: new Uint8Array(r.body as Buffer),
    proof: (r.proof as string | null) ?? null,
    txHash: (r.tx_hash as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    updatedAt: Number(r.updated_at),
  };
}

/** Every method of a store, returning a promise: what the sequencer uses, whatever the database. */
type Asynced<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : T[K] };
type StoreMethods = Exclude<keyof SqliteStore, keyof EventEmitter | "db">;
/**
 * The sequencer's store: written before acknowledgement, state = replay, idempotent, crash-safe. Events
 * "batch" and "bundle" as SqliteStore documents. Implementations: SQLite (`asyncStore(new SqliteStore(…))`, the default).
 */
export type Store = Asynced<Pick<SqliteStore, StoreMethods>> & Pick<EventEmitter, "on" | "off" | "emit" | "setMaxListeners">;

/**
 * The embedded SQLite store behind the async interface: each call runs synchronously and returns a settled
 * promise, so a write is on disk before the promise resolves.
 */
export function asyncStore(db: SqliteStore): Store {
  const emitter = new Set<PropertyKey>(["on", "off", "emit", "setMaxListeners", "once", "addListener", "removeListener"]);
  return new Proxy(db, {
    get(target, key) {
      const v = Reflect.get(target, key, target);
      if (typeof v !== "function" || emitter.has(key)) return typeof v === "function" ? v.bind(target) : v;
      return (...args: unknown[]) => {
        try {
          return Promise.resolve(v.apply(target, args));
        } catch (e) {
          return Promise.reject(e);
        }
      };
    },
  }) as unknown as Store;
}
