// npm run bench: the constraint budget of the production instance, measured by
// compiling each building block at production size (circom --O2, as setup
// does) and composing them the way circuits/batch.circom does. The whole
// instance's count comes from its compiled r1cs when setup has built it.
import { bodyLength, loadInstance, recordBytes } from "../core/params.js";
import { readManifest } from "../artifacts/paths.js";
import { constraints } from "./lib/circom-count.js";
import { runMeta, writeResults, writeSection } from "./results.js";

const p = loadInstance("production").params;

const lib = "circuits/lib";
const sha = "node_modules/circomlib/circuits/sha256/sha256.circom";
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
const sha1 = constraints("sha_1block", sha, "Sha256(440)");
const sha2 = constraints("sha_2blocks", sha, "Sha256(952)");

const shaPerBlock = sha2 - sha1;
const shaPerByte = shaPerBlock / 64;
const rec = recordBytes(p);
const logUp = 2; // CreditSum: one inverse check and one product per term
// Body bits: amounts, deltas and fees are decomposed for the body (96 bits
// each, which also range-checks them); indices reuse LeafUpdate's bits.
const perReceipt = (bundleFull - bundleHalf) / half + (p.entries + 1) * logUp;
const perBundle = bundleFull - p.bundleSize * ((bundleFull - bundleHalf) / half) + 8 + 96 + rec.bundle * shaPerByte;
const amortized = perReceipt + perBundle / p.bundleSize;
const perAccountNoDA = slot + 96 + logUp;
const perAccount = perAccountNoDA + rec.slot * shaPerByte;
const perNewAccount = 160 + 1 + rec.newAccount * shaPerByte; // the published address, on top of the slot
const perOp = op + 96 + rec.op * shaPerByte;
const bodyBlocks = Math.floor((bodyLength(p) * 8 + 64) / 512) + 1;
const estimate = p.bundles * (perBundle + p.bundleSize * perReceipt) + p.slots * perAccount + p.newAccounts * perNewAccount + p.queueOps * perOp
  + (bodyBlocks * 64 - bodyLength(p)) * shaPerByte;
const compiled = readManifest("production")?.constraints;

const rows: [string, number][] = [
  [`receipt, marginal (hash, payout rule, K+1 = ${p.entries + 1} credit terms)`, perReceipt],
  [`receipt, amortized over a full bundle of ${p.bundleSize}`, amortized],
  ["  of which ReceiptHash", receiptHash],
  ["  of which ReceiptPayout", payout],
  [`bundle, fixed (EdDSA signature, provider leaf update, ${rec.bundle}-byte body record)`, perBundle],
  [`touched account (leaf update, ${rec.slot}-byte body record, credit term)`, perAccount],
  ["  the same without the SHA-256 of its record (public-input data availability)", perAccountNoDA],
  [`new account, on top (its ${rec.newAccount}-byte address in the body)`, perNewAccount],
  [`queue op: deposit or withdrawal (leaf update, queue chain, ${rec.op}-byte record)`, perOp],
  [`leaf update alone (${p.depth} levels of the 4-ary tree: ${(4 ** p.depth).toLocaleString("en-US")} leaves)`, update],
  ["SHA-256 per 64-byte block", shaPerBlock],
  [`whole production batch, composed (${p.bundles}x${p.bundleSize} receipts, ${p.slots} slots, ${p.newAccounts} new, ${p.queueOps} ops, ${bodyBlocks} SHA blocks)`, estimate],
];
if (compiled) rows.push(["whole production batch, compiled (setup's r1cs)", compiled]);

const table = ["| item | constraints |", "|---|---:|", ...rows.map(([k, v]) => `| ${k} | ${Math.round(v).toLocaleString("en-US")} |`)].join("\n");
console.log(`\n${table}`);
writeSection("Constraint budget (npm run bench)", `Production instance: \`${JSON.stringify(p)}\`; circom 2.2.3 --O2. ${runMeta().line}\n\n${table}`);
writeResults({
  budget: {
    touchedAccountConstraints: Math.round(perAccount),
    touchedAccountConstraintsWithoutSha: Math.round(perAccountNoDA),
    newAccountConstraints: Math.round(perNewAccount),
    receiptConstraints: Math.round(perReceipt),
    receiptConstraintsAmortized: Math.round(amortized),
    bundleConstraints: Math.round(perBundle),
    queueOpConstraints: Math.round(perOp),
    leafUpdateConstraints: update,
    shaConstraintsPerByte: shaPerByte,
    productionComposed: Math.round(estimate),
    productionCompiled: compiled ?? null,
    constraintsMeasured: runMeta(),
  },
});
