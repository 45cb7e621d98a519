// What the explorer pages read (web/public/pages/explorer-*.js), beside the
// core API: the batch list with each batch's status pipeline and times, a
// batch's public data decoded into readable rows, the overview's figures,
// the verification key and what a browser needs to check a proof against L1
// itself, and a server-sent event stream of batch and bundle changes (one
// stream per page, no polling).
import type { Express, Request, Response } from "express";
import { readFileSync } from "node:fs";
import { payout } from "../core/payout.js";
import { decodeBody } from "../core/publicData.js";
import { artifactPaths, readManifest } from "../artifacts/paths.js";
import type { Sequencer } from "./sequencer.js";
import type { BatchStatus, StoredBatch } from "./store.js";

const hex = (x: bigint, bytes = 32) => `0x${x.toString(16).padStart(bytes * 2, "0")}`;

export interface ExplorerDeps {
  /** A JSON-RPC URL browsers may use to read L1 (the verify button reads the calldata and the contract itself); never a URL with a secret in it. */
  publicRpcUrl?: string;
}

/**
 * A receipt as the explorer shows it: its fields, the fee split by the payout rule (protocol, owner, each
 * contributor, dust to the owner) and its timeline (accepted with its bundle, then its batch's statuses).
 */
export async function receiptDetail(seq: Sequencer, id: string) {
  const r = await seq.store.receipt(id.toLowerCase());
  if (!r) return undefined;
  const receipt = r.bundle.bundle.receipts[r.position];
  const split = payout(receipt.fee, receipt.entries.map((e) => e.score), seq.params);
  const pool = split.shares.reduce((a, s) => a + s, 0n);
  const owner = (receipt.fee * BigInt(seq.params.ownerBps)) / 10000n;
  const events = r.bundle.batch === null ? [] : await seq.store.batchEvents(r.bundle.batch);
  return {
    declared: await seq.store.receiptMeta(id.toLowerCase()),
    provider: { account: receipt.providerIdx, address: hex(seq.state.account(receipt.providerIdx).address, 20) },
    owner: hex(receipt.owner, 20),
    fee: receipt.fee.toString(),
    nonce: receipt.nonce.toString(),
    inputHash: hex(receipt.inputHash),
    outputHash: hex(receipt.outputHash),
    split: { protocol: split.protocol.toString(), owner: owner.toString(), contributors: pool.toString(), dust: (split.ownerTotal - owner).toString() },
    entries: receipt.entries.map((e, k) => ({ contributor: hex(e.contributor, 20), score: e.score.toString(), paid: split.shares[k].toString() })),
    timeline: [
      { status: "accepted", at: new Date(r.bundle.receivedAt).toISOString() },
      ...events.map((e) => ({ status: e.status === "sealed" ? "batched" : e.status, at: new Date(e.at).toISOString(), txHash: e.txHash, error: e.error })),
    ],
  };
}

/** The statuses a batch passes through, in order (failed may come at any point). */
export const PIPELINE: BatchStatus[] = ["sealed", "proving", "proved", "submitted", "finalized"];

export function registerExplorerRoutes(app: Express, seq: Sequencer, deps: ExplorerDeps, refuse: (res: Response, status: number, code: string, message: string) => void): void {
  const gas = new Map<string, bigint>(); // tx hash -> gas used (final once mined)
  const gasUsed = async (txHash: string | null): Promise<string | null> => {
    if (!txHash) return null;
    if (!gas.has(txHash)) {
      const r = await seq.rollup.runner!.provider!.getTransactionReceipt(txHash).catch(() => null);
      if (!r) return null;
      gas.set(txHash, r.gasUsed);
    }
    return gas.get(txHash)!.toString();
  };

  const summary = async (b: StoredBatch) => {
    const events = await seq.store.batchEvents(b.number);
    const at = (s: BatchStatus) => events.find((e) => e.status === s)?.at;
    const provingStarted = events.filter((e) => e.status === "proving").at(-1)?.at;
    const proved = at("proved");
    return {
      number: b.number,
      status: b.status,
      receipts: await seq.store.receiptCount(b.bundleIds),
      bundles: b.bundleIds.length,
      ops: b.ops,
      newRoot: hex(b.newRoot),
      txHash: b.txHash,
      gasUsed: await gasUsed(b.txHash),
      error: b.error,
      provingMs: provingStarted && proved && proved >= provingStarted ? proved - provingStarted : null,
      timeline: events.map((e) => ({ status: e.status, at: new Date(e.at).toISOString(), txHash: e.txHash, error: e.error })),
    };
  };

  app.get("/v1/batches", async (req: Request, res: Response) => {
    const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
    const before = req.query.before === undefined ? undefined : Number(req.query.before);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return refuse(res, 400, "invalid_limit", "limit is an integer from 1 to 100");
    if (before !== undefined && (!Number.isInteger(before) || before < 1)) return refuse(res, 400, "invalid_before", "before is a batch number (an integer from 1)");
    const batches = await seq.store.latestBatches(limit, before);
    res.json({ batches: await Promise.all(batches.map(summary)), latest: await seq.store.lastBatchNumber() });
  });

  // A batch's public data as readable rows: queue operations (deposits and withdrawals), bundles (provider, receipts,
  // fees) and balance changes per account, each with the account's address.
  app.get("/v1/batches/:n/decoded", async (req: Request, res: Response) => {
    const n = String(req.params.n);
    if (!/^[1-9][0-9]{0,9}$/.test(n)) return refuse(res, 400, "invalid_batch", "a batch number is a decimal integer from 1, without sign, exponent or leading zeros");
    const b = await seq.store.batch(Number(n));
    if (!b) return refuse(res, 404, "not_found", `no batch ${n}`);
    const body = decodeBody(b.body, seq.params);
    const address = (idx: number) => hex(seq.state.account(idx).address, 20);
    const ops = await seq.store.l1Ops(b.firstOp, b.ops);
    res.json({
      ...(await summary(b)),
      ops: ops.map((op, i) => ({
        queueIndex: b.firstOp + i, kind: op.kind, address: hex(op.address, 20),
        account: body.ops[i].accountIdx, amount: body.ops[i].amount.toString(),
      })),
      bundleRecords: body.bundles.filter((x) => x.count > 0).map((x, i) => ({ bundle: b.bundleIds[i] ?? null, provider: x.providerIdx, providerAddress: address(x.providerIdx), receipts: x.count, totalFee: x.totalFee.toString() })),
      credits: body.slots.filter((s) => s.delta > 0n).map((s) => ({ account: s.accountIdx, address: address(s.accountIdx), amount: s.delta.toString() })),
      newAccounts: body.newAddresses.filter((a) => a !== 0n).map((a) => hex(a, 20)),
    });
  });

  app.get("/v1/explorer/overview", async (_req: Request, res: Response) => {
    const latest = await Promise.all((await seq.store.latestBatches(10)).map(summary));
    const finalized = latest.filter((b) => b.status === "finalized");
    const receipts = finalized.reduce((s, b) => s + b.receipts, 0);
    const gasTotal = finalized.reduce((s, b) => s + (b.gasUsed ? Number(b.gasUsed) : 0), 0);
    const proving = latest.map((b) => b.provingMs).filter((x): x is number => x !== null).sort((a, b) => a - b);
    const since = Date.now() - 5 * 60_000;
    const recent = await seq.store.receiptsSince(since);
    const counts = await seq.store.counts();
    const manifest = readManifest(seq.opts.instance);
    res.json({
      latest,
      counts,
      receiptsPerSecond: Number((recent / 300).toFixed(3)),
      provingMsMedian: proving.length ? proving[Math.floor(proving.length / 2)] : null,
      gasPerReceipt: receipts ? Math.round(gasTotal / receipts) : null,
      queue: { bundlesPending: counts.bundles_pending ?? 0, l1OpsPending: (await seq.store.l1OpCount()) - seq.state.queueConsumed },
      trust: manifest?.insecure
        ? { secure: false, text: `Development setup: the proving key of instance ${seq.opts.instance} was made from a powers-of-tau file made on this machine. Whoever has that file can forge proofs. Fine for a local chain; never where value is at stake.` }
        : { secure: true, text: `The proving key of instance ${seq.opts.instance} comes from a ceremony's powers-of-tau${manifest?.ptau?.path ? ` (${manifest.ptau.path.split("/").at(-1)})` : ""}.` },
    });
  });

  // Earnings paid out per model and per datanet (contributors and owners, finalized batches, as providers declared them).
  app.get("/v1/explorer/totals", async (_req: Request, res: Response) => {
    const view = (rows: { key: number; amount: bigint; receipts: number }[]) => rows.map((r) => ({ id: r.key, amount: r.amount.toString(), receipts: r.receipts }));
    res.json({ byModel: view(await seq.store.ledgerTotals("model")), byDatanet: view(await seq.store.ledgerTotals("datanet")) });
  });

  // What a browser needs to check a batch's proof against L1 by itself.
  app.get("/v1/explorer/chain", async (_req: Request, res: Response) => {
    const network = await seq.rollup.runner!.provider!.getNetwork();
    res.json({ chainId: network.chainId.toString(), rollup: await seq.rollup.getAddress(), instance: seq.opts.instance, rpcUrl: deps.publicRpcUrl ?? null, params: seq.params });
  });
  app.get("/v1/verification-key", (_req: Request, res: Response) => {
    res.type("application/json").send(readFileSync(artifactPaths(seq.opts.instance).vkey));
  });

  // An address's earnings and withdrawals, from the ledger of finalized batches (indexed by address), and what L1 holds for it.
  app.get("/v1/accounts/:address/earnings", async (req: Request, res: Response) => {
    const address = String(req.params.address);
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) return refuse(res, 400, "invalid_address", "an address is 0x and 40 hex digits");
    const rows = await seq.store.ledgerOf(address);
    const earned = rows.filter((r) => r.kind === "contributor" || r.kind === "owner" || r.kind === "protocol");
    const history: { batch: number; at: string; amount: string; cumulative: string }[] = [];
    let total = 0n;
    for (const r of earned) {
      total += r.amount;
      const last = history.at(-1);
      if (last?.batch === r.batch) {
        last.amount = (BigInt(last.amount) + r.amount).toString();
        last.cumulative = total.toString();
      } else history.push({ batch: r.batch, at: new Date(r.at).toISOString(), amount: r.amount.toString(), cumulative: total.toString() });
    }
    const group = (key: (r: (typeof rows)[number]) => number | string | null) => {
      const m = new Map<string, { amount: bigint; receipts: Set<string> }>();
      for (const r of earned) {
        const k = String(key(r) ?? "undeclared");
        const t = m.get(k) ?? { amount: 0n, receipts: new Set<string>() };
        t.amount += r.amount;
        if (r.receipt) t.receipts.add(r.receipt);
        m.set(k, t);
      }
      return [...m].map(([k, t]) => ({ key: k, amount: t.amount.toString(), receipts: t.receipts.size })).sort((a, b) => (BigInt(b.amount) > BigInt(a.amount) ? 1 : -1));
    };
    // Withdrawal requests on L1 that no batch has consumed yet.
    const requested = (await seq.store.l1Ops(seq.finalized.queueConsumed, (await seq.store.l1OpCount()) - seq.finalized.queueConsumed))
      .map((op, i) => ({ op, queueIndex: seq.finalized.queueConsumed + i }))
      .filter(({ op }) => op.kind === "withdrawal" && hex(op.address, 20) === address.toLowerCase());
    const claimable = BigInt(await seq.rollup.claimable(address));
    res.json({
      address: address.toLowerCase(),
      total: total.toString(),
      history,
      byKind: Object.fromEntries(["contributor", "owner", "protocol"].map((k) => [k, earned.filter((r) => r.kind === k).reduce((s, r) => s + r.amount, 0n).toString()])),
      byModel: group((r) => r.model),
      byDatanet: group((r) => r.datanet),
      byContribution: group((r) => r.contribution),
      deposits: rows.filter((r) => r.kind === "deposit").map((r) => ({ batch: r.batch, amount: r.amount.toString(), at: new Date(r.at).toISOString() })),
      withdrawals: rows.filter((r) => r.kind === "withdrawal").map((r) => ({ batch: r.batch, amount: r.amount.toString(), at: new Date(r.at).toISOString() })),
      pendingWithdrawals: requested.map((x) => ({ queueIndex: x.queueIndex, account: x.op.account })),
      claimable: claimable.toString(),
    });
  });

  // Search: a batch number, a receipt id, an L1 transaction hash of a batch, or an address with an account.
  app.get("/v1/search", async (req: Request, res: Response) => {
    const q = String(req.query.q ?? "").trim();
    if (/^[1-9][0-9]{0,9}$/.test(q)) {
      if (!(await seq.store.batch(Number(q)))) return refuse(res, 404, "not_found", `no batch ${q} (the latest is ${await seq.store.lastBatchNumber()})`);
      return void res.json({ kind: "batch", number: Number(q) });
    }
    if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
      if (await seq.store.receipt(q.toLowerCase())) return void res.json({ kind: "receipt", id: q.toLowerCase() });
      if (seq.tickets.enabled && (await seq.store.ticket(q.toLowerCase()))) return void res.json({ kind: "receipt", id: q.toLowerCase() }); // a ticket's page is its receipt page
      const n = await seq.store.batchByTx(q.toLowerCase());
      if (n !== undefined) return void res.json({ kind: "batch", number: n });
      return refuse(res, 404, "not_found", `${q} is neither a receipt id nor the L1 transaction of a batch`);
    }
    if (/^0x[0-9a-fA-F]{40}$/.test(q)) {
      if (seq.finalized.indexOf(BigInt(q)) === undefined && seq.state.indexOf(BigInt(q)) === undefined) return refuse(res, 404, "not_found", `address ${q} has no account on the rollup`);
      return void res.json({ kind: "account", address: q.toLowerCase() });
    }
    refuse(res, 400, "invalid_query", "search for a batch number, a receipt id or transaction hash (0x and 64 hex digits) or an address (0x and 40 hex digits)");
  });

  // Server-sent events: "batch" { number, status, at } and "bundle" { id, count }, as they happen.
  app.get("/v1/events", (req: Request, res: Response) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.write(": poa-rollup events\n\n");
    const send = (type: string) => (e: object) => res.write(`event: ${type}\ndata: ${JSON.stringify(e)}\n\n`);
    const onBatch = send("batch"), onBundle = send("bundle");
    seq.store.on("batch", onBatch);
    seq.store.on("bundle", onBundle);
    const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
    req.on("close", () => {
      clearInterval(ping);
      seq.store.off("batch", onBatch);
      seq.store.off("bundle", onBundle);
    });
  });
}
