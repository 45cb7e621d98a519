// The serving node's HTTP API, OpenAI-compatible:
//   POST /v1/completions        { model, prompt, max_tokens, temperature, top_p, stop, seed, stream }
//   POST /v1/chat/completions   { model, messages, ... }   (a plain "Role: text" template)
//   POST /v1/classifications    { model, input }           a ModelFactory classifier's label
//   GET  /v1/models             what can be served: the active adapters on this node's base
//   GET  /v1/receipts/{id}      the receipt an answer produced, followed to finalization
//   GET  /healthz, /metrics     alerts and receipt counts; Prometheus
// `model` is the adapter's ModelRegistry id. With stream: true the answer is
// server-sent events of OpenAI chunks, ending with `data: [DONE]`. Each answer
// carries `receipt` (in the last chunk when streamed): the signed receipt that
// pays for it, written to the node's outbox before the answer was sent.
import express, { type NextFunction, type Request, type Response } from "express";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { describeIssues } from "../sequencer/schemas.js";
import { ServeError } from "./adapter-cache.js";
import type { Completion, CompletionRequest, ServingEngine } from "./engine.js";
import type { ServingMetrics } from "./metrics.js";
import type { RegisteredModel } from "../models/registry.js";
import type { IssuedReceipt, ReceiptIssuer, Reservation } from "./receipts.js";
import type { Classification } from "./classifiers.js";
import { tokenize } from "../attribution/tokens/tokenize.js";

export const MAX_PROMPT_CHARS = 8000;
export const MAX_COMPLETION_TOKENS = 512;
export const SERVING_BODY_LIMIT = "64kb";

const modelId = z.union([z.string().regex(/^[1-9][0-9]{0,9}$/, "model is an adapter's ModelRegistry id, e.g. \"2\""), z.number().int().positive()], { error: "model is an adapter's ModelRegistry id, e.g. \"2\"" }).transform(Number);
const sampling = {
  model: modelId,
  max_tokens: z.number({ error: "max_tokens must be an integer" }).int("max_tokens must be an integer").min(1, "max_tokens is at least 1").max(MAX_COMPLETION_TOKENS, `max_tokens is at most ${MAX_COMPLETION_TOKENS}`).default(16),
  temperature: z.number({ error: "temperature must be a number" }).min(0, "temperature is at least 0").max(2, "temperature is at most 2").default(1),
  top_p: z.number({ error: "top_p must be a number" }).gt(0, "top_p must be above 0").max(1, "top_p is at most 1").default(1),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4, "at most 4 stop strings")]).optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  stream: z.boolean().default(false),
  n: z.literal(1, { error: "n: this server returns one choice per request" }).optional(),
  user: z.string().max(256).optional(),
  max_fee: z.string().regex(/^[0-9]{1,30}$/, "max_fee is a decimal string of OPEN base units").optional(),
};
const prompt = z.string({ error: "prompt must be a string" }).max(MAX_PROMPT_CHARS, `prompt is at most ${MAX_PROMPT_CHARS} characters`);
export const completionSchema = z.strictObject({ ...sampling, prompt: z.union([prompt, z.array(prompt).length(1, "one prompt per request")]).transform((p) => (Array.isArray(p) ? p[0] : p)) });
export const classificationSchema = z.strictObject({
  model: modelId,
  input: z.string({ error: "input must be a string" }).min(1, "input must not be empty").max(MAX_PROMPT_CHARS, `input is at most ${MAX_PROMPT_CHARS} characters`),
  user: z.string().max(256).optional(),
  max_fee: sampling.max_fee,
});
export const chatSchema = z.strictObject({
  ...sampling,
  messages: z
    .array(z.strictObject({ role: z.enum(["system", "user", "assistant"], { error: "role is system, user or assistant" }), content: z.string().max(MAX_PROMPT_CHARS), name: z.string().optional() }))
    .min(1, "messages needs at least one message"),
});

/**
 * The most a client lets its request cost, in OPEN base units: `max_fee` in the body, or the
 * `X-Max-Fee` header (for clients that cannot add body fields); the lower of the two when both.
 */
function maxFeeOf(req: Request, body?: string): bigint | undefined {
  const header = req.get("x-max-fee");
  if (header !== undefined && !/^[0-9]{1,30}$/.test(header)) throw new ServeError(400, "invalid_max_fee", "the X-Max-Fee header is a decimal number of OPEN base units");
  const caps = [body, header].filter((x): x is string => x !== undefined).map(BigInt);
  return caps.length ? caps.reduce((a, x) => (x < a ? x : a)) : undefined;
}

const ROLE = { system: "System", user: "User", assistant: "Assistant" } as const;

/** The chat template: one "Role: text" line per message, then "Assistant:"; the next "\nUser:" ends the answer. */
export function chatPrompt(messages: { role: keyof typeof ROLE; content: string }[]): { prompt: string; stop: string[] } {
  const prompt = messages.map((m) => `${ROLE[m.role]}: ${m.content.trim()}\n`).join("") + "Assistant:";
  return { prompt, stop: ["\nUser:", "\nSystem:"] };
}

export interface ServingDeps {
  engine: ServingEngine;
  metrics: ServingMetrics;
  /** The adapters this node can serve now (active, on its base). */
  servable(): Promise<RegisteredModel[]>;
  /** Receipts: every answer is paid (absent only in engine tests: answers are then free and unreceipted). */
  payments?: ReceiptIssuer;
  /** The registry entry of an active classifier, or a ServeError naming why not. */
  classifier(id: number): Promise<RegisteredModel>;
}

export function createServingApp(d: ServingDeps): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(express.json({ limit: SERVING_BODY_LIMIT }));

  const refuse = (res: Response, status: number, code: string, message: string, extra: object = {}) => {
    d.metrics.refused.inc({ code });
    res.status(status).json({ error: { code, message, type: status === 429 ? "rate_limit_error" : "invalid_request_error", ...extra } });
  };

  const serve = (kind: "text" | "chat") => async (req: Request, res: Response) => {
    const parsed = (kind === "text" ? completionSchema : chatSchema).safeParse(req.body);
    if (!parsed.success) {
      const issues = describeIssues(parsed.error);
      return refuse(res, 400, "invalid_body", issues.map((i) => `${i.field}: ${i.reason}`).join("; "), { issues });
    }
    const b = parsed.data;
    const chat = kind === "chat" ? chatPrompt((b as z.infer<typeof chatSchema>).messages) : undefined;
    const stop = [...(typeof b.stop === "string" ? [b.stop] : (b.stop ?? [])), ...(chat?.stop ?? [])];
    const id = `${kind === "text" ? "cmpl" : "chatcmpl"}-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const request: CompletionRequest = {
      model: b.model,
      prompt: chat ? chat.prompt : (b as z.infer<typeof completionSchema>).prompt,
      maxTokens: b.max_tokens,
      temperature: b.temperature,
      topP: b.top_p,
      seed: b.seed ?? Math.floor(Math.random() * 2 ** 31),
      stop,
    };
    const chunk = (delta: string, finish: string | null) =>
      kind === "text"
        ? { id, object: "text_completion", created, model: String(b.model), choices: [{ index: 0, text: delta, finish_reason: finish, logprobs: null }] }
        : { id, object: "chat.completion.chunk", created, model: String(b.model), choices: [{ index: 0, delta: finish ? {} : { content: delta }, finish_reason: finish }] };
    // A client that goes away stops the decoding at the next step (its slot is freed), and the answer is
    // charged only for what it was sent: nothing for a plain request, the streamed text for a stream.
    const gone = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) gone.abort();
    });
    request.signal = gone.signal;
    let streaming = false;
    if (b.stream) {
      request.onText = (delta) => {
        if (!streaming) {
          streaming = true;
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
          if (kind === "chat") res.write(`data: ${JSON.stringify({ ...chunk("", null), choices: [{ index: 0, delta: { role: "assistant" }, finish_reason: null }] })}\n\n`);
        }
        res.write(`data: ${JSON.stringify(chunk(delta, null))}\n\n`);
      };
    }
    // The deposit check: the largest fee this answer can cost is reserved before any token is generated.
    let reservation: Reservation | undefined;
    let clientMaxFee: bigint | undefined;
    try {
      clientMaxFee = maxFeeOf(req, b.max_fee);
    } catch (e) {
      return refuse(res, 400, (e as ServeError).code, (e as Error).message);
    }
    if (d.payments) request.admit = (entry, promptTokens) => void (reservation = d.payments!.reserve(entry, promptTokens + b.max_tokens, clientMaxFee));
    let c: Completion;
    try {
      c = await d.engine.complete(request);
    } catch (e) {
      if (reservation !== undefined) d.payments!.release(reservation);
      if (!(e instanceof ServeError)) throw e;
      if (e.status === 429) res.set("Retry-After", "1");
      if (streaming) return void res.end(`data: ${JSON.stringify({ error: { code: e.code, message: e.message } })}\n\n`);
      return refuse(res, e.status, e.code, e.message);
    }
    if (c.clientClosed && c.tokens === 0) {
      if (reservation !== undefined) d.payments!.release(reservation); // nothing was delivered: nothing is paid
      d.metrics.completions.inc({ finish_reason: "client_closed" });
      return;
    }
    d.metrics.completions.inc({ finish_reason: c.clientClosed ? "client_closed" : c.finishReason });
    d.metrics.tokens.inc(c.tokens);
    const usage = { prompt_tokens: c.promptTokens, completion_tokens: c.tokens, total_tokens: c.promptTokens + c.tokens };
    const timing = { time_to_first_token_ms: Math.round(c.timeToFirstTokenMs), total_ms: Math.round(c.totalMs), adapter_load_ms: Math.round(c.loadMs) };
    // The receipt is written before the answer leaves: an answer sent is an answer paid.
    let receipt: (IssuedReceipt & { url: string }) | undefined;
    if (d.payments) {
      const t0 = performance.now();
      try {
        const { scores, detail, declared } = await d.payments.attributeAnswer(c.model, request.prompt, c.text);
        const r = d.payments.issue(reservation!, c.model, request.prompt, c.text, usage.total_tokens, scores, { attribution: detail, timing }, declared);
        receipt = { ...r, url: `/v1/receipts/${r.id}` };
      } catch (e) {
        d.payments.release(reservation!);
        const message = `the answer could not be attributed and paid, so it is withheld: ${(e as Error).message}`;
        if (streaming) return void res.end(`data: ${JSON.stringify({ error: { code: "attribution_failed", message } })}\n\n`);
        return refuse(res, 503, "attribution_failed", message);
      }
      d.metrics.receipts.inc();
      d.metrics.attributionSeconds.observe((performance.now() - t0) / 1000);
      if (d.payments.cfg.crashAt === "answered") res.on("finish", () => process.kill(process.pid, "SIGKILL"));
    }
    if (c.clientClosed) return; // the receipt pays for what was streamed; there is no one left to tell
    if (b.stream) {
      if (!streaming) res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(`data: ${JSON.stringify({ ...chunk("", c.finishReason), usage, receipt })}\n\n`);
      res.end("data: [DONE]\n\n");
      return;
    }
    const choice = kind === "text" ? { index: 0, text: c.text, finish_reason: c.finishReason, logprobs: null } : { index: 0, message: { role: "assistant", content: c.text.trim() }, finish_reason: c.finishReason };
    res.json({ id, object: kind === "text" ? "text_completion" : "chat.completion", created, model: String(b.model), choices: [choice], usage, timing, receipt });
  };

  // A classifier's answer: its label and probabilities, attributed by TracIn-CP and paid like a completion. Tokens
  // are the input's words and punctuation marks (the classifier's features).
  app.post("/v1/classifications", async (req: Request, res: Response) => {
    const parsed = classificationSchema.safeParse(req.body);
    if (!parsed.success) {
      const issues = describeIssues(parsed.error);
      return refuse(res, 400, "invalid_body", issues.map((i) => `${i.field}: ${i.reason}`).join("; "), { issues });
    }
    if (!d.payments) return refuse(res, 503, "not_configured", "this node has no provider account: classifiers are served only with payments");
    const { model, input } = parsed.data;
    const t0 = performance.now();
    let entry: RegisteredModel, reservation: Reservation;
    const tokens = tokenize(input).length;
    if (tokens === 0) return refuse(res, 400, "invalid_body", "input: the input holds no words or punctuation to classify", { issues: [{ field: "input", reason: "holds no words or punctuation" }] });
    try {
      entry = await d.classifier(model);
      reservation = d.payments.reserve(entry, tokens, maxFeeOf(req, parsed.data.max_fee));
    } catch (e) {
      if (!(e instanceof ServeError)) throw e;
      return refuse(res, e.status, e.code, e.message);
    }
    let out: Classification, receipt: IssuedReceipt;
    try {
      out = await d.payments.classify(entry, input);
      const timing = { total_ms: Math.round(performance.now() - t0) };
      const declared = out.contributions.map((c) => ({ contributor: c.contributor, contribution: c.contributionId, datanet: c.datanetId, weight: c.influence }));
      receipt = d.payments.issue(reservation, entry, input, out.label, tokens, new Map(out.contributors), { classification: { contributions: out.contributions }, timing }, declared);
    } catch (e) {
      d.payments.release(reservation);
      return refuse(res, 503, "classification_failed", `the classifier could not be served and paid: ${(e as Error).message}`);
    }
    d.metrics.receipts.inc();
    res.json({
      id: `clf-${randomUUID()}`, object: "classification", created: Math.floor(Date.now() / 1000), model: String(model),
      label: out.label, probabilities: out.probabilities, usage: { prompt_tokens: tokens, total_tokens: tokens },
      receipt: { ...receipt, url: `/v1/receipts/${receipt.id}` },
    });
  });
  app.post("/v1/completions", serve("text"));
  app.post("/v1/chat/completions", serve("chat"));
  app.get("/v1/models", async (_req, res) => {
    const list = await d.servable();
    // A paying node lists the price it charges (pinned at admission, serving/pricing.ts), and a raise its operator has not accepted.
    const prices = d.payments?.prices;
    const charged = (m: RegisteredModel) => {
      const pinned = prices?.pinned(m.id);
      return pinned !== undefined && pinned < m.pricePer1kTokens ? pinned : m.pricePer1kTokens;
    };
    res.json({ object: "list", data: list.map((m) => ({ id: String(m.id), object: "model", kind: m.kind, created: m.registeredAt, owned_by: m.owner, parent: String(m.parent), price_per_1k_tokens: charged(m).toString(), ...(charged(m) !== m.pricePer1kTokens ? { registered_price_per_1k_tokens: m.pricePer1kTokens.toString() } : {}), datanets: m.datanets })) });
  });
  app.get("/v1/receipts/:id", async (req, res) => {
    const id = String(req.params.id);
    if (!/^0x[0-9a-fA-F]{64}$/.test(id)) return refuse(res, 400, "invalid_id", "a receipt id is 0x and 64 hex digits (its Poseidon hash)");
    const view = d.payments && (await d.payments.view(id));
    if (!view) return refuse(res, 404, "not_found", `no receipt ${id} on this node`);
    res.json(view);
  });
  app.get("/healthz", (_req, res) => {
    const p = d.payments;
    const alerts = p ? [...p.alerts].map(([problem, at]) => ({ problem, lastSeen: new Date(at).toISOString() })) : [];
    res.json({ ok: alerts.length === 0, alerts, payments: p ? { provider: p.cfg.providerAddress, available: p.available()?.toString() ?? null, receipts: p.outbox.counts() } : null, queue: d.engine.depth });
  });
  app.get("/metrics", async (_req, res) => {
    const depth = d.engine.depth;
    for (const [stage, n] of Object.entries(depth)) d.metrics.queueDepth.set({ stage }, n);
    res.type(d.metrics.registry.contentType).send(await d.metrics.registry.metrics());
  });
  app.use((_req: Request, res: Response) => void res.status(404).json({ error: { code: "not_found", message: "no such route: POST /v1/completions, POST /v1/chat/completions, POST /v1/classifications, GET /v1/models, GET /v1/receipts/{id}, GET /healthz, GET /metrics" } }));
  app.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === "entity.too.large") return refuse(res, 413, "body_too_large", `request bodies are limited to ${SERVING_BODY_LIMIT}`);
    if (err.type === "entity.parse.failed") return refuse(res, 400, "malformed_json", `the body is not valid JSON: ${err.message}`);
    if (err.status && err.status < 500) return refuse(res, err.status, "bad_request", err.message);
    console.error(err);
    res.status(500).json({ error: { code: "internal", message: "internal error" } });
  });
  return app;
}
