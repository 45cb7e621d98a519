// Payment for every answer: the serving node is a provider. It pays each
// inference's fee out of its own rollup balance (its L1 deposit), as every
// provider's receipts do (docs/PROTOCOL.md §3), and the payout rule splits the
// fee among the protocol, the model's registered owner and the contributors
// whose data shaped the answer.
//
// Per completion: a reservation of the largest fee it can cost is taken before
// decoding (the deposit check, 402 when the balance cannot cover it), the answer
// is attributed (receipt thread), the receipt is written to the outbox under the
// next nonce, and only then does the answer leave with the receipt id. A loop
// bundles written receipts, has the receipt thread sign them, and posts them to
// the sequencer one bundle at a time, in nonce order, retrying with backoff.
import { Worker } from "node:worker_threads";
import { receiptEntries, type ContributorScores } from "../attribution/receipts.js";
import { initCrypto } from "../core/crypto.js";
import { contentHash, creditedAddresses, receiptHash, type Receipt, type SignedBundle } from "../core/receipt.js";
import { ticketShape, type BatchParams } from "../core/params.js";
import { expectedValue, ticketExponent, ticketFor, ticketHash, WIN_PROB_DENOMINATOR, type SignedTicketBundle, type Ticket } from "../core/ticket.js";
import type { RegisteredModel } from "../models/registry.js";
import { bundleToJson, ticketBundleToJson } from "../sequencer/schemas.js";
import type { ReceiptMeta } from "../sequencer/ledger.js";
import { ServeError } from "./adapter-cache.js";
import type { Classification } from "./classifiers.js";
import { PricePolicy, type ServingPolicy } from "./pricing.js";
import { Outbox, type OutboxBundle, type OutboxReceipt } from "./outbox.js";
import type { ReceiptWorkerData, ReceiptWorkerReply, ReceiptWorkerRequest } from "./receipt-worker.js";

/** Fee of an answer: the model's registered price per 1,000 tokens × (prompt + completion tokens), rounded up. */
export function inferenceFee(pricePer1kTokens: bigint, tokens: number): bigint {
  return (pricePer1kTokens * BigInt(tokens) + 999n) / 1000n;
}

/** The receipt thread, seen from the main thread: requests answered by id. */
export class ReceiptThread {
  private readonly worker: Worker;
  private next = 1;
  private readonly waiting = new Map<number, { resolve(r: ReceiptWorkerReply & { ok: true }): void; reject(e: Error): void }>();

  constructor(data: ReceiptWorkerData) {
    this.worker = new Worker(new URL("./receipt-worker-entry.mjs", import.meta.url), { workerData: data });
    this.worker.on("message", (m: ReceiptWorkerReply) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.ok) w?.resolve(m);
      else w?.reject(new Error(m.error));
    });
    this.worker.on("error", (e) => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    });
    this.worker.unref();
  }

  request(r: DistributiveOmit<ReceiptWorkerRequest, "id">): Promise<ReceiptWorkerReply & { ok: true }> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...r, id });
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

export interface PaymentConfig {
  /** The sequencer's API: accounts and /v1/bundles. */
  sequencerApi: string;
  /** The provider's L1 address (its rollup account holds the deposit fees are paid from). */
  providerAddress: string;
  outboxFile: string;
  params: BatchParams;
  /** Wait this long for more receipts before posting a bundle that is not full (default 50 ms). */
  bundleWaitMs?: number;
  /** The same for a ticket bundle (default 500 ms). */
  ticketBundleWaitMs?: number;
  /** How often the provider's balance is read from the sequencer (default 2 s). */
  refreshMs?: number;
  /** What the node serves and at what price (serving/pricing.ts): the operator's allow-list and caps. */
  policy: ServingPolicy;
  /**
   * Payment tickets (docs/PROTOCOL.md §16), the default where the sequencer's instance has them: each
   * answer whose fee is below this face value (OPEN base units; default DEFAULT_TICKET_FACE) is paid by
   * a ticket of probability 2^-k with face fee·2^k in (face/2, face]; dearer answers by exact receipts.
   * 0: exact receipts only.
   */
  ticketFace?: bigint;
  /** Tests: kill -9 the process after answering ("answered": nothing posted) or after the sequencer's answer, before recording it ("posted"). */
  crashAt?: "answered" | "posted";
}

/** The longest a ticket waits for its bundle to go while the previous bundle waits for a batch. */
export const TICKET_HOLD_MS = 120_000;

/** 0.1 OPEN: the face value a ticket aims at (PROTOCOL §16.4: the pool's variance grows with it). */
export const DEFAULT_TICKET_FACE = 10n ** 17n;

export interface IssuedReceipt {
  id: string;
  nonce: string;
  /** What the answer costs: the receipt's fee, or the ticket's expected value (face × probability). */
  fee: string;
  contributors: { address: string; score: string }[];
  status: string;
  /** "receipt": settled exactly; "ticket": settled only if it wins, at face value (PROTOCOL §16). */
  kind: "receipt" | "ticket";
  /** A ticket's terms: its probability (winProb / 2^32) and face value. */
  ticket?: { winProb: string; probability: number; face: string };
}

/** A contribution behind a credited contributor, with its weight among that contributor's contributions. */
export type Declared = { contributor: string; contribution: number; datanet: number; weight: number };

/** Fees set aside for an answer being generated. */
export interface Reservation {
  fee: bigint;
  /** The price per 1,000 tokens the answer is charged at (the node's pinned price: serving/pricing.ts). */
  price: bigint;
  released: boolean;
}

interface ProviderAccount {
  index: number;
  available: bigint;
  nextNonce: bigint;
  /** Fees acknowledged by this node before the read began (see available()). */
  acknowledgedBefore: bigint;
}

export class ReceiptIssuer {
  readonly outbox: Outbox;
  readonly prices: PricePolicy;
  /** Operator alerts: problem → last seen (shown by /healthz). */
  readonly alerts = new Map<string, number>();
  private account?: ProviderAccount;
  private accountError = "the provider's account has not been read yet";
  private acknowledgedFees = 0n;
  private reserved = 0n;
  private closed = false;
  private drainUntil = 0;
  private wake?: () => void;
  private readonly loop: Promise<void>;
  private readonly timer: NodeJS.Timeout;
  /** The sequencer's answer, at most every 500 ms: does the newest acknowledged ticket bundle still wait for a batch? */
  private ticketWaiting?: { id: string; at: number; waiting: boolean };
  private holdingTickets = false;
  /**
   * Seconds of payment work by kind and step: `hash`, an answer's receipt or ticket hash (on the HTTP
   * thread, as it is written); `sign`, a bundle's signature (its sum tree for tickets; on the receipt
   * thread). The bench's share of CPU spent on tickets, and /metrics' openlora_payment_cpu_seconds_total.
   */
  readonly work = { receipt: { hash: 0, sign: 0 }, ticket: { hash: 0, sign: 0 } };

  constructor(readonly cfg: PaymentConfig, private readonly thread: ReceiptThread) {
    this.outbox = new Outbox(cfg.outboxFile, (r, winProb) => {
      const t0 = performance.now();
      const h = winProb === null ? receiptHash(r, cfg.params.entries) : ticketHash({ receipt: r, winProb }, cfg.params.entries);
      this.work[winProb === null ? "receipt" : "ticket"].hash += (performance.now() - t0) / 1000;
      return h;
    });
    this.prices = new PricePolicy(cfg.policy, this.outbox.db);
    this.timer = setInterval(() => void this.refresh(), cfg.refreshMs ?? 2000);
    this.timer.unref();
    this.loop = initCrypto().then(() => this.refresh()).then(() => this.run());
  }

  /** Reads the provider's account from the sequencer. */
  async refresh(): Promise<void> {
    const before = this.acknowledgedFees;
    try {
      const res = await fetch(`${this.cfg.sequencerApi}/v1/accounts/${this.cfg.providerAddress}`);
      const body = (await res.json()) as { index: number; available: string; nextNonce: string; error?: { message: string } };
      if (res.status === 404) {
        this.account = undefined;
        this.accountError = `the serving node's provider ${this.cfg.providerAddress} has no rollup account yet: deposit OPEN for it on L1 (poa deposit) to pay inference fees`;
        return;
      }
      if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
      this.account = { index: body.index, available: BigInt(body.available), nextNonce: BigInt(body.nextNonce), acknowledgedBefore: before };
    } catch (e) {
      // Keep the last reading: the sequencer is briefly unreachable.
      if (!this.account) this.accountError = `the sequencer ${this.cfg.sequencerApi} does not answer (${(e as Error).message}); the provider's balance is unknown`;
    }
  }

  /**
   * What fees may still be spent: the sequencer's available balance less what this node has
   * committed since that reading (acknowledged since, written and not yet acknowledged, reserved).
   */
  available(): bigint | undefined {
    const a = this.account;
    if (!a) return undefined;
    return a.available - (this.acknowledgedFees - a.acknowledgedBefore) - this.outbox.unsettledFees() - this.reserved;
  }

  /**
   * The deposit check: reserves the largest fee a request of up to `maxTokens` tokens can cost at the
   * node's price for the model, or refuses it: 403 for a model the operator does not serve, 402 for a
   * fee above the node's or the client's cap (`clientMaxFee`) or above the balance.
   */
  reserve(model: RegisteredModel, maxTokens: number, clientMaxFee?: bigint): Reservation {
    const price = this.prices.price(model);
    const fee = inferenceFee(price, maxTokens);
    this.prices.checkFee(fee, clientMaxFee);
    const available = this.available();
    if (available === undefined) throw new ServeError(402, "provider_balance_low", this.accountError);
    if (fee > available) {
      throw new ServeError(402, "provider_balance_low", `the serving node's provider balance cannot pay this answer: up to ${fee} OPEN base units (model ${model.id}: ${price} per 1,000 tokens × ${maxTokens} tokens), ${available > 0n ? available : 0n} available; the operator must deposit more on L1`);
    }
    this.reserved += fee;
    return { fee, price, released: false };
  }

  /** Gives a reservation back (once; later calls do nothing). */
  release(r: Reservation): void {
    if (r.released) return;
    r.released = true;
    this.reserved -= r.fee;
  }

  /** Attributes a language-model answer on the receipt thread: contributor scores, and what the receipt's page shows. */
  async attributeAnswer(model: RegisteredModel, prompt: string, output: string): Promise<{ scores: ContributorScores; detail: object; declared: Declared[] }> {
    const t0 = performance.now();
    const { attribution } = await this.thread.request({ type: "attribute", model: model.id, artifactHash: model.artifactHash, prompt, output });
    const a = attribution!;
    // Per contribution, the same mix as per contributor: half of its share of token bits, half of its share of gradient influence.
    const tokens = a.contributions.reduce((s, c) => s + c.tokens, 0), gradient = a.contributions.reduce((s, c) => s + c.gradient, 0);
    const declared = a.contributions.map((c) => ({ contributor: c.contributor, contribution: c.contributionId, datanet: c.datanetId, weight: (tokens > 0 ? (0.5 * c.tokens) / tokens : 0) + (gradient > 0 ? (0.5 * c.gradient) / gradient : 0) }));
    return { scores: new Map(a.contributors), detail: { contributions: a.contributions, spans: a.spans, ms: performance.now() - t0 }, declared };
  }

  /** Classifies on the receipt thread (the classifier reproduced and checked on first use), attributed by TracIn-CP. */
  async classify(model: RegisteredModel, input: string): Promise<Classification> {
    const { classification } = await this.thread.request({ type: "classify", model: { id: model.id, configHash: model.configHash, artifactHash: model.artifactHash, trainingSetRoot: model.trainingSetRoot }, input });
    return classification!;
  }

  /**
   * Writes the receipt of an answer (durable on return) and releases its reservation: `input` is what the
   * model read, `output` what it answered, `tokens` what the fee is charged on.
   */
  issue(reservation: Reservation, model: RegisteredModel, input: string, output: string, tokens: number, scores: ContributorScores, detail: object, declared: Declared[] = []): IssuedReceipt {
    try {
      const fee = inferenceFee(reservation.price, tokens);
      if (fee > reservation.fee) throw new Error(`the fee ${fee} exceeds its reservation ${reservation.fee}`);
      if (!this.account) throw new ServeError(503, "provider_unknown", this.accountError);
      const receipt: Omit<Receipt, "nonce"> = {
        providerIdx: this.account.index, owner: BigInt(model.owner), fee,
        inputHash: contentHash(input), outputHash: contentHash(output), entries: receiptEntries(scores, this.cfg.params),
      };
      // What the bundle declares to the sequencer about this receipt: the model, and the contributions behind each credited contributor.
      const credited = new Set(receipt.entries.map((e) => `0x${e.contributor.toString(16).padStart(40, "0")}`));
      const meta: ReceiptMeta = { model: model.id, contributions: declared.map((c) => ({ ...c, contributor: c.contributor.toLowerCase() })).filter((c) => credited.has(c.contributor) && c.weight > 0).slice(0, 256) };
      const ticket = this.ticketTerms(receipt.fee);
      const r = ticket
        ? this.outbox.issue({ ...receipt, fee: ticket.receipt.fee }, model.id, { tokens, ...detail, meta }, this.account.nextNonce, { winProb: ticket.winProb, cost: fee })
        : this.outbox.issue(receipt, model.id, { tokens, ...detail, meta }, this.account.nextNonce);
      if (this.cfg.crashAt !== "answered") this.wake?.();
      return issuedView(r);
    } finally {
      this.release(reservation);
    }
  }

  /** The ticket that pays a fee, or undefined where an exact receipt does (tickets off, or a fee at the face value). */
  private ticketTerms(fee: bigint): Ticket | undefined {
    const face = this.cfg.ticketFace ?? DEFAULT_TICKET_FACE;
    if (!ticketShape(this.cfg.params).enabled || face <= 0n || fee <= 0n) return undefined;
    const k = ticketExponent(fee, face);
    if (k === 0) return undefined;
    const t = ticketFor({ providerIdx: 0, owner: 0n, fee, nonce: 0n, inputHash: 0n, outputHash: 0n, entries: [] }, k);
    if (expectedValue(t).value !== fee) throw new Error(`ticket for fee ${fee} at 2^-${k} is worth ${expectedValue(t).value}`);
    return t;
  }

  /** Builds the attribution index of a model ahead of its first answer (on preload). */
  async prepare(model: RegisteredModel): Promise<void> {
    await this.thread.request({ type: "prepare", model: model.id, artifactHash: model.artifactHash });
  }

  /** The node's record of a receipt, with the sequencer's view once acknowledged. */
  async view(id: string): Promise<object | undefined> {
    const r = this.outbox.receipt(id.toLowerCase());
    if (!r) return undefined;
    let sequencer: unknown = null;
    if (r.status === "accepted") {
      const res = await fetch(`${this.cfg.sequencerApi}/v1/receipts/${r.hash}`).catch(() => undefined);
      sequencer = res?.ok ? await res.json() : null;
    }
    const status = sequencer ? (sequencer as { status: string }).status : r.status;
    return { ...issuedView(r), hash: r.hash, status, model: String(r.model), provider: r.receipt.providerIdx, owner: `0x${r.receipt.owner.toString(16).padStart(40, "0")}`, error: r.error, createdAt: new Date(r.createdAt).toISOString(), detail: r.detail, sequencer };
  }

  /** Stops after posting what is written (at most `drainMs`). */
  async close(drainMs = 5000): Promise<void> {
    this.closed = true;
    this.drainUntil = Date.now() + drainMs;
    clearInterval(this.timer);
    this.wake?.();
    await this.loop;
    this.outbox.close();
  }

  // ------------------------------------------------------------ bundling and posting

  private async run(): Promise<void> {
    let backoff = 250;
    let followedAt = 0;
    for (;;) {
      // Acknowledged receipts are followed until final: one the sequencer rejects at sealing must not leave
      // the node stuck on nonce_skipped (the rejection freed its nonces) or an answer silently unpaid.
      if (Date.now() - followedAt > (this.cfg.refreshMs ?? 2000)) {
        followedAt = Date.now();
        await this.followAcknowledged().catch((e: Error) => this.alert(`following acknowledged receipts: ${e.message}`));
      }
      // Closing drains what is written, for a few seconds; whatever is left is sent at the next start.
      if (this.closed && (Date.now() > this.drainUntil || this.outbox.counts().issued + this.outbox.counts().bundled === 0)) return;
      let b = this.outbox.inFlight();
      if (!b && this.cfg.crashAt !== "answered") b = await this.nextBundle();
      if (!b) {
        // Holding a ticket bundle to fill: look again shortly, not at every answer written.
        if (this.holdingTickets) await new Promise((r) => setTimeout(r, 250));
        else await this.sleep(1000);
        continue;
      }
      const meta = b.receiptIds.map((id) => ((this.outbox.receipt(id)?.detail as { meta?: ReceiptMeta } | undefined)?.meta ?? null));
      const outcome = await this.post(b.bundle, meta).catch((e: Error) => ({ status: 0, code: "unreachable", message: e.message }));
      if (outcome.status === 200 || outcome.status === 202) {
        if (this.cfg.crashAt === "posted") process.kill(process.pid, "SIGKILL");
        this.acknowledgedFees += this.outbox.acknowledge(b.id);
        this.resolveAlerts();
        backoff = 250;
        continue;
      }
      if (outcome.code === "too_many_accounts" || outcome.code === "too_many_new_accounts") {
        if (b.receiptIds.length > 1) this.outbox.split(b.id);
        else this.outbox.reject(b.id, `${outcome.code}: ${outcome.message}`);
        continue;
      }
      // Anything else may pass later (a deposit lands, the sequencer comes back): alert and retry the same bundle.
      this.alert(`posting bundle of receipts ${b.receiptIds[0].slice(0, 10)}…: ${outcome.status} ${outcome.code}: ${outcome.message}`);
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, 30_000);
      if (outcome.code === "insufficient_balance" || outcome.code.startsWith("nonce_")) await this.refresh();
      if (outcome.code === "nonce_skipped") followedAt = 0; // most likely an acknowledged bundle was rejected since
    }
  }

  /**
   * Asks the sequencer about the oldest acknowledged receipts not yet known final. A finalized one is settled;
   * the first rejected one's bundle is rejected here too, with the sequencer's reason and an alert (those answers
   * are unpaid), and every receipt after it is renumbered and bundled again.
   */
  private async followAcknowledged(): Promise<void> {
    const open = this.outbox.unsettled(16);
    const final: string[] = [];
    for (const r of open) {
      const res = await fetch(`${this.cfg.sequencerApi}/v1/receipts/${r.hash}`);
      const view = (await res.json()) as { status?: string; error?: string | null };
      if (view.status === "finalized") {
        final.push(r.id);
        continue;
      }
      if (view.status === "rejected" && r.bundle !== null) {
        const { rejected, unacknowledgedFees } = this.outbox.rejectAcknowledged(r.bundle, `rejected by the sequencer after acknowledgement: ${view.error ?? "(no reason given)"}`);
        this.acknowledgedFees -= unacknowledgedFees;
        this.alert(`answers unpaid: the sequencer rejected acknowledged receipt${rejected.length > 1 ? "s" : ""} ${rejected.map((x) => x.id.slice(0, 10) + "…").join(", ")} (nonce ${rejected[0].receipt.nonce}) at sealing: ${view.error ?? "(no reason given)"}; the receipts after ${rejected.length > 1 ? "them" : "it"} are renumbered and posted again`);
        await this.refresh();
        this.wake?.();
      }
      break; // the rest follow this one's fate
    }
    this.outbox.settle(final);
  }

  /** Waits `ms`, or less when a receipt is written or the node closes. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => resolve(), ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /**
   * The next bundle: issued receipts in nonce order, as many as fit one bundle and one batch's slots; or,
   * when the first is a ticket, the tickets after it up to the next exact receipt, as many as a ticket bundle holds.
   */
  private async nextBundle(): Promise<OutboxBundle | undefined> {
    this.holdingTickets = false;
    const head = this.outbox.issuedHead();
    if (!head) return undefined;
    if (head.first.winProb !== null) return this.nextTicketBundle(head.first, head.count);
    let issued = this.outbox.issued();
    if (issued.length < this.cfg.params.bundleSize && !issued[0].alone) {
      // A few milliseconds for more receipts to fill the bundle.
      const wait = (this.cfg.bundleWaitMs ?? 50) - (Date.now() - issued[0].createdAt);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      issued = this.outbox.issued();
    }
    const chosen: OutboxReceipt[] = [issued[0]];
    for (const r of issued.slice(1)) {
      if (issued[0].alone || r.alone || r.winProb !== null || chosen.length >= this.cfg.params.bundleSize) break;
      if (creditedAddresses({ receipts: [...chosen, r].map((x) => x.receipt) }, 0n, this.cfg.params).size > this.cfg.params.slots) break;
      chosen.push(r);
    }
    const receipts = chosen.map((r) => r.receipt);
    const { signature, ms } = await this.thread.request({ type: "sign", receipts });
    this.work.receipt.sign += ms / 1000;
    return this.outbox.addBundle({ receipts, signature: signature! }, chosen.map((r) => r.id));
  }

  /**
   * The next ticket bundle, or undefined while it should go on filling: a bundle costs a batch one of its
   * few commit records (and L1 a beacon) however many tickets it holds, so while this node's previous
   * ticket bundle still waits at the sequencer for a batch, the next one fills (up to its capacity, for
   * at most TICKET_HOLD_MS) instead of queueing behind it. At a low rate bundles are small and go at
   * once; at a high rate they fill; either way a provider has at most one bundle waiting for a commit.
   */
  private async nextTicketBundle(first: OutboxReceipt, count: number): Promise<OutboxBundle | undefined> {
    const capacity = 4 ** ticketShape(this.cfg.params).treeDepth;
    if (count < capacity) {
      // Tickets cost the batch nothing each, so a bundle waits longer to fill than a receipt bundle does.
      const wait = (this.cfg.ticketBundleWaitMs ?? 500) - (Date.now() - first.createdAt);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.holdingTickets = !this.closed && Date.now() - first.createdAt < TICKET_HOLD_MS && (await this.previousTicketBundleWaits());
      if (this.holdingTickets) return undefined;
    }
    const issued = this.outbox.issued();
    const chosen: OutboxReceipt[] = [];
    for (const r of issued) {
      if (r.winProb === null || chosen.length >= capacity) break;
      chosen.push(r);
    }
    const bundle = { providerIdx: chosen[0].receipt.providerIdx, firstNonce: chosen[0].receipt.nonce, tickets: chosen.map((r) => ({ receipt: r.receipt, winProb: r.winProb! })) };
    const { signature, ms } = await this.thread.request({ type: "signTickets", bundle });
    this.work.ticket.sign += ms / 1000;
    return this.outbox.addBundle({ ...bundle, signature: signature! }, chosen.map((r) => r.id));
  }

  /** Whether the sequencer holds this node's newest acknowledged ticket bundle uncommitted ("accepted"); unknown counts as no. */
  private async previousTicketBundleWaits(): Promise<boolean> {
    const last = this.outbox.newestAcknowledgedTicket();
    if (!last) return false;
    const seen = this.ticketWaiting;
    if (seen && seen.id === last.id && Date.now() - seen.at < 500) return seen.waiting;
    const res = await fetch(`${this.cfg.sequencerApi}/v1/receipts/${last.hash}`).catch(() => undefined);
    const status = res?.ok ? ((await res.json()) as { status?: string }).status : undefined;
    this.ticketWaiting = { id: last.id, at: Date.now(), waiting: status === "accepted" };
    return this.ticketWaiting.waiting;
  }

  private async post(bundle: SignedBundle | SignedTicketBundle, meta: (ReceiptMeta | null)[]): Promise<{ status: number; code: string; message: string }> {
    const tickets = "tickets" in bundle;
    const payload = tickets ? ticketBundleToJson(bundle) : { ...(bundleToJson(bundle) as object), meta };
    const res = await fetch(`${this.cfg.sequencerApi}/v1/${tickets ? "ticket-bundles" : "bundles"}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
    const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    return { status: res.status, code: body.error?.code ?? "", message: body.error?.message ?? "" };
  }

  private alert(problem: string): void {
    if (!this.alerts.has(problem)) console.error(`serving ALERT: ${problem}`);
    this.alerts.set(problem, Date.now());
  }

  private resolveAlerts(): void {
    for (const k of [...this.alerts.keys()]) if (k.startsWith("posting")) this.alerts.delete(k);
  }
}

function issuedView(r: OutboxReceipt): IssuedReceipt {
  return {
    id: r.id,
    nonce: r.receipt.nonce.toString(),
    fee: r.cost.toString(),
    contributors: r.receipt.entries.map((e) => ({ address: `0x${e.contributor.toString(16).padStart(40, "0")}`, score: e.score.toString() })),
    status: r.status,
    kind: r.winProb === null ? "receipt" : "ticket",
    ...(r.winProb === null ? {} : { ticket: { winProb: r.winProb.toString(), probability: Number(r.winProb) / Number(WIN_PROB_DENOMINATOR), face: r.receipt.fee.toString() } }),
  };
}
