// npm run bench: the constraint budget of the production instance, measured by
// compiling each building block at production size (circom --O2, as setup
// does) and composing them the way circuits/batch.circom does.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { bodyLength, loadInstance } from "../core/params.js";
import { readManifest, ROOT } from "../scripts/lib/artifacts.js";
import { writeSection } from "./results.js";

const p = loadInstance("production").params;
const dir = join(ROOT, "build", "bench");
mkdirSync(dir, { recursive: true });

function constraints(name: string, include: string, main: string): number {
  const file = join(dir, `${name}.circom`);
  writeFileSync(file, `pragma circom 2.1.0;\ninclude "${relative(dir, join(ROOT, include))}";\ncomponent main = ${main};\n`);
  const t0 = Date.now();
  const r = spawnSync(join(ROOT, "node_modules", ".bin", "circom2"), [relative(ROOT, file), "--r1cs", "--O2", "-l", "node_modules", "-o", relative(ROOT, dir)], { cwd: ROOT, encoding: "utf8" });
  const out = `${r.stdout}${r.stderr}`;
  const nl = /non-linear constraints: (\d+)/.exec(out);
  const lin = /\blinear constraints: (\d+)/.exec(out.replace(/non-linear constraints: \d+/, ""));
  if (r.status !== 0 || !nl) throw new Error(`circom failed on ${name}:\n${out}`);
  const n = Number(nl[1]) + Number(lin?.[1] ?? 0);
  console.log(`  ${main}: ${n} constraints (${((Date.now() - t0) / 1000).toFixed(0)} s to compile)`);
  return n;
}

const lib = "circuits/lib";
const args = `${p.feeBits}, ${p.scoreBits}, ${p.protocolBps}, ${p.ownerBps}`;
const half = p.bundleSize / 2;
console.log(`production instance: ${JSON.stringify(p)}`);
const bundleFull = constraints("bundle_full", `${lib}/bundle.circom`, `Bundle(${p.depth}, ${p.bundleSize}, ${p.entries}, ${args})`);
const bundleHalf = constraints("bundle_half", `${lib}/bundle.circom`, `Bundle(${p.depth}, ${half}, ${p.entries}, ${args})`);
const payout = constraints("payout", `${lib}/payout.circom`, `ReceiptPayout(${p.entries}, ${args})`);
const receiptHash = constraints("receipt_hash", `${lib}/receipt.circom`, `ReceiptHash(${p.entries})`);
const slot = constraints("credit_slot", `${lib}/credit_slot.circom`, `CreditSlot(${p.depth}, 0)`);
const op = constraints("queue_op", `${lib}/queue_op.circom`, `QueueOp(${p.depth})`);
const update = constraints("leaf_update", `${lib}/merkle.circom`, `LeafUpdate(${p.depth})`);
const sha1 = constraints("sha_1block", "node_modules/circomlib/circuits/sha256/sha256.circom", "Sha256(440)");
const sha2 = constraints("sha_2blocks", "node_modules/circomlib/circuits/sha256/sha256.circom", "Sha256(952)");

const shaPerBlock = sha2 - sha1;
const shaPerByte = shaPerBlock / 64;
const logUp = 2; // CreditSum: one inverse check and one product per term
// Per receipt (marginal): hash, payout, K+1 credit terms; the bundle's signature,
// provider update and body record are per bundle.
const perReceipt = (bundleFull - bundleHalf) / half + (p.entries + 1) * logUp;
const perBundle = bundleFull - p.bundleSize * ((bundleFull - bundleHalf) / half) + 136 + 17 * shaPerByte;
const amortized = perReceipt + perBundle / p.bundleSize;
const perAccount = slot + 288 + logUp + 36 * shaPerByte;
const perOp = op + 128 + 16 * shaPerByte;
const bodyBlocks = Math.floor((bodyLength(p) * 8 + 64) / 512) + 1;
const total = p.bundles * (perBundle + p.bundleSize * perReceipt) + p.slots * perAccount + p.queueOps * perOp
  + (bodyBlocks * 64 - bodyLength(p)) * shaPerByte;

const rows: [string, number][] = [
  ["receipt, marginal (hash, payout rule, K+1 credit terms)", perReceipt],
  [`receipt, amortized over a full bundle of ${p.bundleSize}`, amortized],
  ["  of which ReceiptHash", receiptHash],
  ["  of which ReceiptPayout", payout],
  [`bundle, fixed (EdDSA signature, provider leaf update, body record)`, perBundle],
  ["touched account (leaf update, 36-byte body record, credit term)", perAccount],
  ["queue op: deposit or withdrawal (leaf update, queue chain, 16-byte record)", perOp],
  [`leaf update alone (depth ${p.depth})`, update],
  ["SHA-256 per 64-byte block", shaPerBlock],
  [`whole production batch (estimate: ${p.bundles}x${p.bundleSize} receipts, ${p.slots} accounts, ${p.queueOps} ops, ${bodyBlocks} SHA blocks)`, total],
] as const;
// Fixed per batch, measured on the test instance: its whole compiled circuit
// minus the same building blocks at its size.
const t = loadInstance("test").params;
const targs = `${t.feeBits}, ${t.scoreBits}, ${t.protocolBps}, ${t.ownerBps}`;
const testTotal = readManifest("test")?.constraints;
let fixed: number | undefined;
if (testTotal) {
  const tb = constraints("t_bundle", `${lib}/bundle.circom`, `Bundle(${t.depth}, ${t.bundleSize}, ${t.entries}, ${targs})`);
  const ts = constraints("t_slot", `${lib}/credit_slot.circom`, `CreditSlot(${t.depth}, 0)`);
  const to = constraints("t_op", `${lib}/queue_op.circom`, `QueueOp(${t.depth})`);
  const tsha = constraints("t_sha", "node_modules/circomlib/circuits/sha256/sha256.circom", `Sha256(${bodyLength(t) * 8})`);
  const parts = t.bundles * (tb + 136 + t.bundleSize * (t.entries + 1) * logUp) + t.slots * (ts + 288 + logUp) + t.queueOps * (to + 128) + tsha;
  fixed = testTotal - parts;
}
rows.splice(rows.length - 1, 0, ["fixed per batch (gamma, treasury term, final checks; measured on the test instance)", fixed ?? NaN]);

const table = ["| item | constraints |", "|---|---:|", ...rows.map(([k, v]) => `| ${k} | ${Math.round(v).toLocaleString("en-US")} |`)].join("\n");
console.log(`\n${table}`);
writeSection("Constraint budget (npm run bench)", `Production instance: \`${JSON.stringify(p)}\`; circom 2.2.3 --O2.\n\n${table}`);
