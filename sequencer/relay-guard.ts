// Guards for the transactions the service relays (and pays for) on behalf of
// others: a sliding-window rate limit per address and over all addresses, and
// a record of creation signatures already used, so that no one can spend the
// relayer's gas faster than an operator allows, or replay a signed request.
import { appendFileSync, existsSync, readFileSync } from "node:fs";

export interface RelayLimits {
  /** Relayed writes one address may cause per window (default 20). */
  perAddress: number;
  /** Relayed writes of all addresses together per window (default 600). */
  total: number;
  /** The window, in milliseconds (default one hour). */
  windowMs: number;
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = { perAddress: 20, total: 600, windowMs: 3_600_000 };

export class RelayRateLimiter {
  private readonly byAddress = new Map<string, number[]>();
  private all: number[] = [];

  constructor(readonly limits: RelayLimits = DEFAULT_RELAY_LIMITS) {}

  /**
   * Counts one relayed write for `address` if both limits allow it; otherwise
   * returns the milliseconds until one would, and counts nothing.
   */
  take(address: string, now = Date.now()): { ok: true } | { ok: false; retryAfterMs: number; scope: "address" | "total" } {
    const key = address.toLowerCase();
    const since = now - this.limits.windowMs;
    const mine = (this.byAddress.get(key) ?? []).filter((t) => t > since);
    this.all = this.all.filter((t) => t > since);
    if (mine.length >= this.limits.perAddress) return { ok: false, retryAfterMs: mine[0] + this.limits.windowMs - now, scope: "address" };
    if (this.all.length >= this.limits.total) return { ok: false, retryAfterMs: this.all[0] + this.limits.windowMs - now, scope: "total" };
    mine.push(now);
    this.all.push(now);
    this.byAddress.set(key, mine);
    return { ok: true };
  }
}

/** Signatures that have been acted on, one per line in a file: a signed request is relayed once, even across restarts. */
export class UsedSignatures {
  private readonly seen: Set<string>;

  constructor(readonly file: string) {
    this.seen = new Set(existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
  }

  has(signature: string): boolean {
    return this.seen.has(signature.toLowerCase());
  }

  add(signature: string): void {
    const s = signature.toLowerCase();
    if (this.seen.has(s)) return;
    appendFileSync(this.file, `${s}\n`);
    this.seen.add(s);
  }
}
