// npm run bench, part: the reference workload (bench/lib/workload.ts) and how
// many distinct accounts a batch of it touches, by batch size. Attribution
// pays K = 8 contributors per receipt, so a batch's cost follows the accounts
// it touches, not its receipts: this table shows how aggregation pays.
import { REFERENCE, touchedPerBatch, type WorkloadConfig } from "./lib/workload.js";
import { writeResults, writeSection } from "./results.js";

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
const body = `Reference workload (bench/lib/workload.ts, seed ${REFERENCE.seed}): ${REFERENCE.providers} providers chosen uniformly, ${REFERENCE.owners} model owners and ${REFERENCE.contributors.toLocaleString("en-US")} contributors drawn by Zipf popularity (exponent s = ${REFERENCE.zipf}), K = ${REFERENCE.entries} distinct contributors per receipt, ${REFERENCE.depositsPerReceipt * 100}% deposits and ${REFERENCE.withdrawalsPerReceipt * 100}% withdrawal requests per receipt. Medians over ${BATCHES} consecutive batches of the stream; ${new Date().toISOString().slice(0, 10)}, ${process.platform} ${process.arch}, ${Math.round((Date.now() - t0) / 100) / 10} s to generate.

${head}
${main.rows.join("\n")}

The same with a flatter popularity (s = 0.8):

${head}
${flatter.rows.join("\n")}`;
console.log(body);
writeSection("Reference workload: accounts touched per batch (npm run bench)", body);
writeResults({ workload: { config: REFERENCE, touchedPerBatch: main.touched, touchedPerBatchZipf08: flatter.touched } });
