// One batch proof in a process of its own, so that its peak memory is the
// prover's alone: witness generation, Groth16 proving with snarkjs (the
// baseline that bench/native-prover.ts compares the native prover against)
// and verification with the instance's artifacts.
//
//   tsx bench/lib/prove-child.ts <instance> <input.json> <out.json>
import { readFileSync, writeFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import { calculateWitness, terminateCurve, verifyBatchProof } from "../../prover/groth16.js";
import { artifactPaths } from "../../artifacts/paths.js";

const [instance, inputFile, outFile] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputFile, "utf8"));
const t0 = performance.now();
const wtns = await calculateWitness(instance, input);
const t1 = performance.now();
const { proof, publicSignals } = await snarkjs.groth16.prove(artifactPaths(instance).zkey, wtns);
const t2 = performance.now();
if (!(await verifyBatchProof(instance, proof, publicSignals))) throw new Error("the proof does not verify against the verification key");
await terminateCurve();
writeFileSync(outFile, JSON.stringify({
  proof, publicSignals,
  witnessSeconds: (t1 - t0) / 1000,
  proveSeconds: (t2 - t1) / 1000,
  // ru_maxrss: the peak resident set of this process, snarkjs's worker threads included.
  peakMiB: Math.round(process.resourceUsage().maxRSS / 1024),
}));
