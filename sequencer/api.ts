// The HTTP API (express 5, JSON, under /v1). docs: GET /v1/openapi.json.
import express, { type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import { leafFields } from "../core/account.js";
import { keyProblem } from "../core/crypto.js";
import type { Metrics } from "./metrics.js";
import { MAX_CONTENT_BYTES } from "../attribution/datanet/content.js";
import { datanetParsers, registerDatanetRoutes, type DatanetDeps } from "./datanets.js";
import { registerModelRoutes, type ModelDeps } from "./models.js";
import { openapi } from "./openapi.js";
import { receiptDetail, registerExplorerRoutes, type ExplorerDeps } from "./explorer.js";
import { receiptMetaSchema, type ReceiptMeta } from "./ledger.js";
import { serveWebApp } from "../web/serve.js";
import { bundleSchema, describeIssues, receiptSchema, ticketBundleSchema, toSignedBundle, toSignedTicketBundle } from "./schemas.js";
import { ApiError, type Sequencer } from "./sequencer.js";
import type { ProverBackend } from "../prover/groth16.js";
import { findNativeProver } from "../prover/native/build.js";

export const BODY_LIMIT = "64kb";
/** A ticket bundle holds up to 4^DT tickets, about 600 bytes of JSON each (16,384 at DT = 7: ~10 MB). */
export const TICKET_BODY_LIMIT = "16mb";

const hex = (x: bigint, bytes = 32) => `0x${x.toString(16).padStart(bytes * 2, "0")}`;

export function createApp(seq: Sequencer, metrics: Metrics, datanets?: DatanetDeps, models?: ModelDeps, explorer: ExplorerDeps = {}): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.use("/v1/datanets", ...datanetParsers());
  app.use("/v1/ticket-bundles", express.json({ limit: TICKET_BODY_LIMIT, strict: false }));
  app.use(express.json({ limit: BODY_LIMIT, strict: false }));
  // A body in another format would reach the schemas as "no body": say what the route takes instead.
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== "POST") return next();
    const type = req.get("content-type") ?? "(none)";
    const text = req.path.startsWith("/v1/datanets/") && req.path.endsWith("/contributions");
    if (req.is("application/json") || (text && req.is("text/plain"))) return next();
    refuse(res, 415, "unsupported_media_type", `this route takes Content-Type: application/json${text ? " or text/plain" : ""}, not ${type}`);
  });

  const refuse = (res: Response, status: number, code: string, message: string, extra: object = {}) => {
    metrics.rejected.inc({ reason: code });
    res.status(status).json({ error: { code, message, ...extra } });
  };

  const ingest = (schema: z.ZodType, toBundle: (body: never) => ReturnType<typeof toSignedBundle>) => async (req: Request, res: Response) => {
    const parsed = schema.safeParse(req.body);
    if (!parsed.success) {
      const issues = describeIssues(parsed.error);
      return refuse(res, 400, "invalid_body", issues.map((i) => `${i.field}: ${i.reason}`).join("; "), { issues });
    }
    try {
      const { created, bundle, receiptIds: ids } = await seq.accept(toBundle(parsed.data as never));
      // What the provider declares about its receipts (model, contributions) is kept beside them (a repeat fills what a crash lost).
      const meta = (parsed.data as { meta?: (ReceiptMeta | null)[] }).meta;
      if (meta) await seq.store.setReceiptMeta(ids, meta);
      // A repeat's receipts may have moved on (or to a newer bundle): read them; a new bundle's are as accepted.
      const views = created ? ids.map((id, i) => seq.receiptViewIn(bundle, id, i)) : ids.map((id) => seq.receiptView(id));
      res.status(created ? 202 : 200).json({ bundle: bundle.id, receipts: await Promise.all(views) });
      if (seq.opts.crashAt === "accepted") res.on("finish", () => process.kill(process.pid, "SIGKILL"));
    } catch (e) {
      if (e instanceof ApiError) {
        if (e.retryAfter !== undefined) res.set("Retry-After", String(e.retryAfter));
        return refuse(res, e.status, e.code, e.message);
      }
      throw e;
    }
  };

  const withMeta = bundleSchema(seq.params)
    .extend({ meta: z.array(receiptMetaSchema.nullable()).optional() })
    .refine((b) => !b.meta || b.meta.length === b.receipts.length, { path: ["meta"], message: "meta has one entry (or null) per receipt" });
  app.post("/v1/bundles", ingest(withMeta, (b: z.infer<typeof withMeta>) => toSignedBundle({ receipts: b.receipts, signature: b.signature })));
  app.post("/v1/receipts", ingest(receiptSchema(seq.params), (b: z.infer<ReturnType<typeof receiptSchema>>) => toSignedBundle({ receipts: [b.receipt], signature: b.signature })));

  // Payment tickets (PROTOCOL §16): many tickets under one signature; each ticket's id is its hash.
  if (seq.tickets.enabled) {
    const schema = ticketBundleSchema(seq.params, seq.tickets.shape.treeDepth);
    app.post("/v1/ticket-bundles", async (req, res) => {
      const parsed = schema.safeParse(req.body);
      if (!parsed.success) {
        const issues = describeIssues(parsed.error);
        return refuse(res, 400, "invalid_body", issues.map((i) => `${i.field}: ${i.reason}`).join("; "), { issues });
      }
      try {
        const { created, bundle, ticketIds } = await seq.acceptTickets(toSignedTicketBundle(parsed.data));
        const views = await seq.tickets.viewsIn(bundle, ticketIds.map((id, position) => ({ id, position })));
        res.status(created ? 202 : 200).json({ ticketBundle: bundle.id, rootSum: bundle.rootSum.toString(), tickets: views });
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        if (e.retryAfter !== undefined) res.set("Retry-After", String(e.retryAfter));
        return refuse(res, e.status, e.code, e.message);
      }
    });
  }

  if (seq.tickets.enabled) {
    app.get("/v1/explorer/tickets", async (req, res) => {
      const limit = Number(req.query.limit ?? 20);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) return refuse(res, 400, "invalid_limit", "limit is an integer from 1 to 100");
      const before = req.query.before === undefined ? undefined : Number(req.query.before);
      if (before !== undefined && (!Number.isInteger(before) || before < 1)) return refuse(res, 400, "invalid_before", "before is a ticket bundle id: a positive integer");
      res.json(await seq.tickets.overview(limit, before));
    });
    app.get("/v1/accounts/:address/tickets", async (req, res) => {
      const a = String(req.params.address);
      if (!/^0x[0-9a-fA-F]{40}$/.test(a)) return refuse(res, 400, "invalid_address", "an address is 0x and 40 hex digits");
      res.json(await seq.tickets.earnings(BigInt(a)));
    });
  }

  app.get("/v1/receipts/:id", async (req, res) => {
    const id = String(req.params.id);
    if (!/^0x[0-9a-fA-F]{64}$/.test(id)) return void res.status(400).json({ error: { code: "invalid_id", message: "a receipt id is 0x and 64 hex digits (its Poseidon hash)" } });
    const view = await seq.receiptView(id);
    if (!view) {
      const ticket = seq.tickets.enabled ? await seq.tickets.view(id) : undefined;
      if (ticket) return void res.json(ticket);
      return void res.status(404).json({ error: { code: "not_found", message: `no receipt or ticket ${id}` } });
    }
    res.json({ ...view, ...(await receiptDetail(seq, id)) });
  });

  app.get("/v1/accounts/:ref", async (req, res) => {
    const ref = String(req.params.ref);
    const s = seq.finalized;
    let index: number | undefined;
    if (/^[0-9]{1,10}$/.test(ref)) index = Number(ref);
    else if (/^0x[0-9a-fA-F]{40}$/.test(ref)) index = s.indexOf(BigInt(ref));
    else return void res.status(400).json({ error: { code: "invalid_account", message: "an account is a leaf index or a 0x 20-byte address" } });
    if (index === undefined || index >= s.tree.capacity || s.account(index).address === 0n) {
      return void res.status(404).json({ error: { code: "not_found", message: `no account ${ref} at the latest finalized root` } });
    }
    const a = s.account(index);
    const [address, balance, ax, ay, nonce] = leafFields(a);
    res.json({
      index,
      address: hex(address, 20),
      balance: balance.toString(),
      nonce: nonce.toString(),
      nextNonce: seq.nextNonce(index).toString(),
      // What bundles accepted now may still spend in fees (the check /v1/bundles makes).
      available: seq.available(index).toString(),
      // A key that cannot sign (small order, off the curve, outside the subgroup) is shown with its problem:
      // the deposit that set it was applied, but the sequencer refuses every bundle under it.
      publicKey: ax === 0n && ay === 0n ? null : { ax: ax.toString(), ay: ay.toString(), problem: (await keyProblem(a)) ?? null },
      root: hex(s.root),
      siblings: s.tree.siblings(index).map((level) => level.map((x) => hex(x))),
    });
  });

  app.get("/v1/batches/:n", async (req, res) => {
    if (!/^[1-9][0-9]{0,9}$/.test(String(req.params.n))) return void res.status(400).json({ error: { code: "invalid_batch", message: "a batch number is a decimal integer from 1, without sign, exponent or leading zeros" } });
    const b = await seq.store.batch(Number(req.params.n));
    if (!b) return void res.status(404).json({ error: { code: "not_found", message: `no batch ${req.params.n}` } });
    const oldRoot = b.number === 1 ? seq.genesisRoot : (await seq.store.batch(b.number - 1))!.newRoot;
    const receiptsOf = async (bundleIds: number[]) => (await Promise.all(bundleIds.map((id) => seq.store.receiptIds(id)))).flat();
    res.json({
      number: b.number,
      status: b.status,
      oldRoot: hex(oldRoot),
      newRoot: hex(b.newRoot),
      firstOp: b.firstOp,
      ops: b.ops,
      body: `0x${Buffer.from(b.body).toString("hex")}`,
      proof: b.proof ? JSON.parse(b.proof) : null,
      txHash: b.txHash,
      error: b.error,
      receipts: await receiptsOf(b.bundleIds),
      // Earlier contents of this batch number, taken apart after the circuit refused them.
      previousAttempts: await Promise.all((await seq.store.batchFailures(b.number)).map(async (f) => ({ error: f.error, receipts: await receiptsOf(f.bundleIds), at: new Date(f.at).toISOString() }))),
      // Each proof asked for: which worker answered, how (proved, bad_proof, failed), in how long.
      proofAttempts: (await seq.store.proofAttempts(b.number)).map((a) => ({ worker: a.worker, prover: a.prover ?? null, outcome: a.outcome, ms: a.ms, error: a.error, at: new Date(a.at).toISOString() })),
    });
  });

  // Which prover makes this service's proofs, and whether the native one is built (it falls back to snarkjs).
  const proverStatus = (backend: ProverBackend | undefined) => {
    if (!backend) return { backend: "farm" };
    const native = findNativeProver();
    return "missing" in native ? { backend, native: { built: false, why: native.missing } } : { backend, native: { built: true, field: native.field } };
  };
  app.get("/healthz", async (_req, res) => {
    const alerts = [...seq.alerts].map(([problem, at]) => ({ problem, lastSeen: new Date(at).toISOString() }));
    res.json({ ok: alerts.length === 0, alerts, finalizedRoot: hex(seq.finalized.root), sealedRoot: hex(seq.state.root), l1Queue: seq.l1Queue ?? null, prover: proverStatus(seq.prover.backend), ...(await seq.store.counts()) });
  });
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get("/v1/openapi.json", (_req, res) => void res.json(openapi(seq.params)));
  registerExplorerRoutes(app, seq, explorer, refuse);
  registerDatanetRoutes(app, datanets, refuse);
  registerModelRoutes(app, models, refuse);
  serveWebApp(app);

  app.use((_req: Request, res: Response) => void res.status(404).json({ error: { code: "not_found", message: "no such route; see GET /v1/openapi.json" } }));
  app.use((err: Error & { type?: string; status?: number }, req: Request, res: Response, _next: NextFunction) => {
    if (err.type === "entity.too.large" && req.path.startsWith("/v1/datanets")) {
      return refuse(res, 413, "content_too_large", `a contribution is limited to ${MAX_CONTENT_BYTES} bytes (64 KiB) of canonical content`);
    }
    if (err.type === "entity.too.large") return refuse(res, 413, "body_too_large", `request bodies are limited to ${BODY_LIMIT}`);
    if (err.type === "entity.parse.failed") return refuse(res, 400, "malformed_json", `the body is not valid JSON: ${err.message}`);
    if (err.status && err.status < 500) return refuse(res, err.status, "bad_request", err.message);
    console.error(err);
    res.status(500).json({ error: { code: "internal", message: "internal error" } });
  });
  return app;
}
