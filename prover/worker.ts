// A Piscina worker thread: proves batches. The witness calculator (wasm),
// the zkey and the verification key are loaded once per thread and reused;
// every proof is verified before it is returned.
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import { artifactPaths } from "../scripts/lib/artifacts.js";
import { calculateWitness, terminateCurve, type ProvedBatch } from "./groth16.js";

interface Loaded {
  zkey: { type: "mem"; data: Uint8Array };
  vkey: unknown;
}
const loaded = new Map<string, Loaded>();

function artifacts(instance: string): Loaded {
  let l = loaded.get(instance);
  if (!l) {
    const a = artifactPaths(instance);
    l = { zkey: { type: "mem", data: readFileSync(a.zkey) }, vkey: JSON.parse(readFileSync(a.vkey, "utf8")) };
    loaded.set(instance, l);
  }
  return l;
}

export type ProverTask = { kind: "prove"; instance: string; input: Record<string, unknown> } | { kind: "shutdown" };

export default async function run(task: ProverTask): Promise<(ProvedBatch & { ms: number }) | null> {
  if (task.kind === "shutdown") {
    await terminateCurve();
    return null;
  }
  const t0 = Date.now();
  const { zkey, vkey } = artifacts(task.instance);
  const wtns = await calculateWitness(task.instance, task.input);
  const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, wtns);
  if (!(await snarkjs.groth16.verify(vkey, publicSignals, proof))) throw new Error("the proof does not verify against the verification key");
  return { proof, publicSignals, ms: Date.now() - t0 };
}
