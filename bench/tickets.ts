// npm run bench, part: payment tickets on the reference workload (issue 24,
// docs/PROTOCOL.md §16). This first part measures threat 6, variance, with
// the reference model alone: every answer of the workload becomes a real
// ticket (core/ticket.ts: its Poseidon hash and draw), bundled 4,096 to a
// beacon, and each contributor's realized earnings (the payout rule at face
// value on winners) are set against its expected earnings (the payout rule at
// fee on every answer), by popularity band; the ticket pool's balance is
// followed answer by answer. The beacons are Poseidon(seed, bundle): a
// stand-in for L1's prevrandao, which a model run has no chain for.
// Results: bench/RESULTS.md "Tickets", bench/results.json `tickets.variance`.
import { initCrypto, poseidon } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { loadInstance } from "../core/params.js";
import { expectedValue, ticketFor, ticketWins } from "../core/ticket.js";
import { REFERENCE, workload, type WorkloadEvent } from "./lib/workload.js";
import { runMeta, writeResults, writeSection } from "./results.js";

const ANSWERS = Number(process.env.TICKET_ANSWERS ?? 200_000);
const K_BITS = 10; // p = 2^-10
const FEE = 10n ** 14n; // 0.0001 OPEN per answer, the demo's order of magnitude
const BUNDLE = 4096;
const OPEN = 10n ** 18n;
const cfg = loadInstance("production").params;

await initCrypto();
const t0 = Date.now();
const expected = new Map<number, bigint>();
const realized = new Map<number, bigint>();
let winners = 0;
let pool = 0n;
let poolMin = 0n;
let inflow = 0n;
let outflow = 0n;
const stream = workload(REFERENCE);
let beacon = 0n;
for (let n = 0; n < ANSWERS; ) {
  const e = stream.next().value as WorkloadEvent;
  if (e.kind !== "receipt") continue;
  if (n % BUNDLE === 0) beacon = poseidon([BigInt(REFERENCE.seed), BigInt(n / BUNDLE)]) >> 3n;
  const r = e.receipt;
  const entries = r.contributors.map((c, i) => ({ contributor: BigInt(0x10000 + c), score: BigInt(r.scores[i]) }));
  const receipt = { providerIdx: 1 + r.provider, owner: BigInt(0x1000 + r.owner), fee: FEE, nonce: BigInt(n), inputHash: BigInt(n), outputHash: 1n, entries };
  const ticket = ticketFor(receipt, K_BITS);
  const scores = entries.map((x) => x.score);
  const atFee = payout(FEE, scores, cfg);
  r.contributors.forEach((c, i) => expected.set(c, (expected.get(c) ?? 0n) + atFee.shares[i]));
  const ev = expectedValue(ticket).value;
  inflow += ev;
  pool += ev;
  if (ticketWins(ticket, cfg.entries, beacon)) {
    winners++;
    const atFace = payout(ticket.receipt.fee, scores, cfg);
    r.contributors.forEach((c, i) => realized.set(c, (realized.get(c) ?? 0n) + atFace.shares[i]));
    outflow += ticket.receipt.fee - atFace.protocol;
    pool -= ticket.receipt.fee - atFace.protocol;
    if (pool < poolMin) poolMin = pool;
  }
  n++;
}
const seconds = (Date.now() - t0) / 1000;

// Popularity bands by Zipf rank (0 = most popular).
const BANDS: [number, number][] = [[0, 1], [1, 10], [10, 100], [100, 1000], [1000, 10000], [10000, REFERENCE.contributors]];
const toOpen = (x: bigint) => Number(x) / Number(OPEN);
const rows = BANDS.map(([lo, hi]) => {
  let exp = 0n, real = 0n, seen = 0, paid = 0;
  const ratios: number[] = [];
  for (let c = lo; c < hi; c++) {
    const e = expected.get(c);
    if (e === undefined) continue;
    seen++;
    exp += e;
    const r = realized.get(c) ?? 0n;
    real += r;
    if (r > 0n) paid++;
    ratios.push(Number(r) / Number(e));
  }
  ratios.sort((a, b) => a - b);
  const q = (f: number) => (ratios.length ? ratios[Math.min(ratios.length - 1, Math.floor(f * ratios.length))] : 0);
  return { band: `${lo + 1}–${hi}`, contributors: seen, paidAnything: paid, expectedOpen: toOpen(exp), realizedOpen: toOpen(real), ratio: exp ? Number(real) / Number(exp) : 0, p10: q(0.1), median: q(0.5), p90: q(0.9) };
});

const p = 2 ** -K_BITS;
const face = Number(FEE << BigInt(K_BITS)) / Number(OPEN);
const result = {
  answers: ANSWERS, winProb: p, faceValueOpen: face, feeOpen: Number(FEE) / Number(OPEN), bundle: BUNDLE, winners, expectedWinners: ANSWERS * p,
  pool: { inflowOpen: toOpen(inflow), outflowOpen: toOpen(outflow), finalOpen: toOpen(pool), minimumOpen: toOpen(poolMin) },
  bands: rows, seconds,
};
writeResults({ tickets: { variance: result } });

const table = rows.map((r) => `| ${r.band} | ${r.contributors.toLocaleString("en-US")} | ${r.paidAnything.toLocaleString("en-US")} | ${r.expectedOpen.toFixed(4)} | ${r.realizedOpen.toFixed(4)} | ${r.ratio.toFixed(3)} | ${r.p10.toFixed(2)} / ${r.median.toFixed(2)} / ${r.p90.toFixed(2)} |`).join("\n");
writeSection("Tickets", `Payment tickets (docs/PROTOCOL.md §16). ${runMeta().line}

## Variance: realized against expected earnings (reference model, no chain yet)

${ANSWERS.toLocaleString("en-US")} answers of the reference workload (bench/lib/workload.ts), each a real ticket (Poseidon hash and draw, core/ticket.ts) at fee ${Number(FEE) / Number(OPEN)} OPEN, p = 2^-${K_BITS}, face value ${face} OPEN; beacons Poseidon(seed, bundle) per ${BUNDLE} tickets, standing in for L1's prevrandao. Expected: the payout rule at fee on every answer; realized: the payout rule at face value on the winners. ${winners} winners (expected ${(ANSWERS * p).toFixed(1)}); ${seconds.toFixed(0)} s.

| popularity rank | contributors credited | paid anything | expected (OPEN) | realized (OPEN) | realized / expected | per contributor, p10 / median / p90 |
|---|---:|---:|---:|---:|---:|---:|
${table}

The ticket pool took ${toOpen(inflow).toFixed(4)} OPEN (every ticket's expected value) and paid ${toOpen(outflow).toFixed(4)} OPEN (face value less the protocol's 5%, which stays in the pool): it ends at ${toOpen(pool).toFixed(4)} OPEN, its lowest point ${toOpen(poolMin).toFixed(4)} OPEN (a negative value is what a reserve must cover, §16.4).

Popular contributors are paid close to their expectation; the long tail is paid nothing most of the time and 2^${K_BITS} times its per-answer share when a ticket it is in wins. Its expectation is exact either way (§16.4).`);
console.log(JSON.stringify(result, null, 2));
