// An L1 JSON-RPC provider over a list of endpoints: a request that fails in
// transport (connection refused or reset, an HTTP error, a timeout) is retried
// with exponential backoff, moving to the next endpoint each time; answers the
// node gives in-band (a revert, "nonce too low") are returned as they are.
// The endpoint that last answered stays in use, so a dead primary costs one
// timeout, not one per request.
import { FetchRequest, JsonRpcProvider, type JsonRpcApiProviderOptions, type JsonRpcPayload, type JsonRpcResult } from "ethers";

export interface RetryOptions {
  /** Per request and endpoint (ms). */
  timeoutMs?: number;
  /** Tries in all, over every endpoint, before the caller sees the error. */
  attempts?: number;
  /** The first pause between tries; doubled each time up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  log?: (line: string) => void;
}

export class FailoverProvider extends JsonRpcProvider {
  private readonly backends: JsonRpcProvider[];
  private active = 0;
  /** Transport failures seen, per endpoint (for /healthz and tests). */
  readonly failures: number[];

  constructor(readonly urls: string[], private readonly retry: RetryOptions = {}, options: JsonRpcApiProviderOptions = {}) {
    if (urls.length === 0) throw new Error("no L1 RPC URL given");
    super(urls[0], undefined, options);
    this.backends = urls.map((u) => {
      const req = new FetchRequest(u);
      req.timeout = retry.timeoutMs ?? 10_000;
      return new JsonRpcProvider(req, undefined, { ...options, staticNetwork: true, batchMaxCount: 1 });
    });
    this.failures = urls.map(() => 0);
  }

  /** The endpoint in use now. */
  get activeUrl(): string {
    return this.urls[this.active];
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const attempts = this.retry.attempts ?? Math.max(4, 2 * this.urls.length);
    let delay = this.retry.baseDelayMs ?? 100;
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      const at = this.active;
      try {
        return await this.backends[at]._send(payload);
      } catch (e) {
        last = e;
        this.failures[at]++;
        if (this.active === at) this.active = (at + 1) % this.backends.length; // another request may have moved on already
        (this.retry.log ?? console.error)(`L1 RPC ${redactUrl(this.urls[at])} failed (${shortReason(e)}); trying ${redactUrl(this.urls[this.active])} in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.retry.maxDelayMs ?? 5_000);
      }
    }
    throw last;
  }

  override destroy(): void {
    for (const b of this.backends) b.destroy();
    super.destroy();
  }
}

const shortReason = (e: unknown) => ((e as { shortMessage?: string }).shortMessage ?? (e as Error).message ?? String(e)).split("\n")[0].slice(0, 120);

/** An RPC URL without what usually holds a key (the path and query of hosted endpoints). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname.length > 1 || u.search ? `${u.origin}/…` : u.origin;
  } catch {
    return "(an unparsable URL)";
  }
}
