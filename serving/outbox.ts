// WORK IN PROGRESS (branch openlora-receipts): the serving node's receipt outbox.
//
// Every served completion becomes a receipt that this node signs as a provider.
// A bundle is written here (synchronous SQLite, WAL, synchronous=FULL) before
// any answer it covers leaves the node, then posted to the sequencer; it is
// marked acknowledged only on the sequencer's 200/202. After a crash, the
// bundles still "signed" are posted again in order: the sequencer recognises a
// bundle it holds by its hash and answers with the first acknowledgement, so a
// served inference is paid exactly once.
//
// Nonces: the next nonce is max(the sequencer's nextNonce, 1 + the last nonce
// written here), so nothing signed before a crash is ever reused.
import Database from "better-sqlite3";
import type { SignedBundle } from "../core/receipt.js";
import { bundleToJson, toSignedBundle, bundleSchema } from "../sequencer/schemas.js";
import type { BatchParams } from "../core/params.js";

export type OutboxStatus = "signed" | "acknowledged" | "rejected";

export interface OutboxBundle {
  id: number;
  bundle: SignedBundle;
  receiptIds: string[];
  status: OutboxStatus;
  error: string | null;
  createdAt: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  json TEXT NOT NULL,
  receipt_ids TEXT NOT NULL,
  first_nonce TEXT NOT NULL,
  last_nonce TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('signed', 'acknowledged', 'rejected')),
  error TEXT,
  created_at INTEGER NOT NULL,
  acknowledged_at INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox (status, id);
CREATE TABLE IF NOT EXISTS receipts (
  id TEXT PRIMARY KEY,
  bundle_id INTEGER NOT NULL REFERENCES outbox (id),
  model INTEGER NOT NULL,
  fee TEXT NOT NULL
);
`;

export class Outbox {
  readonly db: Database.Database;

  constructor(file: string, private readonly params: BatchParams) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.exec(SCHEMA);
  }

  /** Writes a signed bundle and its receipts in one transaction; returns its row id. */
  add(bundle: SignedBundle, receipts: { id: string; model: number; fee: bigint }[]): number {
    const nonces = bundle.receipts.map((r) => r.nonce);
    const tx = this.db.transaction(() => {
      const r = this.db
        .prepare("INSERT INTO outbox (json, receipt_ids, first_nonce, last_nonce, status, created_at) VALUES (?, ?, ?, ?, 'signed', ?)")
        .run(JSON.stringify(bundleToJson(bundle)), JSON.stringify(receipts.map((x) => x.id)), nonces[0].toString(), nonces[nonces.length - 1].toString(), Date.now());
      const id = Number(r.lastInsertRowid);
      const ins = this.db.prepare("INSERT INTO receipts (id, bundle_id, model, fee) VALUES (?, ?, ?, ?)");
      for (const x of receipts) ins.run(x.id, id, x.model, x.fee.toString());
      return id;
    });
    return tx();
  }

  /** The bundles not yet acknowledged, oldest first (re-sent after a crash). */
  unacknowledged(): OutboxBundle[] {
    return (this.db.prepare("SELECT * FROM outbox WHERE status = 'signed' ORDER BY id").all() as Record<string, unknown>[]).map((r) => this.row(r));
  }

  acknowledge(id: number): void {
    this.db.prepare("UPDATE outbox SET status = 'acknowledged', acknowledged_at = ? WHERE id = ?").run(Date.now(), id);
  }

  reject(id: number, error: string): void {
    this.db.prepare("UPDATE outbox SET status = 'rejected', error = ? WHERE id = ?").run(error, id);
  }

  /** 1 + the last nonce ever signed here (0n when none). */
  nextNonce(): bigint {
    const r = this.db.prepare("SELECT last_nonce FROM outbox ORDER BY id DESC LIMIT 1").get() as { last_nonce: string } | undefined;
    return r ? BigInt(r.last_nonce) + 1n : 0n;
  }

  /** Fees of receipts signed but not yet known to be paid from the balance (for the deposit check). */
  unsettledFees(): bigint {
    const rows = this.db.prepare("SELECT r.fee FROM receipts r JOIN outbox o ON o.id = r.bundle_id WHERE o.status = 'signed'").all() as { fee: string }[];
    return rows.reduce((s, r) => s + BigInt(r.fee), 0n);
  }

  receipt(id: string): { bundle: number; model: number; fee: bigint; status: OutboxStatus } | undefined {
    const r = this.db.prepare("SELECT r.bundle_id, r.model, r.fee, o.status FROM receipts r JOIN outbox o ON o.id = r.bundle_id WHERE r.id = ?").get(id) as { bundle_id: number; model: number; fee: string; status: OutboxStatus } | undefined;
    return r && { bundle: r.bundle_id, model: r.model, fee: BigInt(r.fee), status: r.status };
  }

  close(): void {
    this.db.close();
  }

  private row(r: Record<string, unknown>): OutboxBundle {
    const parsed = bundleSchema(this.params).parse(JSON.parse(String(r.json)));
    return { id: Number(r.id), bundle: toSignedBundle(parsed), receiptIds: JSON.parse(String(r.receipt_ids)), status: r.status as OutboxStatus, error: (r.error as string | null) ?? null, createdAt: Number(r.created_at) };
  }
}
