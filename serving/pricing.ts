// What the serving node serves and what it pays per answer: the operator's decision, not the
// model owner's. The node pays every answer's fee out of its own deposit, and the fee goes mostly
// to the model's owner and its contributors, so a price set by whoever registered a model would
// let anyone drain the node (register a model at a price equal to its balance, ask one question).
//
// - Admission: a model is served only if the operator allows it (by ModelRegistry id or by owner)
//   and its registered price is at most the node's cap per 1,000 tokens.
// - Pinning: the price a model had when first admitted is written to the node's database and is
//   what the node charges from then on. An owner's later `setPrice` upward changes nothing until
//   the operator accepts it (`acceptPrice`, `poa serve --accept-price <id>`); a lower registered
//   price is charged at once (it only costs the node less).
// - Per request: the node's own fee cap, and a lower one the client may send (`max_fee` in the
//   body, or the `X-Max-Fee` header), both in OPEN base units, checked against the largest fee
//   the request can cost before any token is generated.
import type Database from "better-sqlite3";
import type { RegisteredModel } from "../models/registry.js";
import { ServeError } from "./adapter-cache.js";

export interface ServingPolicy {
  /** ModelRegistry ids the node serves. */
  models?: number[];
  /** Owners (0x addresses) whose active models the node serves. */
  owners?: string[];
  /** The highest price per 1,000 tokens (OPEN base units) the node admits a model at. */
  maxPricePer1kTokens: bigint;
  /** The most one request may cost (OPEN base units). */
  maxFeePerRequest: bigint;
}

/** 0.01 OPEN per 1,000 tokens, 0.01 OPEN per request (the demo's models cost 0.001 OPEN per 1,000 tokens). */
export const DEFAULT_POLICY_LIMITS = { maxPricePer1kTokens: 10n ** 16n, maxFeePerRequest: 10n ** 16n } as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS admitted_prices (
  model INTEGER PRIMARY KEY,
  price TEXT NOT NULL,
  admitted_at INTEGER NOT NULL
);`;

export class PricePolicy {
  private readonly owners: Set<string>;
  private readonly models: Set<number>;
  /** Models whose registered price rose above the pinned one: model → registered price (for /healthz and /v1/models). */
  readonly pendingRaises = new Map<number, bigint>();

  constructor(readonly policy: ServingPolicy, private readonly db: Database.Database) {
    this.owners = new Set((policy.owners ?? []).map((o) => o.toLowerCase()));
    this.models = new Set(policy.models ?? []);
    if (this.owners.size === 0 && this.models.size === 0) throw new Error("a paying serving node needs an allow-list: the models (--allow-models) or owners (--allow-owners) it serves");
    if (policy.maxPricePer1kTokens < 0n || policy.maxFeePerRequest <= 0n) throw new Error("the price cap must be >= 0 and the fee cap per request > 0");
    db.exec(SCHEMA);
  }

  allowed(m: RegisteredModel): boolean {
    return this.models.has(m.id) || this.owners.has(m.owner.toLowerCase());
  }

  /** The price the node charges for model `m` now, admitting it (and pinning its price) on first use; a ServeError if it is not served. */
  price(m: RegisteredModel): bigint {
    if (!this.allowed(m)) throw new ServeError(403, "model_not_admitted", `model ${m.id} (owner ${m.owner}) is not on this node's allow-list; its operator serves only the models and owners it chose`);
    const pinned = this.pinned(m.id);
    if (pinned === undefined) {
      if (m.pricePer1kTokens > this.policy.maxPricePer1kTokens) {
        throw new ServeError(403, "price_above_cap", `model ${m.id} costs ${m.pricePer1kTokens} OPEN base units per 1,000 tokens; this node admits models at up to ${this.policy.maxPricePer1kTokens}`);
      }
      this.db.prepare("INSERT INTO admitted_prices (model, price, admitted_at) VALUES (?, ?, ?)").run(m.id, m.pricePer1kTokens.toString(), Date.now());
      return m.pricePer1kTokens;
    }
    if (m.pricePer1kTokens > pinned) this.pendingRaises.set(m.id, m.pricePer1kTokens);
    else this.pendingRaises.delete(m.id);
    return m.pricePer1kTokens < pinned ? m.pricePer1kTokens : pinned;
  }

  /** The operator accepts model `id`'s registered price (within the cap): it becomes the pinned price. */
  acceptPrice(m: RegisteredModel): void {
    if (m.pricePer1kTokens > this.policy.maxPricePer1kTokens) throw new Error(`model ${m.id}'s price ${m.pricePer1kTokens} is above this node's cap of ${this.policy.maxPricePer1kTokens} per 1,000 tokens`);
    this.db.prepare("INSERT INTO admitted_prices (model, price, admitted_at) VALUES (?, ?, ?) ON CONFLICT (model) DO UPDATE SET price = excluded.price, admitted_at = excluded.admitted_at").run(m.id, m.pricePer1kTokens.toString(), Date.now());
    this.pendingRaises.delete(m.id);
  }

  pinned(id: number): bigint | undefined {
    const row = this.db.prepare("SELECT price FROM admitted_prices WHERE model = ?").get(id) as { price: string } | undefined;
    return row ? BigInt(row.price) : undefined;
  }

  /** Checks the largest fee of a request against the node's cap and the client's (if it sent one). */
  checkFee(fee: bigint, clientMax?: bigint): void {
    if (fee > this.policy.maxFeePerRequest) {
      throw new ServeError(402, "fee_above_node_cap", `this request can cost up to ${fee} OPEN base units; this node pays at most ${this.policy.maxFeePerRequest} per request (lower max_tokens)`);
    }
    if (clientMax !== undefined && fee > clientMax) {
      throw new ServeError(402, "fee_above_client_cap", `this request can cost up to ${fee} OPEN base units, above its max_fee of ${clientMax} (lower max_tokens, or raise max_fee)`);
    }
  }
}
