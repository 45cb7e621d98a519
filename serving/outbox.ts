// The serving node's receipt outbox (SQLite, WAL, synchronous=FULL).
//
// A receipt is written here, with its nonce and id, before the answer it pays
// for leaves the node. Bundles are formed from written receipts in nonce order,
// signed, written, and then posted to the sequencer; a bundle is marked
// acknowledged only on the sequencer's 200/202. One bundle is in flight at a
// time, so the receipts after it are never signed yet. After a crash, the
// bundle in flight is posted again as it was (the sequencer answers a bundle
// it holds with its first acknowledgement) and the receipts not yet bundled
// are bundled: a served inference is paid exactly once.
//
// Receipt states: issued → bundled → accepted, or rejected. A receipt that the
// sequencer can never take alone (it credits more new accounts than a batch
// opens) is rejected with the reason; the issued receipts after it move down
// one nonce each, and keep their ids (a receipt's `hash` is then its new
// Poseidon hash, the one the sequencer knows).
//
// Payment tickets (docs/PROTOCOL.md §16): a ticket is a receipt whose fee is
// its face value, with a win probability (`winProb`); its `fee` column holds
// what it costs in expectation (face × winProb / 2^32), so the balance checks
// below are the same for both kinds, and its hash is the ticket's hash. A
// bundle holds receipts of one kind, with consecutive nonces.
import Database from "better-sqlite3";
import type { Receipt, SignedBundle } from "../core/receipt.js";
import type { SignedTicketBundle } from "../core/ticket.js";

export type OutboxReceiptStatus = "issued" | "bundled" | "accepted" | "rejected";

export interface OutboxReceipt {
  /** The id given to the client: the receipt's hash when it was issued. */
  id: string;
  /** Its hash now (the sequencer's receipt id). */
  hash: string;
  receipt: Receipt;
  /** A ticket's win probability × 2^32 (its receipt's fee is the face value); null for an exact receipt. */
  winProb: bigint | null;
  /** What it costs the provider: the fee, or a ticket's expected value. */
  cost: bigint;
  model: number;
  status: OutboxReceiptStatus;
  /** Bundle it must travel alone in (the sequencer refused it with others). */
  alone: boolean;
  bundle: number | null;
  error: string | null;
  /** What the API shows about it: tokens, attribution by contribution, timings. */
  detail: unknown;
  createdAt: number;
}

export interface OutboxBundle {
  id: number;
  /** Receipts under a receipt bundle's signature, or tickets under a ticket bundle's. */
  bundle: SignedBundle | SignedTicketBundle;
  receiptIds: string[];
  createdAt: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS receipts (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  nonce INTEGER NOT NULL,
  model INTEGER NOT NULL,
  fee TEXT NOT NULL,
  receipt TEXT NOT NULL,
  detail TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('issued', 'bundled', 'accepted', 'rejected')),
  alone INTEGER NOT NULL DEFAULT 0,
  bundle_id INTEGER,
  error TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS receipts_status ON receipts (status, nonce);
CREATE INDEX IF NOT EXISTS receipts_hash ON receipts (hash);
CREATE TABLE IF NOT EXISTS bundles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('signed', 'acknowledged')),
  created_at INTEGER NOT NULL,
  acknowledged_at INTEGER
);
CREATE TABLE IF NOT EXISTS settled (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
);
`;

// Receipts and bundles are stored as JSON with bigints written "123n".
const toJson = (x: Receipt | SignedBundle | SignedTicketBundle) => JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
const fromJson = <T>(s: string): T => JSON.parse(s, (_k, v) => (typeof v === "string" && /^-?[0-9]+n$/.test(v) ? BigInt(v.slice(0, -1)) : v));
const hex = (x: bigint) => `0x${x.toString(16).padStart(64, "0")}`;

export class Outbox {
  readonly db: Database.Database;

  /**
   * `hash` is the sequencer's id of a receipt (core/receipt.ts receiptHash with the instance's K) or,
   * given a win probability, of a ticket (core/ticket.ts ticketHash).
   */
  constructor(file: string, private readonly hash: (r: Receipt, winProb: bigint | null) => bigint) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.exec(SCHEMA);
    // Outboxes from before tickets gain the column (NULL: an exact receipt).
    const columns = (this.db.prepare("PRAGMA table_info(receipts)").all() as { name: string }[]).map((c) => c.name);
    if (!columns.includes("win_prob")) this.db.exec("ALTER TABLE receipts ADD COLUMN win_prob TEXT");
  }

  /** The next nonce to issue: after the last one written here, and never below `floor` (the sequencer's next nonce). */
  nextNonce(floor: bigint): bigint {
    const r = this.db.prepare("SELECT MAX(nonce) AS n FROM receipts WHERE status != 'rejected'").get() as { n: number | null };
    const mine = r.n === null ? 0n : BigInt(r.n) + 1n;
    return mine > floor ? mine : floor;
  }

  /**
   * Writes a receipt under the next nonce (at least `floor`), or a ticket when `ticket` gives its win
   * probability and expected cost; returns it with its id. Durable when this returns.
   */
  issue(r: Omit<Receipt, "nonce">, model: number, detail: unknown, floor: bigint, ticket?: { winProb: bigint; cost: bigint }): OutboxReceipt {
    return this.db.transaction(() => {
      const receipt: Receipt = { ...r, nonce: this.nextNonce(floor) };
      const id = hex(this.hash(receipt, ticket?.winProb ?? null));
      this.db
        .prepare("INSERT INTO receipts (id, hash, nonce, model, fee, win_prob, receipt, detail, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'issued', ?)")
        .run(id, id, Number(receipt.nonce), model, (ticket?.cost ?? receipt.fee).toString(), ticket?.winProb.toString() ?? null, toJson(receipt), JSON.stringify(detail), Date.now());
      return this.receipt(id)!;
    })();
  }

  receipt(idOrHash: string): OutboxReceipt | undefined {
    const row = this.db.prepare("SELECT * FROM receipts WHERE id = ? OR hash = ? ORDER BY status = 'rejected' LIMIT 1").get(idOrHash, idOrHash) as Record<string, unknown> | undefined;
    return row && this.row(row);
  }

  /** Receipts not yet in a bundle, in nonce order. */
  issued(): OutboxReceipt[] {
    return (this.db.prepare("SELECT * FROM receipts WHERE status = 'issued' ORDER BY nonce").all() as Record<string, unknown>[]).map((r) => this.row(r));
  }

  /** The first receipt not yet in a bundle and how many wait (a cheap look: issued() reads them all). */
  issuedHead(): { first: OutboxReceipt; count: number } | undefined {
    const row = this.db.prepare("SELECT * FROM receipts WHERE status = 'issued' ORDER BY nonce LIMIT 1").get() as Record<string, unknown> | undefined;
    if (!row) return undefined;
    const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM receipts WHERE status = 'issued'").get() as { n: number };
    return { first: this.row(row), count: n };
  }

  /** The acknowledged ticket with the highest nonce not yet settled: the last of the newest ticket bundle the sequencer holds. */
  newestAcknowledgedTicket(): OutboxReceipt | undefined {
    const row = this.db.prepare("SELECT * FROM receipts WHERE status = 'accepted' AND win_prob IS NOT NULL AND id NOT IN (SELECT id FROM settled) ORDER BY nonce DESC LIMIT 1").get() as Record<string, unknown> | undefined;
    return row && this.row(row);
  }

  /** The bundle posted and not yet acknowledged, if any (at most one). */
  inFlight(): OutboxBundle | undefined {
    const row = this.db.prepare("SELECT * FROM bundles WHERE status = 'signed' ORDER BY id LIMIT 1").get() as Record<string, unknown> | undefined;
    if (!row) return undefined;
    const ids = (this.db.prepare("SELECT id FROM receipts WHERE bundle_id = ? ORDER BY nonce").all(row.id) as { id: string }[]).map((r) => r.id);
    return { id: Number(row.id), bundle: fromJson(String(row.json)), receiptIds: ids, createdAt: Number(row.created_at) };
  }

  /** Writes a signed bundle of issued receipts or tickets (given by id, in nonce order). */
  addBundle(bundle: SignedBundle | SignedTicketBundle, receiptIds: string[]): OutboxBundle {
    return this.db.transaction(() => {
      const r = this.db.prepare("INSERT INTO bundles (json, status, created_at) VALUES (?, 'signed', ?)").run(toJson(bundle), Date.now());
      const id = Number(r.lastInsertRowid);
      const mark = this.db.prepare("UPDATE receipts SET status = 'bundled', bundle_id = ? WHERE id = ? AND status = 'issued'");
      for (const rid of receiptIds) if (mark.run(id, rid).changes !== 1) throw new Error(`receipt ${rid} is not waiting for a bundle`);
      return this.inFlight()!;
    })();
  }

  /** Marks a bundle acknowledged; returns the fees its receipts spend. */
  acknowledge(bundleId: number): bigint {
    return this.db.transaction(() => {
      this.db.prepare("UPDATE bundles SET status = 'acknowledged', acknowledged_at = ? WHERE id = ?").run(Date.now(), bundleId);
      this.db.prepare("UPDATE receipts SET status = 'accepted' WHERE bundle_id = ?").run(bundleId);
      const rows = this.db.prepare("SELECT fee FROM receipts WHERE bundle_id = ?").all(bundleId) as { fee: string }[];
      return rows.reduce((s, r) => s + BigInt(r.fee), 0n);
    })();
  }

  /** The sequencer refused these receipts together: each goes back to wait for a bundle of its own. */
  split(bundleId: number): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE receipts SET status = 'issued', alone = 1, bundle_id = NULL WHERE bundle_id = ?").run(bundleId);
      this.db.prepare("DELETE FROM bundles WHERE id = ?").run(bundleId);
    })();
  }

  /** The sequencer can never take this receipt: it is rejected, and the issued receipts after it move down one nonce. */
  reject(bundleId: number, error: string): OutboxReceipt[] {
    return this.db.transaction(() => {
      const rows = this.db.prepare("SELECT * FROM receipts WHERE bundle_id = ?").all(bundleId) as Record<string, unknown>[];
      if (rows.length !== 1) throw new Error(`bundle ${bundleId} holds ${rows.length} receipts; only a single receipt is rejected (split the bundle first)`);
      const rejected = this.row(rows[0]);
      this.db.prepare("UPDATE receipts SET status = 'rejected', error = ?, bundle_id = NULL WHERE id = ?").run(error, rejected.id);
      this.db.prepare("DELETE FROM bundles WHERE id = ?").run(bundleId);
      const moved = this.issued().filter((r) => r.receipt.nonce > rejected.receipt.nonce);
      const update = this.db.prepare("UPDATE receipts SET nonce = ?, hash = ?, receipt = ? WHERE id = ?");
      for (const r of moved) {
        const receipt = { ...r.receipt, nonce: r.receipt.nonce - 1n };
        update.run(Number(receipt.nonce), hex(this.hash(receipt, r.winProb)), toJson(receipt), r.id);
      }
      return moved.map((r) => this.receipt(r.id)!);
    })();
  }

  /** Acknowledged receipts whose fate the sequencer has not yet told (not finalized, not rejected), oldest nonce first. */
  unsettled(limit: number): OutboxReceipt[] {
    return (this.db.prepare("SELECT * FROM receipts WHERE status = 'accepted' AND id NOT IN (SELECT id FROM settled) ORDER BY nonce LIMIT ?").all(limit) as Record<string, unknown>[]).map((r) => this.row(r));
  }

  /** The sequencer finalized these receipts: nothing more to follow. */
  settle(ids: string[]): void {
    const put = this.db.prepare("INSERT OR IGNORE INTO settled (id, at) VALUES (?, ?)");
    this.db.transaction(() => ids.forEach((id) => put.run(id, Date.now())))();
  }

  /**
   * The sequencer rejected an acknowledged bundle at sealing (docs/PROTOCOL.md §8: a withdrawal on L1 left the
   * provider unable to pay, a key changed) and, with it, every later bundle of this provider; their nonces are
   * free again. The rejected bundle's receipts become `rejected` with the sequencer's reason. Every receipt after
   * them (acknowledged, in flight or not yet bundled) goes back to wait for a bundle, renumbered from the rejected
   * bundle's first nonce, keeping its id. Returns the rejected receipts and the fees that left "accepted".
   */
  rejectAcknowledged(bundleId: number, error: string): { rejected: OutboxReceipt[]; unacknowledgedFees: bigint } {
    return this.db.transaction(() => {
      const rejected = (this.db.prepare("SELECT * FROM receipts WHERE bundle_id = ? ORDER BY nonce").all(bundleId) as Record<string, unknown>[]).map((r) => this.row(r));
      if (rejected.length === 0) throw new Error(`bundle ${bundleId} holds no receipts`);
      const first = rejected[0].receipt.nonce;
      const later = (this.db.prepare("SELECT * FROM receipts WHERE status IN ('accepted', 'bundled', 'issued') AND nonce > ? ORDER BY nonce").all(Number(rejected.at(-1)!.receipt.nonce)) as Record<string, unknown>[]).map((r) => this.row(r)).filter((r) => r.bundle !== bundleId);
      const fees = [...rejected, ...later].filter((r) => r.status === "accepted").reduce((a, r) => a + r.cost, 0n);
      this.db.prepare("UPDATE receipts SET status = 'rejected', error = ?, bundle_id = NULL WHERE bundle_id = ?").run(error, bundleId);
      const bundles = new Set([bundleId, ...later.map((r) => r.bundle).filter((b): b is number => b !== null)]);
      const update = this.db.prepare("UPDATE receipts SET status = 'issued', bundle_id = NULL, nonce = ?, hash = ?, receipt = ? WHERE id = ?");
      later.forEach((r, i) => {
        const receipt = { ...r.receipt, nonce: first + BigInt(i) };
        update.run(Number(receipt.nonce), hex(this.hash(receipt, r.winProb)), toJson(receipt), r.id);
      });
      for (const b of bundles) this.db.prepare("DELETE FROM bundles WHERE id = ?").run(b);
      return { rejected: rejected.map((r) => this.receipt(r.id)!), unacknowledgedFees: fees };
    })();
  }

  /** Fees of receipts the sequencer has not acknowledged yet (they will be spent from the provider's balance). */
  unsettledFees(): bigint {
    const rows = this.db.prepare("SELECT fee FROM receipts WHERE status IN ('issued', 'bundled')").all() as { fee: string }[];
    return rows.reduce((s, r) => s + BigInt(r.fee), 0n);
  }

  counts(): Record<OutboxReceiptStatus, number> {
    const out = { issued: 0, bundled: 0, accepted: 0, rejected: 0 };
    for (const r of this.db.prepare("SELECT status, COUNT(*) AS n FROM receipts GROUP BY status").all() as { status: OutboxReceiptStatus; n: number }[]) out[r.status] = r.n;
    return out;
  }

  close(): void {
    this.db.close();
  }

  private row(r: Record<string, unknown>): OutboxReceipt {
    return {
      id: String(r.id),
      hash: String(r.hash),
      receipt: fromJson<Receipt>(String(r.receipt)),
      winProb: r.win_prob === null || r.win_prob === undefined ? null : BigInt(String(r.win_prob)),
      cost: BigInt(String(r.fee)),
      model: Number(r.model),
      status: r.status as OutboxReceiptStatus,
      alone: Number(r.alone) === 1,
      bundle: r.bundle_id === null ? null : Number(r.bundle_id),
      error: (r.error as string | null) ?? null,
      detail: JSON.parse(String(r.detail)),
      createdAt: Number(r.created_at),
    };
  }
}
