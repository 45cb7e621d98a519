// npm run bench, last part: the cost model of docs/PROTOCOL.md section 9,
// computed from the figures the other parts measured (bench/results.json):
//
//   cost per receipt = gas x gas price x ETH price + core-seconds of proving x core price
//
// on the reference workload (accounts touched per batch size), for the two
// ways of binding the body (SHA-256 in the circuit, or the body as public
// inputs) and two settlement targets. Prices are stated, not measured.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadInstance, recordBytes } from "../core/params.js";
import { ROOT } from "../artifacts/paths.js";
import { runMeta, writeResults, writeSection } from "./results.js";

const PRICES = {
  ethUsd: 3000,
  corePerHourUsd: 0.04, // an on-demand cloud vCPU-hour
  targets: [
    { name: "Ethereum L1", gwei: 5 },
    { name: "a typical L2 (execution gas; blob data fees left out)", gwei: 0.01 },
  ],
};
const GAS = { calldataByte: 16, shaWord: 12, publicInput: 6150 }; // EIP-2028; SHA-256 precompile; ecMul + ecAdd (EIP-1108)
const PROOF_CAPACITY = 2 ** 21; // constraints per proof that this machine sets up and proves (section 9.3)

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const r: any = JSON.parse(readFileSync(join(ROOT, "bench", "results.json"), "utf8"));
const need = (v: unknown, what: string): number => {
  if (typeof v !== "number") throw new Error(`bench/results.json has no ${what}: run the other parts of npm run bench first`);
  return v;
};
const p = loadInstance("production").params;
const rec = recordBytes(p);
const b = r.budget;
const receiptC = need(b?.receiptConstraints, "budget.receiptConstraints");
const bundleC = need(b?.bundleConstraints, "budget.bundleConstraints");
const shaPerByte = need(b?.shaConstraintsPerByte, "budget.shaConstraintsPerByte");
const accountSha = need(b?.touchedAccountConstraints, "budget.touchedAccountConstraints");
const accountPi = need(b?.touchedAccountConstraintsWithoutSha, "budget.touchedAccountConstraintsWithoutSha");
const base = need(r.gas?.submitBatchEmpty, "gas.submitBatchEmpty");
// Proving speed: the native prover's (the default prover). Its production
// proof where bench/native-prover.ts measured one; else its µs per constraint
// on the test instance, applied to production (an extrapolation, said so).
// snarkjs's figure (the production instance's median proof) is kept beside it.
const prod = r.sizes?.production;
const native = r.nativeProver;
const snarkjsSpeed = prod?.proveSeconds && prod?.constraints ? prod.proveSeconds / prod.constraints : 213 / 1_424_646;
const speed = native?.production?.seconds && native.production.constraints
  ? { secPerConstraint: native.production.seconds / native.production.constraints, source: `the native prover's production proof (${native.production.seconds.toFixed(1)} s for ${native.production.constraints.toLocaleString("en-US")} constraints; snarkjs: ${(snarkjsSpeed * 1e6).toFixed(0)} µs per constraint)` }
  : native?.test?.nativeUsPerConstraint
    ? { secPerConstraint: native.test.nativeUsPerConstraint / 1e6, source: `the native prover on the test instance (${native.test.nativeUsPerConstraint} µs per constraint; no production proof of it measured here yet, so production sizes are extrapolated; snarkjs: ${(snarkjsSpeed * 1e6).toFixed(0)} µs per constraint at production size)` }
    : { secPerConstraint: snarkjsSpeed, source: "snarkjs's production proof (no native prover figures in bench/results.json)" };
const secPerConstraint = speed.secPerConstraint;
const cores = 2;

type Mode = "sha256" | "publicInputs";
function perBatch(n: number, accounts: number, mode: Mode) {
  const bundles = Math.ceil(n / p.bundleSize);
  const dataGas = (bytes: number) => bytes * GAS.calldataByte + (mode === "sha256" ? (bytes / 32) * GAS.shaWord : (bytes / 31) * GAS.publicInput);
  const constraints = n * receiptC + bundles * (mode === "sha256" ? bundleC : bundleC - rec.bundle * shaPerByte) + accounts * (mode === "sha256" ? accountSha : accountPi);
  const proofs = Math.ceil(constraints / PROOF_CAPACITY);
  const gas = proofs * base + dataGas(bundles * rec.bundle) + dataGas(accounts * rec.slot);
  return { constraints, proofs, gas, coreSeconds: constraints * secPerConstraint * cores };
}

const touched: Record<string, number> = r.workload?.touchedPerBatch ?? {};
if (!Object.keys(touched).length) throw new Error("bench/results.json has no workload.touchedPerBatch: run bench/workload.ts first");
const usd = (x: number) => (x >= 0.01 ? `$${x.toFixed(3)}` : `$${x.toExponential(2)}`);
const rows: string[] = [];
const model: Record<string, unknown> = {};
for (const [size, accounts] of Object.entries(touched)) {
  const n = Number(size);
  const modes = { sha256: perBatch(n, accounts, "sha256"), publicInputs: perBatch(n, accounts, "publicInputs") };
  const costs = PRICES.targets.map((t) => {
    const c = (m: Mode) => (modes[m].gas * t.gwei * 1e-9 * PRICES.ethUsd + (modes[m].coreSeconds * PRICES.corePerHourUsd) / 3600) / n;
    return { target: t.name, sha256: c("sha256"), publicInputs: c("publicInputs") };
  });
  model[size] = { accounts, ...Object.fromEntries(Object.entries(modes).map(([k, v]) => [k, { ...v, gasPerReceipt: v.gas / n, coreSecondsPerReceipt: v.coreSeconds / n }])), costPerReceiptUsd: costs };
  rows.push(`| ${n} | ${accounts.toLocaleString("en-US")} | ${modes.sha256.proofs} | ${Math.round(modes.sha256.gas / n).toLocaleString("en-US")} / ${Math.round(modes.publicInputs.gas / n).toLocaleString("en-US")} | ${(modes.sha256.coreSeconds / n).toFixed(1)} / ${(modes.publicInputs.coreSeconds / n).toFixed(1)} | ${costs.map((c) => `${usd(c.sha256)} / ${usd(c.publicInputs)} (${c.sha256 <= c.publicInputs ? "SHA-256" : "public inputs"})`).join(" | ")} |`);
}
// Where the two modes cost the same: the gas price at which a byte's extra
// public-input gas equals the proving it saves.
const extraGasPerByte = GAS.publicInput / 31 - GAS.shaWord / 32;
const savedCoreSecondsPerByte = shaPerByte * secPerConstraint * cores;
const breakEvenGwei = ((savedCoreSecondsPerByte * PRICES.corePerHourUsd) / 3600 / (extraGasPerByte * PRICES.ethUsd)) * 1e9;

const body = `Prices (stated, not measured): ETH = $${PRICES.ethUsd}; a core-hour = $${PRICES.corePerHourUsd}; ${PRICES.targets.map((t) => `${t.name}: ${t.gwei} gwei`).join("; ")}. Measured inputs (bench/results.json): constraints per receipt ${receiptC.toLocaleString("en-US")}, per bundle ${Math.round(bundleC).toLocaleString("en-US")}, per touched account ${accountSha.toLocaleString("en-US")} with SHA-256 and ${accountPi.toLocaleString("en-US")} without; SHA-256 ${shaPerByte.toFixed(0)} constraints per byte; proving ${(secPerConstraint * 1e6).toFixed(0)} µs per constraint on ${cores} cores, from ${speed.source}; ${base.toLocaleString("en-US")} gas per proof settled (submitBatch with an empty body, one proof verified). A batch larger than one proof of ${PROOF_CAPACITY.toLocaleString("en-US")} constraints is settled as several proofs, each paying that base. Accounts touched come from the reference workload (bench/workload.ts). ${runMeta().line}

| receipts per batch | accounts touched | proofs (2^21 each) | gas per receipt, SHA-256 / public inputs | core-s per receipt, SHA-256 / public inputs | ${PRICES.targets.map((t) => `$ per receipt on ${t.name}: SHA-256 / public inputs (cheaper)`).join(" | ")} |
|---:|---:|---:|---|---|${PRICES.targets.map(() => "---").join("|")}|
${rows.join("\n")}

Per body byte, public inputs cost ${extraGasPerByte.toFixed(0)} gas more than SHA-256 and save ${shaPerByte.toFixed(0)} constraints (${savedCoreSecondsPerByte.toFixed(3)} core-seconds): the two cost the same at **${breakEvenGwei.toFixed(4)} gwei**. Above it, SHA-256 is cheaper.`;
console.log(body);
writeSection("Cost model (npm run bench)", body);
// The per-unit gas of issue 10's table: an existing account's data (its record
// in calldata and in SHA-256), and that plus its share of one proof's
// verification when a proof holds the production instance's slots.
const accountDataGas = Math.round(rec.slot * GAS.calldataByte + (rec.slot / 32) * GAS.shaWord);
const sizes = Object.keys(model).map(Number);
const largest = String(Math.max(...sizes));
const gasPerReceipt = (n: string) => Math.round((model[n] as { sha256: { gasPerReceipt: number } }).sha256.gasPerReceipt);
writeResults({
  budget: {
    touchedAccountGas: accountDataGas,
    touchedAccountGasWithVerificationShare: Math.round(accountDataGas + base / p.slots),
    newAccountExtraGas: rec.newAccount * GAS.calldataByte,
    receiptGasAmortized: gasPerReceipt(largest),
    receiptGasAmortizedAt: Number(largest),
    receiptGasAmortizedBySize: Object.fromEntries(sizes.map((n) => [n, gasPerReceipt(String(n))])),
    gasMeasured: runMeta(),
  },
});
writeResults({ costModel: { prices: PRICES, gas: GAS, proofCapacity: PROOF_CAPACITY, secondsPerConstraint: secPerConstraint, provingSpeedSource: speed.source, breakEvenGwei, perBatchSize: model, measured: runMeta() } });

// The per-unit table of issue 10, from this run's bench/results.json.
const after = JSON.parse(readFileSync(join(ROOT, "bench", "results.json"), "utf8"));
const B = after.budget;
const fmt = (x: unknown) => (typeof x === "number" ? Math.round(x).toLocaleString("en-US") : "—");
const units: [string, string, unknown, string][] = [
  ["constraints per touched account (leaf update + data-availability record + credit term)", "29,701", B.touchedAccountConstraints, "≤ 8,000"],
  ["  the same with public-input data availability (rejected by the cost model above)", "", B.touchedAccountConstraintsWithoutSha, ""],
  ["constraints per receipt, marginal, K = 8", "2,824", B.receiptConstraints, "≤ 2,000"],
  ["constraints per queue op", "20,667", B.queueOpConstraints, "≤ 9,000"],
  ["L1 gas per touched account: its record's calldata and hashing", "~590", B.touchedAccountGas, "report; ≤ 3,500"],
  ["  with its share of one proof's verification (64 accounts per proof)", "", B.touchedAccountGasWithVerificationShare, ""],
  [`L1 gas per receipt, amortized, reference workload (${fmt(B.receiptGasAmortizedAt)} receipts per settlement, proofs of 2^21)`, "~5,000 (the issue's estimate); ~14,300 by this model with the earlier layout's 29,701 constraints and 590 gas per account", B.receiptGasAmortized, "≤ 1,000"],
  ["claim gas (to a new holder; to an existing holder: " + fmt(B.claimGasHolder) + ")", "59,327", B.claimGas, "≤ 50,000"],
  ["forced exit gas (a proof; the same at any depth)", "~900k (estimate)", B.exitGas, "≤ 500,000"],
];
writeSection("Issue 10 targets, measured (npm run bench)", `${runMeta().line} Sources: the constraint budget, gas and cost model sections of this file.

| unit | before | now | target |
|---|---:|---:|---:|
${units.map(([u, was, now, target]) => `| ${u} | ${was} | ${fmt(now)} | ${target} |`).join("\n")}

Production instance: ${fmt(after.production?.constraints)} constraints, ${after.production?.proved ? `proved in ${after.production.proveSeconds.toFixed(0)} s (median) and verified on-chain` : "compiled; no proof of it in this run (production.proved = false)"}.`);
