// npm run bench, part: the reference workload (bench/lib/workload.ts) and how
// many distinct accounts a batch of it touches, by batch size. Attribution
// pays K = 8 contributors per receipt, so a batch's cost follows the accounts
// it touches, not its receipts: this table shows how aggregation pays.
import { newPerBatch, REFERENCE, touchedPerBatch, type WorkloadConfig } from "./lib/workload.js";
import { runMeta, writeResults, writeSection } from "./results.js";

const SIZES = [16, 64, 256, 1024, 4096];
const BATCHES = 40;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function table(c: WorkloadConfig): { rows: string[]; touched: Record<string, number> } {
  const rows: string[] = [];
  const touched: Record<string, number> = {};
  for (const r of SIZES) {
    const t = touchedPerBatch(c, r, BATCHES);
    const total = median(t.map((x) => x.total));
    touched[String(r)] = total;
    const naive = r * (c.entries + 2) + 1; // every credit and debit its own leaf
    rows.push(`| ${r} | ${median(t.map((x) => x.contributors))} | ${median(t.map((x) => x.owners))} | ${median(t.map((x) => x.providers))} | ${median(t.map((x) => x.ops))} | ${total} | ${(total / r).toFixed(2)} | ${(naive / total).toFixed(1)}× |`);
  }
  return { rows, touched };
}

const t0 = Date.now();
const main = table(REFERENCE);
const flatter = table({ ...REFERENCE, zipf: 0.8 });
const head = "| receipts per batch | contributors | owners | providers | L1 ops | accounts touched (with the treasury) | per receipt | saved against one leaf per credit |\n|---:|---:|---:|---:|---:|---:|---:|---:|";
const body = `Reference workload (bench/lib/workload.ts, seed ${REFERENCE.seed}): ${REFERENCE.providers} providers chosen uniformly, ${REFERENCE.owners} model owners and ${REFERENCE.contributors.toLocaleString("en-US")} contributors drawn by Zipf popularity (exponent s = ${REFERENCE.zipf}), K = ${REFERENCE.entries} distinct contributors per receipt, ${REFERENCE.depositsPerReceipt * 100}% deposits and ${REFERENCE.withdrawalsPerReceipt * 100}% withdrawal requests per receipt. Medians over ${BATCHES} consecutive batches of the stream; ${Math.round((Date.now() - t0) / 100) / 10} s to generate. ${runMeta().line}

${head}
${main.rows.join("\n")}

The same with a flatter popularity (s = 0.8):

${head}
${flatter.rows.join("\n")}`;
// How many of a batch's credited accounts are new, as the rollup ages: the
// production instance publishes at most newAccounts addresses per batch.
const HISTORY = [0, 10_000, 100_000, 1_000_000];
const fresh: Record<string, { credited: number; fresh: number; share: number }> = {};
const freshRows = HISTORY.map((h) => {
  const runs = newPerBatch(REFERENCE, 8, h, BATCHES);
  const credited = median(runs.map((x) => x.credited)), n = median(runs.map((x) => x.fresh));
  fresh[String(h)] = { credited, fresh: n, share: n / credited };
  return `| ${h.toLocaleString("en-US")} | ${credited} | ${n} | ${Math.round((100 * n) / credited)}% |`;
});
const freshBody = `\n\nNew accounts per batch of 8 receipts (about what the production instance's 64 slots hold), after a history of earlier receipts:\n\n| receipts before | accounts credited | of which new | share |\n|---:|---:|---:|---:|\n${freshRows.join("\n")}`;
console.log(body + freshBody);
writeSection("Reference workload: accounts touched per batch (npm run bench)", body + freshBody);
writeResults({ workload: { config: REFERENCE, touchedPerBatch: main.touched, touchedPerBatchZipf08: flatter.touched, newPerBatchOf8: fresh } });
