// The traffic of bench/tickets-stack.ts, on a thread of its own so that the
// sequencer's HTTP loop in the main thread never waits on it: the reference
// workload's answers at a fixed rate, each a real ticket (core/ticket.ts),
// signed in bundles of 4^DT per provider exactly as the serving node signs
// them, and posted to the sequencer's POST /v1/ticket-bundles.
import { parentPort, workerData } from "node:worker_threads";
import { initCrypto } from "../../core/crypto.js";
import type { BatchParams } from "../../core/params.js";
import { payout } from "../../core/payout.js";
import { expectedValue, signTicketBundle, ticketFor, type Ticket } from "../../core/ticket.js";
import { ticketBundleToJson } from "../../sequencer/schemas.js";
import { REFERENCE, workload, type WorkloadEvent } from "./workload.js";

export interface TrafficConfig {
  api: string;
  providers: { idx: number; key: Uint8Array }[];
  rate: number;
  seconds: number;
  kBits: number;
  fee: bigint;
  params: BatchParams;
  treeDepth: number;
  domain: bigint;
}

export interface PostedBundle {
  ticketBundle: number;
  ticketIds: string[];
  /** When each ticket's answer was made (ms since the epoch). */
  answeredAt: number[];
  postedAt: number;
  signMs: number;
}

export interface TrafficResult {
  bundles: PostedBundle[];
  answers: number;
  seconds: number;
  /** Per contributor (workload index): answers it appears in, and its expected earnings (the payout rule at fee). */
  contributors: [number, { answers: number; expected: string }][];
  signMsTotal: number;
  refused: string[];
  /** Posts sent again after a dropped connection. */
  retries: number;
}

/** Contributor i of the workload is address 0x10000 + i. */
export const contributorAddress = (i: number): bigint => BigInt(0x10000 + i);

async function run(c: TrafficConfig): Promise<TrafficResult> {
  await initCrypto();
  const capacity = 4 ** c.treeDepth;
  // Per provider: tickets not yet signed, and its posts in order (a bundle's nonces follow the one before it).
  const pending = c.providers.map(() => ({ tickets: [] as Ticket[], at: [] as number[], nonce: 0n, posting: Promise.resolve() }));
  const contributors = new Map<number, { answers: number; expected: bigint }>();
  const bundles: PostedBundle[] = [];
  const refused: string[] = [];
  const posts: Promise<void>[] = [];
  let signMsTotal = 0, retries = 0;
  const stream = workload(REFERENCE);
  const t0 = Date.now();
  let answers = 0;
  const post = async (p: number) => {
    const q = pending[p];
    const tickets = q.tickets, at = q.at;
    q.tickets = [];
    q.at = [];
    const s0 = performance.now();
    const signed = await signTicketBundle(c.providers[p].key, { providerIdx: c.providers[p].idx, firstNonce: q.nonce, tickets }, c.params, c.treeDepth, c.domain);
    const signMs = performance.now() - s0;
    signMsTotal += signMs;
    q.nonce += BigInt(tickets.length);
    const postedAt = Date.now();
    q.posting = q.posting.then(async () => {
      // A provider posts again when a connection drops (the serving node's outbox does): the same bundle
      // again is 200 with the same ids, never a second acceptance.
      const payload = JSON.stringify(ticketBundleToJson(signed));
      let res: Response | undefined;
      for (let attempt = 1; !res; attempt++) {
        try {
          res = await fetch(`${c.api}/v1/ticket-bundles`, { method: "POST", headers: { "content-type": "application/json" }, body: payload });
        } catch (e) {
          if (attempt >= 5) throw e;
          retries++;
          await new Promise((r) => setTimeout(r, 1000 * attempt));
        }
      }
      const body = (await res.json()) as { ticketBundle: number; tickets: { id: string }[]; error?: { code: string; message: string } };
      if (res.status !== 202 && res.status !== 200) return void refused.push(`${res.status} ${body.error?.code}: ${body.error?.message}`);
      bundles.push({ ticketBundle: body.ticketBundle, ticketIds: body.tickets.map((t) => t.id), answeredAt: at, postedAt, signMs });
    });
    posts.push(q.posting);
  };
  // Providers that started at different times: each one's first bundle is a different fraction of a
  // full one, so that bundles reach the sequencer evenly rather than all at once every 4^DT / rate s.
  const firstBundle = c.providers.map((_, p) => Math.max(1, Math.round((capacity * (p + 1)) / c.providers.length)));
  // Answers are made on a 10 ms clock: each tick catches up with rate × elapsed.
  while (Date.now() - t0 < c.seconds * 1000) {
    const due = Math.floor(((Date.now() - t0) / 1000) * c.rate);
    while (answers < due) {
      const e = stream.next().value as WorkloadEvent;
      if (e.kind !== "receipt") continue;
      const r = e.receipt;
      const p = r.provider % c.providers.length;
      const q = pending[p];
      const entries = r.contributors.slice(0, c.params.entries).map((x, i) => ({ contributor: contributorAddress(x), score: BigInt(r.scores[i]) }));
      const t = ticketFor({ providerIdx: c.providers[p].idx, owner: BigInt(0x1000 + r.owner), fee: c.fee, nonce: q.nonce + BigInt(q.tickets.length), inputHash: BigInt(answers + 1), outputHash: 1n, entries }, c.kBits);
      const atFee = payout(expectedValue(t).value, entries.map((x) => x.score), c.params);
      r.contributors.slice(0, entries.length).forEach((x, i) => {
        const s = contributors.get(x) ?? { answers: 0, expected: 0n };
        contributors.set(x, { answers: s.answers + 1, expected: s.expected + atFee.shares[i] });
      });
      q.tickets.push(t);
      q.at.push(Date.now());
      answers++;
      if (q.tickets.length === (q.nonce === 0n ? firstBundle[p] : capacity)) await post(p);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (let p = 0; p < pending.length; p++) if (pending[p].tickets.length > 0) await post(p);
  await Promise.all(posts);
  return {
    bundles, answers, seconds: (Date.now() - t0) / 1000, signMsTotal, refused, retries,
    contributors: [...contributors].map(([i, s]) => [i, { answers: s.answers, expected: s.expected.toString() }]),
  };
}

if (parentPort && workerData) {
  run(workerData as TrafficConfig).then((r) => parentPort!.postMessage(r), (e: Error) => parentPort!.postMessage({ error: e.stack ?? e.message }));
}
