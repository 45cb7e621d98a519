// The reference workload of the production benchmarks (issue 10): inference
// receipts from a few providers, each paying K = 8 data contributors drawn by
// a Zipf popularity over a large contributor population, and model owners
// drawn the same way, with L1 deposits and withdrawals mixed in. Everything is
// seeded, so every run and every reader sees the same stream.

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws ranks 0..n-1 with P(rank k) ∝ 1 / (k + 1)^s, by binary search over the cumulative weights. */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(readonly n: number, readonly s: number) {
    this.cdf = new Float64Array(n);
    let total = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = total += 1 / Math.pow(k + 1, s);
    for (let k = 0; k < n; k++) this.cdf[k] /= total;
  }

  draw(rand: () => number): number {
    const u = rand();
    let lo = 0, hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export interface WorkloadConfig {
  seed: number;
  providers: number; // inference providers, chosen uniformly per receipt
  owners: number; // model owners, Zipf
  contributors: number; // data contributors, Zipf
  zipf: number; // the exponent s of both Zipf laws
  entries: number; // K: distinct contributors credited per receipt
  depositsPerReceipt: number; // L1 deposits (by providers) per receipt, on average
  withdrawalsPerReceipt: number; // L1 withdrawal requests (by contributors) per receipt, on average
}

/** The stated reference: 16 providers, 200 owners, 100,000 contributors, Zipf s = 1, K = 8, 1% deposits and 2% withdrawals per receipt. */
export const REFERENCE: WorkloadConfig = { seed: 20261125, providers: 16, owners: 200, contributors: 100_000, zipf: 1.0, entries: 8, depositsPerReceipt: 0.01, withdrawalsPerReceipt: 0.02 };

export interface WorkloadReceipt {
  provider: number;
  owner: number;
  contributors: number[]; // K distinct ranks
  scores: number[]; // positive integers, one per contributor
}

export type WorkloadEvent = { kind: "receipt"; receipt: WorkloadReceipt } | { kind: "deposit"; provider: number } | { kind: "withdrawal"; contributor: number };

/** An endless, seeded stream of the workload's events. */
export function* workload(c: WorkloadConfig = REFERENCE): Generator<WorkloadEvent> {
  const rand = prng(c.seed);
  const owners = new Zipf(c.owners, c.zipf);
  const contributors = new Zipf(c.contributors, c.zipf);
  for (;;) {
    if (rand() < c.depositsPerReceipt) yield { kind: "deposit", provider: Math.floor(rand() * c.providers) };
    if (rand() < c.withdrawalsPerReceipt) yield { kind: "withdrawal", contributor: contributors.draw(rand) };
    const picked = new Set<number>();
    while (picked.size < Math.min(c.entries, c.contributors)) picked.add(contributors.draw(rand));
    yield {
      kind: "receipt",
      receipt: { provider: Math.floor(rand() * c.providers), owner: owners.draw(rand), contributors: [...picked], scores: [...picked].map(() => 1 + Math.floor(rand() * 1_000_000)) },
    };
  }
}

/** The accounts a batch of receipts (and the L1 operations queued meanwhile) touches, by role. */
export interface Touched {
  receipts: number;
  ops: number;
  contributors: number;
  owners: number;
  providers: number;
  total: number; // distinct leaves written, the treasury included
}

/** Cuts the stream into batches of `receipts` receipts and counts what each one touches. */
export function touchedPerBatch(c: WorkloadConfig, receipts: number, batches: number): Touched[] {
  const stream = workload(c);
  const out: Touched[] = [];
  for (let b = 0; b < batches; b++) {
    const contributors = new Set<number>(), owners = new Set<number>(), providers = new Set<number>();
    let n = 0, ops = 0;
    while (n < receipts) {
      const e = stream.next().value as WorkloadEvent;
      if (e.kind === "receipt") {
        n++;
        providers.add(e.receipt.provider);
        owners.add(e.receipt.owner);
        e.receipt.contributors.forEach((x) => contributors.add(x));
      } else {
        ops++;
        if (e.kind === "deposit") providers.add(e.provider);
        else contributors.add(e.contributor);
      }
    }
    out.push({ receipts, ops, contributors: contributors.size, owners: owners.size, providers: providers.size, total: 1 + contributors.size + owners.size + providers.size });
  }
  return out;
}

/**
 * Credited accounts (contributors and owners) of a batch that no earlier
 * receipt of the stream credited: the leaves the batch opens, whose addresses
 * its body must publish. `history` receipts run first; then `batches` batches
 * of `receipts` receipts are counted.
 */
export function newPerBatch(c: WorkloadConfig, receipts: number, history: number, batches: number): { credited: number; fresh: number }[] {
  const stream = workload(c);
  const seen = new Set<string>();
  const take = (): WorkloadReceipt => {
    for (;;) {
      const e = stream.next().value as WorkloadEvent;
      if (e.kind === "receipt") return e.receipt;
    }
  };
  const keys = (r: WorkloadReceipt) => [`o${r.owner}`, ...r.contributors.map((x) => `c${x}`)];
  for (let i = 0; i < history; i++) keys(take()).forEach((k) => seen.add(k));
  const out: { credited: number; fresh: number }[] = [];
  for (let b = 0; b < batches; b++) {
    const credited = new Set<string>();
    for (let i = 0; i < receipts; i++) keys(take()).forEach((k) => credited.add(k));
    out.push({ credited: credited.size, fresh: [...credited].filter((k) => !seen.has(k)).length });
    credited.forEach((k) => seen.add(k));
  }
  return out;
}
