// The sequencer's store on a PostgreSQL server (POA_DATABASE_URL): the same
// rows and the same guarantees as the SQLite file (sequencer/store.ts). Every
// write that the sequencer relies on is one transaction, committed (with the
// server's default synchronous_commit = on: flushed to its WAL) before its
// promise resolves, so "written before acknowledged" holds across a crash of
// either process. One sequencer per database: it holds a session advisory
// lock for as long as it runs, which PostgreSQL releases when the connection
// drops (a killed sequencer frees it at once).
import { EventEmitter } from "node:events";
import pg from "pg";
import type { BatchParams } from "../core/params.js";
import type { SignedBundle } from "../core/receipt.js";
import type { LedgerRow, ReceiptMeta } from "./ledger.js";
import { MIGRATIONS_TABLE, pending } from "./migrations.js";
import { bundleToJson, ticketBundleToJson } from "./schemas.js";
import type { SignedTicketBundle } from "../core/ticket.js";
import {
  acceptedBundle, batchTicketsJson, bigintJson, opJson, sumTotals, toBatch, BundleRows, TicketBundleRows, toLedgerRow, toOp,
  type BatchStatus, type L1Cursor, type L1QueueOp, type OpRow, type ProofAttempt, type Store, type StoredBatch, type StoredBundle, type StoredTicketBundle,
} from "./store.js";

type Queryable = pg.Pool | pg.PoolClient;

// int8 (BIGINT, COUNT, SUM of integers) as a JS number: every such value here is a
// millisecond time, a count or an id, all far below 2^53.
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

/** An advisory lock key of its own ("poa-seq" in ASCII), so no other application's lock collides. */
const SEQUENCER_LOCK = 0x706f612d736571n;

export class PgStore extends EventEmitter implements Store {
  private readonly rows: BundleRows;
  private readonly ticketRows: TicketBundleRows;
  private lockClient?: pg.PoolClient;

  private constructor(readonly pool: pg.Pool, params: BatchParams, readonly label: string) {
    super();
    this.setMaxListeners(0);
    this.rows = new BundleRows(params);
    this.ticketRows = new TicketBundleRows(params);
  }

  /** Connects, takes the one-sequencer lock, and applies the missing migrations. */
  static async open(url: string, params: BatchParams, opts: { poolSize?: number } = {}): Promise<PgStore> {
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10, types, application_name: "poa-sequencer" });
    // An idle client that loses its server (a restart) must not crash the process: the next query reconnects.
    pool.on("error", (e) => console.error(`sequencer store: PostgreSQL connection lost: ${e.message}`));
    const label = redact(url);
    const s = new PgStore(pool, params, label);
    try {
      s.lockClient = await pool.connect();
      const { rows } = await s.lockClient.query("SELECT pg_try_advisory_lock($1) AS ok", [SEQUENCER_LOCK.toString()]);
      if (!rows[0].ok) throw new Error(`another sequencer holds the store at ${label}; one sequencer per database`);
      await s.migrate();
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  private async migrate(): Promise<void> {
    await this.tx(async (c) => {
      // Serialises concurrent starts on a fresh database (the advisory lock is per session, this one per transaction).
      await c.query("SELECT pg_advisory_xact_lock($1)", [(SEQUENCER_LOCK + 1n).toString()]);
      await c.query(MIGRATIONS_TABLE);
      const applied = (await c.query("SELECT version FROM schema_migrations")).rows.map((r) => Number(r.version));
      for (const m of pending(applied)) {
        await c.query(m.postgres);
        await c.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [m.version, m.name, Date.now()]);
      }
    });
  }

  async schemaVersions(): Promise<number[]> {
    return (await this.pool.query("SELECT version FROM schema_migrations ORDER BY version")).rows.map((r) => Number(r.version));
  }

  /** Runs `fn` in one transaction on one connection; rolls back if it throws. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async close(): Promise<void> {
    this.lockClient?.release();
    this.lockClient = undefined;
    await this.pool.end();
  }

  async bindDeployment(id: string): Promise<void> {
    const { rows } = await this.pool.query("INSERT INTO meta (key, value) VALUES ('deployment', $1) ON CONFLICT (key) DO UPDATE SET key = meta.key RETURNING value", [id]);
    if (rows[0].value !== id) throw new Error(`the store at ${this.label} belongs to deployment ${rows[0].value}, not ${id}`);
  }

  // ------------------------------------------------------------ bundles

  async insertBundle(hash: string, bundle: SignedBundle, receiptIds: string[], totalFee: bigint): Promise<StoredBundle> {
    const now = Date.now();
    const id = await this.tx(async (c) => {
      const { rows } = await c.query(
        "INSERT INTO bundles (hash, provider_idx, first_nonce, count, total_fee, json, status, received_at) VALUES ($1, $2, $3, $4, $5, $6, 'accepted', $7) RETURNING id",
        [hash, bundle.receipts[0].providerIdx, bundle.receipts[0].nonce.toString(), bundle.receipts.length, totalFee.toString(), JSON.stringify(bundleToJson(bundle)), now],
      );
      // As in SQLite: a receipt of a rejected bundle that comes back in a new bundle follows the new one.
      await c.query(
        `INSERT INTO receipts (id, bundle_id, position) SELECT id, $1, position - 1 FROM unnest($2::text[]) WITH ORDINALITY AS r(id, position)
         ON CONFLICT (id) DO UPDATE SET bundle_id = EXCLUDED.bundle_id, position = EXCLUDED.position`,
        [rows[0].id, receiptIds],
      );
      return rows[0].id as number;
    });
    const stored = acceptedBundle(id, hash, bundle, totalFee, now);
    this.emit("bundle", { id: stored.id, count: stored.count });
    return stored;
  }

  async bundleByHash(hash: string): Promise<StoredBundle | undefined> {
    return this.oneBundle("SELECT * FROM bundles WHERE hash = $1", [hash]);
  }

  async bundle(id: number): Promise<StoredBundle | undefined> {
    return this.oneBundle("SELECT * FROM bundles WHERE id = $1", [id]);
  }

  private async oneBundle(sql: string, args: unknown[]): Promise<StoredBundle | undefined> {
    const { rows } = await this.pool.query(sql, args);
    return rows[0] ? this.rows.read(rows[0]) : undefined;
  }

  async pendingBundles(): Promise<StoredBundle[]> {
    return (await this.pool.query("SELECT * FROM bundles WHERE status = 'accepted' ORDER BY id")).rows.map((r) => this.rows.read(r));
  }

  async rejectBundle(id: number, reason: string): Promise<void> {
    await this.pool.query("UPDATE bundles SET status = 'rejected', error = $1 WHERE id = $2 AND status = 'accepted'", [reason, id]);
  }

  async receiptIds(bundleId: number): Promise<string[]> {
    return (await this.pool.query("SELECT id FROM receipts WHERE bundle_id = $1 ORDER BY position", [bundleId])).rows.map((r) => r.id);
  }

  async receipt(id: string): Promise<{ bundle: StoredBundle; position: number } | undefined> {
    const { rows } = await this.pool.query("SELECT b.*, r.position AS receipt_position FROM receipts r JOIN bundles b ON b.id = r.bundle_id WHERE r.id = $1", [id]);
    return rows[0] ? { bundle: this.rows.read(rows[0]), position: rows[0].receipt_position } : undefined;
  }

  // ------------------------------------------------------------ ticket bundles

  async insertTicketBundle(hash: string, bundle: SignedTicketBundle, ticketIds: string[], rootSum: bigint): Promise<StoredTicketBundle> {
    const now = Date.now();
    const id = await this.tx(async (c) => {
      const { rows } = await c.query(
        "INSERT INTO ticket_bundles (hash, provider_idx, first_nonce, count, root_sum, status, received_at) VALUES ($1, $2, $3, $4, $5, 'accepted', $6) RETURNING id",
        [hash, bundle.providerIdx, bundle.firstNonce.toString(), bundle.tickets.length, rootSum.toString(), now],
      );
      await c.query("INSERT INTO ticket_bundle_json (ticket_bundle_id, json) VALUES ($1, $2)", [rows[0].id, JSON.stringify(ticketBundleToJson(bundle))]);
      await c.query(
        `INSERT INTO tickets (id, ticket_bundle_id, position) SELECT id, $1, position - 1 FROM unnest($2::text[]) WITH ORDINALITY AS r(id, position)
         ON CONFLICT (id) DO UPDATE SET ticket_bundle_id = EXCLUDED.ticket_bundle_id, position = EXCLUDED.position`,
        [rows[0].id, ticketIds],
      );
      return rows[0].id as number;
    });
    this.emit("bundle", { id, count: bundle.tickets.length, tickets: true });
    return { id, hash, providerIdx: bundle.providerIdx, count: bundle.tickets.length, rootSum, bundle, status: "accepted", batch: null, error: null, receivedAt: now };
  }

  /** Ticket bundle rows read without their json, which is fetched only for bundles not parsed yet (TicketBundleRows). */
  private async ticketBundleRows(where: string, args: unknown[]): Promise<StoredTicketBundle[]> {
    const { rows } = await this.pool.query(`SELECT ${TicketBundleRows.COLUMNS} FROM ticket_bundles ${where}`, args);
    const missing = rows.filter((r) => !this.ticketRows.has(r.id)).map((r) => r.id as number);
    const json = new Map<number, string>();
    if (missing.length) for (const r of (await this.pool.query("SELECT ticket_bundle_id AS id, json FROM ticket_bundle_json WHERE ticket_bundle_id = ANY($1::int[])", [missing])).rows) json.set(r.id, r.json);
    return rows.map((r) => this.ticketRows.read(r, () => json.get(r.id)!));
  }

  async ticketBundleByHash(hash: string): Promise<StoredTicketBundle | undefined> {
    return (await this.ticketBundleRows("WHERE hash = $1", [hash]))[0];
  }

  async ticketBundle(id: number): Promise<StoredTicketBundle | undefined> {
    return (await this.ticketBundleRows("WHERE id = $1", [id]))[0];
  }

  async pendingTicketBundles(): Promise<StoredTicketBundle[]> {
    return this.ticketBundleRows("WHERE status = 'accepted' ORDER BY id", []);
  }

  async committedTicketBundles(): Promise<StoredTicketBundle[]> {
    return this.ticketBundleRows("WHERE status = 'batched' ORDER BY id", []);
  }

  async rejectTicketBundle(id: number, reason: string): Promise<void> {
    await this.pool.query("UPDATE ticket_bundles SET status = 'rejected', error = $1 WHERE id = $2 AND status = 'accepted'", [reason, id]);
  }

  async ticketIds(ticketBundleId: number): Promise<string[]> {
    return (await this.pool.query("SELECT id FROM tickets WHERE ticket_bundle_id = $1 ORDER BY position", [ticketBundleId])).rows.map((r) => r.id);
  }

  async ticket(id: string): Promise<{ bundle: StoredTicketBundle; position: number } | undefined> {
    const { rows } = await this.pool.query("SELECT ticket_bundle_id, position FROM tickets WHERE id = $1", [id]);
    return rows[0] ? { bundle: (await this.ticketBundle(rows[0].ticket_bundle_id))!, position: rows[0].position } : undefined;
  }

  // ------------------------------------------------------------ L1 queue

  async l1OpCount(): Promise<number> {
    return (await this.pool.query("SELECT COUNT(*) AS n FROM l1_ops")).rows[0].n;
  }

  async addL1Ops(from: number, ops: L1QueueOp[], cursor?: L1Cursor): Promise<void> {
    await this.tx(async (c) => {
      if (ops.length > 0) {
        await c.query(
          `INSERT INTO l1_ops (queue_index, json, block_number, block_hash)
           SELECT $1::int + ord - 1, j, b, h FROM unnest($2::text[], $3::bigint[], $4::text[]) WITH ORDINALITY AS o(j, b, h, ord) ON CONFLICT (queue_index) DO NOTHING`,
          [from, ops.map((op) => JSON.stringify(opJson(op), bigintJson)), ops.map((op) => op.blockNumber ?? null), ops.map((op) => op.blockHash ?? null)],
        );
      }
      if (cursor) await setMeta(c, "l1_cursor", JSON.stringify(cursor));
    });
  }

  async l1Cursor(): Promise<L1Cursor | undefined> {
    const { rows } = await this.pool.query("SELECT value FROM meta WHERE key = 'l1_cursor'");
    return rows[0] ? JSON.parse(rows[0].value) : undefined;
  }

  async l1Ops(from: number, count: number): Promise<L1QueueOp[]> {
    const { rows } = await this.pool.query("SELECT json, block_number, block_hash FROM l1_ops WHERE queue_index >= $1 AND queue_index < $2 ORDER BY queue_index", [from, from + count]);
    return (rows as OpRow[]).map(toOp);
  }

  async dropL1Ops(from: number, cursor: L1Cursor | null): Promise<void> {
    await this.tx(async (c) => {
      await c.query("DELETE FROM l1_ops WHERE queue_index >= $1", [from]);
      if (cursor) await setMeta(c, "l1_cursor", JSON.stringify(cursor));
      else await c.query("DELETE FROM meta WHERE key = 'l1_cursor'");
    });
  }

  // ------------------------------------------------------------ proving attempts

  async recordProofAttempt(a: Omit<ProofAttempt, "at">): Promise<void> {
    await this.pool.query("INSERT INTO proof_attempts (batch, worker, prover, outcome, ms, error, at) VALUES ($1, $2, $3, $4, $5, $6, $7)", [a.batch, a.worker, a.prover ?? null, a.outcome, a.ms, a.error, Date.now()]);
  }

  async proofAttempts(batch: number): Promise<ProofAttempt[]> {
    return (await this.pool.query("SELECT batch, worker, prover, outcome, ms, error, at FROM proof_attempts WHERE batch = $1 ORDER BY id", [batch])).rows;
  }

  // ------------------------------------------------------------ batches

  async sealBatch(b: Omit<StoredBatch, "status" | "proof" | "txHash" | "error" | "updatedAt">): Promise<void> {
    const now = Date.now();
    await this.tx(async (c) => {
      await c.query("INSERT INTO batches (number, status, first_op, ops, bundle_ids, tickets, new_root, body, updated_at) VALUES ($1, 'sealed', $2, $3, $4, $5, $6, $7, $8)", [
        b.number, b.firstOp, b.ops, JSON.stringify(b.bundleIds), batchTicketsJson(b.tickets), b.newRoot.toString(), Buffer.from(b.body), now,
      ]);
      await c.query("INSERT INTO batch_events (number, status, at) VALUES ($1, 'sealed', $2)", [b.number, now]);
      const commits = b.tickets?.commitIds ?? [];
      if (commits.length > 0) {
        const { rowCount } = await c.query("UPDATE ticket_bundles SET status = 'batched', batch = $1 WHERE id = ANY($2::int[]) AND status = 'accepted'", [b.number, commits]);
        if (rowCount !== commits.length) throw new Error(`ticket bundles ${commits.join(", ")} are not all pending; batch ${b.number} cannot commit them`);
      }
      if (b.bundleIds.length === 0) return;
      const { rowCount } = await c.query("UPDATE bundles SET status = 'batched', batch = $1 WHERE id = ANY($2::int[]) AND status = 'accepted'", [b.number, b.bundleIds]);
      if (rowCount !== b.bundleIds.length) throw new Error(`bundles ${b.bundleIds.join(", ")} are not all pending; they cannot join batch ${b.number}`);
    });
    this.emit("batch", { number: b.number, status: "sealed", at: now });
  }

  async updateBatch(number: number, fields: Partial<Pick<StoredBatch, "status" | "proof" | "txHash" | "error">>): Promise<void> {
    const now = await this.tx((c) => updateBatchIn(c, number, fields));
    if (fields.status !== undefined) this.emit("batch", { number, status: fields.status, at: now });
  }

  async finalizeBatch(number: number, txHash: string, rows: LedgerRow[]): Promise<void> {
    const now = await this.tx(async (c) => {
      const at = await updateBatchIn(c, number, { status: "finalized", txHash, error: null });
      await writeLedgerIn(c, number, rows);
      return at;
    });
    this.emit("batch", { number, status: "finalized", at: now });
  }

  async writeLedger(number: number, rows: LedgerRow[]): Promise<void> {
    await this.tx((c) => writeLedgerIn(c, number, rows));
  }

  async hasLedger(number: number): Promise<boolean> {
    return (await this.pool.query("SELECT 1 FROM ledger WHERE batch = $1 LIMIT 1", [number])).rowCount! > 0;
  }

  async ledgerOf(address: string): Promise<(LedgerRow & { at: number })[]> {
    return (await this.pool.query("SELECT * FROM ledger WHERE address = $1 ORDER BY batch, id", [address.toLowerCase()])).rows.map(toLedgerRow);
  }

  async ledgerTotals(by: "model" | "datanet"): Promise<{ key: number; amount: bigint; receipts: number }[]> {
    const col = by === "model" ? "model" : "datanet";
    const { rows } = await this.pool.query(`SELECT ${col} AS k, amount, receipt FROM ledger WHERE ${col} IS NOT NULL AND kind IN ('contributor', 'owner')`);
    return sumTotals(rows);
  }

  async setReceiptMeta(receiptIds: string[], metas: (ReceiptMeta | null | undefined)[]): Promise<void> {
    const keep = receiptIds.map((id, i) => [id, metas[i]] as const).filter(([, m]) => m);
    if (keep.length === 0) return;
    await this.pool.query("INSERT INTO receipt_meta (receipt, json) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (receipt) DO NOTHING", [
      keep.map(([id]) => id), keep.map(([, m]) => JSON.stringify(m)),
    ]);
  }

  async receiptMeta(id: string): Promise<ReceiptMeta | null> {
    const { rows } = await this.pool.query("SELECT json FROM receipt_meta WHERE receipt = $1", [id]);
    return rows[0] ? JSON.parse(rows[0].json) : null;
  }

  async batchEvents(number: number): Promise<{ status: BatchStatus; at: number; txHash: string | null; error: string | null }[]> {
    const { rows } = await this.pool.query("SELECT status, at, tx_hash, error FROM batch_events WHERE number = $1 ORDER BY id", [number]);
    return rows.map((r) => ({ status: r.status, at: r.at, txHash: r.tx_hash, error: r.error }));
  }

  async latestBatches(limit: number, before = Number.MAX_SAFE_INTEGER): Promise<StoredBatch[]> {
    return (await this.pool.query("SELECT * FROM batches WHERE number < $1 ORDER BY number DESC LIMIT $2", [Math.min(before, 2 ** 31 - 1), limit])).rows.map(toBatch);
  }

  async batchByTx(txHash: string): Promise<number | undefined> {
    return (await this.pool.query("SELECT number FROM batches WHERE lower(tx_hash) = $1", [txHash.toLowerCase()])).rows[0]?.number;
  }

  async receiptsSince(since: number): Promise<number> {
    return (await this.pool.query("SELECT COALESCE(SUM(count), 0) AS n FROM bundles WHERE received_at >= $1 AND status != 'rejected'", [since])).rows[0].n;
  }

  async receiptCount(bundleIds: number[]): Promise<number> {
    if (bundleIds.length === 0) return 0;
    return (await this.pool.query("SELECT COALESCE(SUM(count), 0) AS n FROM bundles WHERE id = ANY($1::int[])", [bundleIds])).rows[0].n;
  }

  async batch(number: number): Promise<StoredBatch | undefined> {
    const { rows } = await this.pool.query("SELECT * FROM batches WHERE number = $1", [number]);
    return rows[0] ? toBatch(rows[0]) : undefined;
  }

  async firstBatchIn(...statuses: BatchStatus[]): Promise<StoredBatch | undefined> {
    const { rows } = await this.pool.query("SELECT * FROM batches WHERE status = ANY($1::text[]) ORDER BY number LIMIT 1", [statuses]);
    return rows[0] ? toBatch(rows[0]) : undefined;
  }

  async lastBatchNumber(): Promise<number> {
    return (await this.pool.query("SELECT COALESCE(MAX(number), 0) AS n FROM batches")).rows[0].n;
  }

  async unsealFrom(number: number, reason: string): Promise<void> {
    await this.tx(async (c) => {
      const now = Date.now();
      const { rows } = await c.query("SELECT * FROM batches WHERE number >= $1 ORDER BY number FOR UPDATE", [number]);
      for (const b of rows.map(toBatch)) {
        if (b.status === "submitted" || b.status === "finalized") throw new Error(`batch ${b.number} is ${b.status}; it cannot be unsealed`);
        await c.query("INSERT INTO batch_failures (number, bundle_ids, error, at) VALUES ($1, $2, $3, $4)", [
          b.number, JSON.stringify(b.bundleIds), b.number === number ? reason : `follows batch ${number}, which failed`, now,
        ]);
        await c.query("UPDATE bundles SET status = 'accepted', batch = NULL WHERE batch = $1 AND status = 'batched'", [b.number]);
        await c.query("UPDATE ticket_bundles SET status = 'accepted', batch = NULL WHERE batch = $1 AND status = 'batched'", [b.number]);
      }
      await c.query("DELETE FROM batches WHERE number >= $1", [number]);
      await c.query("DELETE FROM batch_events WHERE number >= $1", [number]);
    });
  }

  async batchFailures(number: number): Promise<{ bundleIds: number[]; error: string; at: number }[]> {
    const { rows } = await this.pool.query("SELECT bundle_ids, error, at FROM batch_failures WHERE number = $1 ORDER BY id", [number]);
    return rows.map((r) => ({ bundleIds: JSON.parse(r.bundle_ids), error: r.error, at: r.at }));
  }

  async batchesFrom(number: number): Promise<StoredBatch[]> {
    return (await this.pool.query("SELECT * FROM batches WHERE number >= $1 ORDER BY number", [number])).rows.map(toBatch);
  }

  async batches(): Promise<StoredBatch[]> {
    return (await this.pool.query("SELECT * FROM batches ORDER BY number")).rows.map(toBatch);
  }

  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of (await this.pool.query("SELECT status, COUNT(*) AS n FROM batches GROUP BY status")).rows) out[`batches_${r.status}`] = r.n;
    out.bundles_pending = (await this.pool.query("SELECT COUNT(*) AS n FROM bundles WHERE status = 'accepted'")).rows[0].n;
    return out;
  }
}

async function setMeta(c: Queryable, key: string, value: string): Promise<void> {
  await c.query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", [key, value]);
}

/** Updates a batch's fields and records a status change as an event; returns the time written. */
async function updateBatchIn(c: Queryable, number: number, fields: Partial<Pick<StoredBatch, "status" | "proof" | "txHash" | "error">>): Promise<number> {
  const now = Date.now();
  const sets = ["updated_at = $1"];
  const args: unknown[] = [now];
  const set = (col: string, v: unknown) => {
    args.push(v);
    sets.push(`${col} = $${args.length}`);
  };
  if (fields.status !== undefined) set("status", fields.status);
  if (fields.proof !== undefined) set("proof", fields.proof);
  if (fields.txHash !== undefined) set("tx_hash", fields.txHash);
  if (fields.error !== undefined) set("error", fields.error);
  args.push(number);
  await c.query(`UPDATE batches SET ${sets.join(", ")} WHERE number = $${args.length}`, args);
  if (fields.status !== undefined) {
    await c.query("INSERT INTO batch_events (number, status, at, tx_hash, error) VALUES ($1, $2, $3, $4, $5)", [number, fields.status, now, fields.txHash ?? null, fields.error ?? null]);
  }
  return now;
}

/** Writes a finalized batch's ledger rows once (a batch with rows keeps them; none at all leaves a marker row). */
async function writeLedgerIn(c: pg.PoolClient, number: number, rows: LedgerRow[]): Promise<void> {
  // The batch row is locked first, so two writers of the same batch's ledger serialise here.
  await c.query("SELECT 1 FROM batches WHERE number = $1 FOR UPDATE", [number]);
  if ((await c.query("SELECT 1 FROM ledger WHERE batch = $1 LIMIT 1", [number])).rowCount! > 0) return;
  const all: LedgerRow[] = rows.length > 0 ? rows : [{ batch: number, address: "", kind: "protocol", amount: 0n, receipt: null, model: null, datanet: null, contribution: null }];
  await c.query(
    `INSERT INTO ledger (batch, address, kind, amount, receipt, model, datanet, contribution, at)
     SELECT $1, * , $9 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[])`,
    [number, all.map((r) => r.address), all.map((r) => r.kind), all.map((r) => r.amount.toString()), all.map((r) => r.receipt), all.map((r) => r.model), all.map((r) => r.datanet), all.map((r) => r.contribution), Date.now()],
  );
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(an unparsable database URL)";
  }
}
