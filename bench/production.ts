// npm run bench, part: batches of the reference workload proved for real on
// this machine, for every instance that setup has built (the test instance as
// the small size, the production instance as the large one). For each
// instance, three consecutive batches: filled from the workload stream as far
// as the slots and new-account records allow, proved in a child process of
// their own (witness seconds, proving seconds, the prover's peak memory) and
// submitted through submitBatch to the in-process Hardhat chain, whose
// verifier contract checks each proof. `production.proved` is true only when
// that happened for the production instance in this run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Contract } from "ethers";
import hre from "hardhat";
import "@nomicfoundation/hardhat-ethers"; // after hardhat: it needs the Hardhat context
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { loadInstance, type BatchParams } from "../core/params.js";
import { signBundle, type Receipt, type SignedBundle } from "../core/receipt.js";
import { buildBatch, type RollupState } from "../core/rollup.js";
import type { ProvedBatch } from "../prover/groth16.js";
import { artifactPaths, readManifest, ROOT } from "../artifacts/paths.js";
import { deployRollup } from "../ops/deploy.js";
import { readQueue, submitBatch } from "../sequencer/l1.js";
import { REFERENCE, workload, type WorkloadReceipt } from "./lib/workload.js";
import { runMeta, writeResults, writeSection } from "./results.js";
import { median } from "./lib/stats.js";

const OPEN = 10n ** 18n;
const FEE = 10n ** 15n; // 0.001 OPEN per inference
const BATCHES = Number(process.env.POA_BENCH_BATCHES ?? 3);
const contributorAddress = (rank: number) => 0xc0_0000_0000n + BigInt(rank);
const ownerAddress = (rank: number) => 0xb0_0000_0000n + BigInt(rank);

interface BatchRun {
  receipts: number;
  accounts: number; // credited slots used, the treasury included
  newAccounts: number;
  ops: number;
  witnessSeconds: number;
  proveSeconds: number;
  peakMiB: number;
  gas: number;
}

/** Takes receipts from the stream while they fit one batch: bundles, bundle size, slots, new-account records. */
function fill(p: BatchParams, state: RollupState, treasury: bigint, next: () => WorkloadReceipt, putBack: (r: WorkloadReceipt) => void): Map<number, WorkloadReceipt[]> {
  const bundles = new Map<number, WorkloadReceipt[]>();
  const credited = new Set<bigint>([treasury]);
  const opening = new Set<bigint>();
  for (;;) {
    const r = next();
    const mine = bundles.get(r.provider);
    const addrs = [ownerAddress(r.owner), ...r.contributors.map(contributorAddress)];
    const fresh = addrs.filter((a) => state.indexOf(a) === undefined);
    const fits = (mine ? mine.length < p.bundleSize : bundles.size < p.bundles)
      && new Set([...credited, ...addrs]).size <= p.slots && new Set([...opening, ...fresh]).size <= p.newAccounts;
    if (!fits) {
      putBack(r);
      return bundles;
    }
    (mine ?? bundles.set(r.provider, []).get(r.provider)!).push(r);
    addrs.forEach((a) => credited.add(a));
    fresh.forEach((a) => opening.add(a));
  }
}

async function runInstance(instance: string): Promise<{ runs: BatchRun[]; constraints: number } | undefined> {
  const manifest = readManifest(instance);
  if (!manifest?.files.zkey) {
    console.log(`${instance}: not set up (npm run setup -- --config ${instance}); skipped`);
    return undefined;
  }
  const p = loadInstance(instance).params;
  const signers = await hre.ethers.getSigners();
  const [deployer, sequencer] = signers;
  const providers = signers.slice(2, 2 + p.queueOps); // one batch's queue ops deposit them all
  const d = await deployRollup(deployer, { instance, treasury: deployer.address, sequencer: sequencer.address, exitDelay: 10_000 });
  const rollup = d.rollup.connect(sequencer as never) as Contract;
  const domain: bigint = await d.rollup.domain();
  const keys = providers.map((_, i) => Uint8Array.from({ length: 32 }, (_, k) => (k + 7 * i + 1) & 0xff));
  for (const [i, s] of providers.entries()) {
    const pub = await publicKeyOf(keys[i]);
    await (await (d.token.connect(deployer as never) as Contract).transfer(s.address, 1000n * OPEN)).wait();
    await (await (d.token.connect(s as never) as Contract).approve(await d.rollup.getAddress(), 1000n * OPEN)).wait();
    await (await (d.rollup.connect(s as never) as Contract).deposit(1000n * OPEN, pub.ax, pub.ay)).wait();
  }

  // The reference workload with as many providers as have deposited and the instance's K.
  const stream = workload({ ...REFERENCE, providers: providers.length, entries: p.entries });
  let carried: WorkloadReceipt | undefined;
  const next = (): WorkloadReceipt => {
    if (carried) return [carried, (carried = undefined)][0]!;
    for (;;) {
      const e = stream.next().value!;
      if (e.kind === "receipt") return e.receipt; // L1 ops of the stream are left out: the deposits above stand in for them
    }
  };
  let state = d.genesis;
  const dir = mkdtempSync(join(tmpdir(), `poa-bench-${instance}-`));
  const runs: BatchRun[] = [];
  for (let n = 0; n < BATCHES; n++) {
    const ops = (await readQueue(rollup, state.queueConsumed)).slice(0, p.queueOps);
    const afterOps = (await buildBatch(state, { ops, bundles: [] }, domain)).state;
    const chosen = fill(p, afterOps, BigInt(deployer.address), next, (r) => (carried = r));
    const bundles: SignedBundle[] = [];
    for (const [provider, rs] of chosen) {
      const idx = afterOps.indexOf(BigInt(providers[provider].address))!;
      const nonce = afterOps.account(idx).nonce;
      const receipts: Receipt[] = rs.map((r, j) => ({
        providerIdx: idx, owner: ownerAddress(r.owner), fee: FEE, nonce: nonce + BigInt(j), inputHash: BigInt(n * 1000 + j + 1), outputHash: BigInt(n * 1000 + j + 2),
        entries: r.contributors.map((c, k) => ({ contributor: contributorAddress(c), score: BigInt(r.scores[k]) })),
      }));
      bundles.push(await signBundle(keys[provider], receipts, p, domain));
    }
    const batch = await buildBatch(state, { ops, bundles }, domain);
    const inputFile = join(dir, `input-${n}.json`), outFile = join(dir, `proof-${n}.json`);
    writeFileSync(inputFile, JSON.stringify(batch.circuitInput, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
    const child = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "bench", "lib", "prove-child.ts"), instance, inputFile, outFile], { cwd: ROOT, stdio: "inherit", env: { ...process.env, NODE_OPTIONS: "--max-old-space-size=16384" } });
    if (child.status !== 0) throw new Error(`proving batch ${n + 1} of ${instance} failed (${child.status ?? child.signal})`);
    const proved = JSON.parse(readFileSync(outFile, "utf8")) as ProvedBatch & { witnessSeconds: number; proveSeconds: number; peakMiB: number };
    const receipt = await submitBatch(rollup, batch, proved);
    if (BigInt(await d.rollup.stateRoot()) !== batch.state.root) throw new Error(`the contract's root after batch ${n + 1} is not the model's`);
    state = batch.state;
    const run: BatchRun = {
      receipts: bundles.reduce((a, b) => a + b.receipts.length, 0), accounts: batch.decoded.slots.length, newAccounts: batch.decoded.newAddresses.filter((a) => a !== 0n).length,
      ops: ops.length, witnessSeconds: proved.witnessSeconds, proveSeconds: proved.proveSeconds, peakMiB: proved.peakMiB, gas: Number(receipt.gasUsed),
    };
    console.log(`${instance} batch ${n + 1}: ${JSON.stringify(run)}`);
    runs.push(run);
  }
  return { runs, constraints: manifest.constraints };
}

async function main(): Promise<void> {
  await initCrypto();
  await hre.run("compile", { quiet: true });
  const instances = (process.env.POA_BENCH_INSTANCES ?? "test,production").split(",");
  const rows: string[] = [];
  const sizes: Record<string, unknown> = {};
  for (const instance of instances) {
    const r = await runInstance(instance);
    const m = readManifest(instance);
    if (!r || !m) {
      rows.push(`| \`${instance}\` | ${m?.constraints?.toLocaleString("en-US") ?? "—"} | not set up in this run | | | | | | |`);
      continue;
    }
    const receipts = r.runs.reduce((a, x) => a + x.receipts, 0), gas = r.runs.reduce((a, x) => a + x.gas, 0);
    const prove = median(r.runs.map((x) => x.proveSeconds)), witness = median(r.runs.map((x) => x.witnessSeconds));
    const peak = Math.max(...r.runs.map((x) => x.peakMiB));
    const perSecond = receipts / r.runs.reduce((a, x) => a + x.proveSeconds + x.witnessSeconds, 0);
    const zkeyMiB = Math.round(statSync(artifactPaths(instance).zkey).size / 2 ** 20);
    sizes[instance] = {
      constraints: r.constraints, batches: r.runs, proveSeconds: prove, witnessSeconds: witness, proverPeakMiB: peak,
      receiptsPerSecond: perSecond, gasPerReceipt: gas / receipts, zkeyMiB, build: m.build ?? null,
    };
    rows.push(`| \`${instance}\` | ${r.constraints.toLocaleString("en-US")} | ${r.runs.map((x) => `${x.receipts} / ${x.accounts} (${x.newAccounts} new)`).join("; ")} | ${witness.toFixed(1)} | ${prove.toFixed(1)} (${r.runs.map((x) => x.proveSeconds.toFixed(1)).join(", ")}) | ${perSecond.toFixed(3)} | ${peak.toLocaleString("en-US")} | ${r.runs.map((x) => x.gas.toLocaleString("en-US")).join("; ")} | ${Math.round(gas / receipts).toLocaleString("en-US")} |`);
    if (instance === "production") {
      writeResults({ production: { constraints: r.constraints, proved: true, proveSeconds: prove, witnessSeconds: witness, proverPeakMiB: peak, zkeyMiB, receiptsPerSecond: perSecond, gasPerReceipt: gas / receipts, build: m.build ?? null, measured: runMeta() } });
    }
  }
  if (!sizes.production) writeResults({ production: { constraints: readManifest("production")?.constraints ?? null, proved: false, measured: runMeta() } });
  const builds = instances.map((i) => [i, readManifest(i)?.build] as const).filter(([, b]) => b);
  const body = `${BATCHES} consecutive batches per instance, filled from the reference workload (bench/lib/workload.ts: Zipf s = ${REFERENCE.zipf} over ${REFERENCE.contributors.toLocaleString("en-US")} contributors and ${REFERENCE.owners} owners, K = the instance's (${REFERENCE.entries} in production), with one provider per queue op of the instance) until a bundle, slot or new-account record runs out; each proved in a process of its own and verified on-chain by submitBatch (Hardhat). Receipts per second count witness + proving time. ${runMeta().line}

| instance | constraints | receipts / accounts per batch | witness s | prove s, median (runs) | receipts/s | prover peak MiB | submitBatch gas | gas per receipt |
|---|---:|---|---:|---|---:|---:|---|---:|
${rows.join("\n")}
${builds.length ? `\nBuild steps (recorded by setup in each manifest):\n\n| instance | step | seconds | peak MiB | machine, date |\n|---|---|---:|---:|---|\n${builds.flatMap(([i, b]) => Object.entries(b!).map(([k, s]) => `| \`${i}\` | ${k} | ${s.seconds} | ${s.peakMiB.toLocaleString("en-US")} | ${s.machine}, ${s.date.slice(0, 10)} |`)).join("\n")}` : ""}`;
  console.log(body);
  writeSection("Batches proved on this machine (npm run bench)", body);
  writeResults({ sizes });
}

main()
  .then(() => process.exit(0))
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
