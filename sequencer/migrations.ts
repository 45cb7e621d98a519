// The sequencer store's schema, as numbered migrations in both dialects. A
// store records every migration it has applied (schema_migrations) and applies
// the missing ones, in order, each in its own transaction, when it opens. Add a
// migration at the end; never edit one that has shipped.
//
// Version 1 is the schema from before migrations were numbered, written with
// IF NOT EXISTS so that a SQLite store of that time adopts it unchanged.

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "bundles, receipts, batches, the L1 queue, the explorer's events, receipt metadata and the ledger",
    sqlite: `
CREATE TABLE IF NOT EXISTS bundles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hash TEXT NOT NULL UNIQUE,
  provider_idx INTEGER NOT NULL,
  first_nonce TEXT NOT NULL,
  count INTEGER NOT NULL,
  total_fee TEXT NOT NULL,
  json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'batched', 'rejected')),
  batch INTEGER,
  error TEXT,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS bundles_received ON bundles (received_at);
CREATE UNIQUE INDEX IF NOT EXISTS bundles_provider_nonce ON bundles (provider_idx, first_nonce) WHERE status != 'rejected';
CREATE TABLE IF NOT EXISTS receipts (
  id TEXT PRIMARY KEY,
  bundle_id INTEGER NOT NULL REFERENCES bundles (id),
  position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
  number INTEGER PRIMARY KEY,
  status TEXT NOT NULL,
  first_op INTEGER NOT NULL,
  ops INTEGER NOT NULL,
  bundle_ids TEXT NOT NULL,
  new_root TEXT NOT NULL,
  body BLOB NOT NULL,
  proof TEXT,
  tx_hash TEXT,
  error TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_status ON batches (status, number);
CREATE TABLE IF NOT EXISTS l1_ops (queue_index INTEGER PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batch_failures (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  number INTEGER NOT NULL,
  bundle_ids TEXT NOT NULL,
  error TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batch_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  number INTEGER NOT NULL,
  status TEXT NOT NULL,
  at INTEGER NOT NULL,
  tx_hash TEXT,
  error TEXT
);
CREATE INDEX IF NOT EXISTS batch_events_number ON batch_events (number, id);
CREATE TABLE IF NOT EXISTS receipt_meta (receipt TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  batch INTEGER NOT NULL,
  address TEXT NOT NULL,
  kind TEXT NOT NULL,
  amount TEXT NOT NULL,
  receipt TEXT,
  model INTEGER,
  datanet INTEGER,
  contribution INTEGER,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_address ON ledger (address, batch);
CREATE INDEX IF NOT EXISTS ledger_batch ON ledger (batch);
`,
    // Times are milliseconds (BIGINT); amounts stay decimal text, as in SQLite, since
    // they reach 2^96 and the code reads them as bigint.
    postgres: `
CREATE TABLE bundles (
  id SERIAL PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  provider_idx INTEGER NOT NULL,
  first_nonce TEXT NOT NULL,
  count INTEGER NOT NULL,
  total_fee TEXT NOT NULL,
  json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'batched', 'rejected')),
  batch INTEGER,
  error TEXT,
  received_at BIGINT NOT NULL
);
CREATE INDEX bundles_received ON bundles (received_at);
CREATE INDEX bundles_pending ON bundles (id) WHERE status = 'accepted';
CREATE INDEX bundles_batch ON bundles (batch);
CREATE UNIQUE INDEX bundles_provider_nonce ON bundles (provider_idx, first_nonce) WHERE status != 'rejected';
CREATE TABLE receipts (
  id TEXT PRIMARY KEY,
  bundle_id INTEGER NOT NULL REFERENCES bundles (id),
  position INTEGER NOT NULL
);
CREATE INDEX receipts_bundle ON receipts (bundle_id, position);
CREATE TABLE batches (
  number INTEGER PRIMARY KEY,
  status TEXT NOT NULL,
  first_op INTEGER NOT NULL,
  ops INTEGER NOT NULL,
  bundle_ids TEXT NOT NULL,
  new_root TEXT NOT NULL,
  body BYTEA NOT NULL,
  proof TEXT,
  tx_hash TEXT,
  error TEXT,
  updated_at BIGINT NOT NULL
);
CREATE INDEX batches_status ON batches (status, number);
CREATE INDEX batches_tx ON batches (lower(tx_hash));
CREATE TABLE l1_ops (queue_index INTEGER PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE batch_failures (
  id SERIAL PRIMARY KEY,
  number INTEGER NOT NULL,
  bundle_ids TEXT NOT NULL,
  error TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE batch_events (
  id SERIAL PRIMARY KEY,
  number INTEGER NOT NULL,
  status TEXT NOT NULL,
  at BIGINT NOT NULL,
  tx_hash TEXT,
  error TEXT
);
CREATE INDEX batch_events_number ON batch_events (number, id);
CREATE TABLE receipt_meta (receipt TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE ledger (
  id SERIAL PRIMARY KEY,
  batch INTEGER NOT NULL,
  address TEXT NOT NULL,
  kind TEXT NOT NULL,
  amount TEXT NOT NULL,
  receipt TEXT,
  model INTEGER,
  datanet INTEGER,
  contribution INTEGER,
  at BIGINT NOT NULL
);
CREATE INDEX ledger_address ON ledger (address, batch);
CREATE INDEX ledger_batch ON ledger (batch);
`,
  },
  {
    version: 2,
    name: "the L1 block each queue operation was read from (reorg checks) and every proving attempt of a batch (the prover farm)",
    sqlite: `
ALTER TABLE l1_ops ADD COLUMN block_number INTEGER;
ALTER TABLE l1_ops ADD COLUMN block_hash TEXT;
CREATE TABLE proof_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  batch INTEGER NOT NULL,
  worker TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('proved', 'bad_proof', 'failed')),
  ms INTEGER,
  error TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX proof_attempts_batch ON proof_attempts (batch, id);
`,
    postgres: `
ALTER TABLE l1_ops ADD COLUMN block_number BIGINT;
ALTER TABLE l1_ops ADD COLUMN block_hash TEXT;
CREATE TABLE proof_attempts (
  id SERIAL PRIMARY KEY,
  batch INTEGER NOT NULL,
  worker TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('proved', 'bad_proof', 'failed')),
  ms BIGINT,
  error TEXT,
  at BIGINT NOT NULL
);
CREATE INDEX proof_attempts_batch ON proof_attempts (batch, id);
`,
  },
  {
    version: 3,
    name: "a prover's claim that the circuit refuses a batch, which the sequencer's own witness generation disproved (false_refusal)",
    // SQLite cannot alter a CHECK: the table is rebuilt, its rows kept.
    sqlite: `
CREATE TABLE proof_attempts_v3 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  batch INTEGER NOT NULL,
  worker TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('proved', 'bad_proof', 'failed', 'false_refusal')),
  ms INTEGER,
  error TEXT,
  at INTEGER NOT NULL
);
INSERT INTO proof_attempts_v3 (id, batch, worker, outcome, ms, error, at) SELECT id, batch, worker, outcome, ms, error, at FROM proof_attempts;
DROP TABLE proof_attempts;
ALTER TABLE proof_attempts_v3 RENAME TO proof_attempts;
CREATE INDEX proof_attempts_batch ON proof_attempts (batch, id);
`,
    postgres: `
ALTER TABLE proof_attempts DROP CONSTRAINT proof_attempts_outcome_check;
ALTER TABLE proof_attempts ADD CONSTRAINT proof_attempts_outcome_check CHECK (outcome IN ('proved', 'bad_proof', 'failed', 'false_refusal'));
`,
  },
  {
    version: 4,
    name: "which Groth16 prover (native or snarkjs) made each proof attempt's proof",
    sqlite: `ALTER TABLE proof_attempts ADD COLUMN prover TEXT CHECK (prover IN ('native', 'snarkjs'));`,
    postgres: `ALTER TABLE proof_attempts ADD COLUMN prover TEXT CHECK (prover IN ('native', 'snarkjs'));`,
  },
  {
    version: 5,
    name: "payment tickets (docs/PROTOCOL.md §16): ticket bundles, their tickets, and each batch's commits, beacon and winners",
    sqlite: `
CREATE TABLE ticket_bundles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hash TEXT NOT NULL UNIQUE,
  provider_idx INTEGER NOT NULL,
  first_nonce TEXT NOT NULL,
  count INTEGER NOT NULL,
  root_sum TEXT NOT NULL,
  json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'batched', 'rejected')),
  batch INTEGER,
  error TEXT,
  received_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX ticket_bundles_provider_nonce ON ticket_bundles (provider_idx, first_nonce) WHERE status != 'rejected';
CREATE TABLE tickets (
  id TEXT PRIMARY KEY,
  ticket_bundle_id INTEGER NOT NULL REFERENCES ticket_bundles (id),
  position INTEGER NOT NULL
);
ALTER TABLE batches ADD COLUMN tickets TEXT;
`,
    postgres: `
CREATE TABLE ticket_bundles (
  id SERIAL PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  provider_idx INTEGER NOT NULL,
  first_nonce TEXT NOT NULL,
  count INTEGER NOT NULL,
  root_sum TEXT NOT NULL,
  json TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'batched', 'rejected')),
  batch INTEGER,
  error TEXT,
  received_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ticket_bundles_provider_nonce ON ticket_bundles (provider_idx, first_nonce) WHERE status != 'rejected';
CREATE INDEX ticket_bundles_pending ON ticket_bundles (id) WHERE status = 'accepted';
CREATE TABLE tickets (
  id TEXT PRIMARY KEY,
  ticket_bundle_id INTEGER NOT NULL REFERENCES ticket_bundles (id),
  position INTEGER NOT NULL
);
CREATE INDEX tickets_bundle ON tickets (ticket_bundle_id, position);
ALTER TABLE batches ADD COLUMN tickets TEXT;
`,
  },
  {
    // A ticket bundle's JSON (megabytes) in the same row put it before status, batch, error and
    // received_at: SQLite walked its overflow pages on every read of those, ~11 MB a read at 4^7 tickets.
    version: 6,
    name: "ticket bundles' JSON in a table of its own, and SQLite's index of tickets by bundle",
    sqlite: `
CREATE TABLE ticket_bundle_json (
  ticket_bundle_id INTEGER PRIMARY KEY REFERENCES ticket_bundles (id),
  json TEXT NOT NULL
);
INSERT INTO ticket_bundle_json (ticket_bundle_id, json) SELECT id, json FROM ticket_bundles;
ALTER TABLE ticket_bundles DROP COLUMN json;
CREATE INDEX tickets_bundle ON tickets (ticket_bundle_id, position);
CREATE INDEX ticket_bundles_pending ON ticket_bundles (id) WHERE status = 'accepted';
`,
    postgres: `
CREATE TABLE ticket_bundle_json (
  ticket_bundle_id INTEGER PRIMARY KEY REFERENCES ticket_bundles (id),
  json TEXT NOT NULL
);
INSERT INTO ticket_bundle_json (ticket_bundle_id, json) SELECT id, json FROM ticket_bundles;
ALTER TABLE ticket_bundles DROP COLUMN json;
`,
  },
];

/** The table every store keeps of the migrations it applied (the same in both dialects). */
export const MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/** The migrations a store at `applied` versions still needs, in order; refuses a store newer than this code. */
export function pending(applied: number[]): Migration[] {
  const latest = MIGRATIONS[MIGRATIONS.length - 1].version;
  const newest = Math.max(0, ...applied);
  if (newest > latest) throw new Error(`the store's schema is at version ${newest}, newer than this sequencer knows (${latest}): run the newer sequencer, or restore a backup`);
  const have = new Set(applied);
  return MIGRATIONS.filter((m) => !have.has(m.version));
}
