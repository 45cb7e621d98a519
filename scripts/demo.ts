// npm start: the whole pipeline on the embedded default — an in-process
// Hardhat chain, the test circuit instance, real proofs:
//   deposit -> signed receipt bundles -> proved batches on L1 -> withdrawal -> claim.
// (The long-running HTTP sequencer arrives with issue 3; this runs the flow once.)
import type { Contract } from "ethers";
import hre from "hardhat";
import "@nomicfoundation/hardhat-ethers"; // after hardhat: it needs the Hardhat context
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { signBundle, contentHash, type Receipt } from "../core/receipt.js";
import { terminateCurve } from "../prover/groth16.js";
import { Operator } from "../sequencer/operator.js";
import { readManifest } from "./lib/artifacts.js";
import { deployRollup } from "./lib/deploy.js";
import { step } from "./lib/progress.js";

const INSTANCE = process.env.POA_INSTANCE ?? "test";
const OPEN = 10n ** 18n;
const fmt = (x: bigint) => `${x / OPEN}.${(x % OPEN).toString().padStart(18, "0").replace(/0+$/, "") || "0"} OPEN`;

async function main(): Promise<void> {
  await initCrypto();
  const manifest = readManifest(INSTANCE);
  if (!manifest?.files.zkey) throw new Error(`instance "${INSTANCE}" is not set up: run npm run setup -- --config ${INSTANCE}`);
  if (manifest.insecure) console.log("⚠ using artifacts from an INSECURE development setup (fine for this local chain only)");

  await step("compile contracts", () => hre.run("compile", { quiet: true }));
  const [deployer, sequencer, providerL1, ownerL1, c1, c2] = await hre.ethers.getSigners();
  const d = await step("deploy OPEN, Poseidon hashers, verifier, AttributionRollup", () =>
    deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: sequencer.address }),
  );
  const rollupAddress = await d.rollup.getAddress();
  console.log(`  rollup ${rollupAddress} on chain ${(await hre.ethers.provider.getNetwork()).chainId}`);
  const op = new Operator(INSTANCE, d.rollup.connect(sequencer as never) as Contract, d.genesis, await d.rollup.domain());

  // An inference provider funds its account and registers its Baby Jubjub key.
  const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 13 + 5) & 0xff);
  const pub = await publicKeyOf(key);
  await (await (d.token.connect(deployer as never) as Contract).transfer(providerL1.address, 100n * OPEN)).wait();
  await (await (d.token.connect(providerL1 as never) as Contract).approve(rollupAddress, 100n * OPEN)).wait();
  await (await (d.rollup.connect(providerL1 as never) as Contract).deposit(100n * OPEN, pub.ax, pub.ay)).wait();
  const b1 = await step("batch 1: the provider's deposit (prove + submit)", () => op.next());
  console.log(`  provider account ${op.state.indexOf(BigInt(providerL1.address))}, gas ${b1.receipt.gasUsed}`);

  // Two inferences, attributed to two contributors, signed as one bundle.
  const providerIdx = op.state.indexOf(BigInt(providerL1.address))!;
  const fees = [3n * OPEN, 2n * OPEN];
  const receipts: Receipt[] = fees.map((fee, j) => ({
    providerIdx,
    owner: BigInt(ownerL1.address),
    fee,
    nonce: BigInt(j),
    inputHash: contentHash(`question ${j}`),
    outputHash: contentHash(`answer ${j}`),
    entries: [{ contributor: BigInt(c1.address), score: 70n }, { contributor: BigInt(c2.address), score: 30n }],
  }));
  const bundle = await signBundle(key, receipts, op.state.params, op.domain);
  const b2 = await step("batch 2: a signed bundle of two receipts (prove + submit)", () => op.next([bundle]));
  console.log(`  gas ${b2.receipt.gasUsed}; credits: ${b2.batch.decoded.slots.map((s) => `${s.address.toString(16).slice(0, 8)}… +${fmt(s.delta)}`).join(", ")}`);

  // Contributor 1 withdraws: request on L1, a batch moves the balance, a claim pays it.
  const c1Idx = op.state.indexOf(BigInt(c1.address))!;
  const expected = fees.reduce<bigint>((a, f) => a + payout(f, [70n, 30n], op.state.params).shares[0], 0n);
  await (await (d.rollup.connect(c1 as never) as Contract).requestWithdrawal(c1Idx)).wait();
  await step("batch 3: contributor 1's withdrawal request (prove + submit)", () => op.next());
  const before = BigInt(await d.token.balanceOf(c1.address));
  await (await (d.rollup.connect(c1 as never) as Contract).claim(c1.address)).wait();
  const received = BigInt(await d.token.balanceOf(c1.address)) - before;
  console.log(`\ncontributor 1 received ${fmt(received)} on L1 (payout rule: ${fmt(expected)}) — ${received === expected ? "exact" : "MISMATCH"}`);
  console.log(`state root ${op.state.root.toString(16).slice(0, 16)}… = contract ${(await d.rollup.stateRoot()).toString(16).slice(0, 16)}…`);
  if (received !== expected) process.exitCode = 1;
}

main()
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(terminateCurve);
