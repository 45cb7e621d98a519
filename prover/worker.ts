// A Piscina worker thread: proves batches. The witness calculator (wasm) and
// the verification key are loaded once per thread and reused (and the zkey,
// for snarkjs; the native prover maps it in its own process); every proof is
// verified before it is returned.
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import { artifactPaths } from "../artifacts/paths.js";
import { calculateWitness, proveWitness, terminateCurve, type ProvedBatch, type ProverBackend } from "./groth16.js";

interface Loaded {
  zkeyPath: string;
  zkey?: Uint8Array;
  vkey: unknown;
}
const loaded = new Map<string, Loaded>();

function artifacts(instance: string): Loaded {
  let l = loaded.get(instance);
  if (!l) {
    const a = artifactPaths(instance);
    l = { zkeyPath: a.zkey, vkey: JSON.parse(readFileSync(a.vkey, "utf8")) };
    loaded.set(instance, l);
  }
  return l;
}

export type ProverTask = { kind: "prove"; instance: string; input: Record<string, unknown>; backend: ProverBackend } | { kind: "shutdown" };

export default async function run(task: ProverTask): Promise<(ProvedBatch & { ms: number }) | null> {
  if (task.kind === "shutdown") {
    await terminateCurve();
    return null;
  }
  const t0 = Date.now();
  const cpu0 = threadCpuMs();
  const l = artifacts(task.instance);
  const wtns = await calculateWitness(task.instance, task.input);
  const proved = await proveWitness(l.zkeyPath, wtns, task.backend, () => (l.zkey ??= readFileSync(l.zkeyPath)));
  if (!(await snarkjs.groth16.verify(l.vkey, proved.publicSignals, proved.proof))) throw new Error(`the ${proved.prover} prover's proof does not verify against the verification key`);
  // CPU time: this thread's (witness, verification) and, for the native prover, its process's.
  return { ...proved, ms: Date.now() - t0, ...(proved.cpuMs !== undefined ? { cpuMs: proved.cpuMs + threadCpuMs() - cpu0 } : {}) };
}

/** This thread's CPU time (user + system, 10 ms resolution) from Linux's /proc; 0 elsewhere. */
function threadCpuMs(): number {
  try {
    const f = readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) * 10; // utime, stime in USER_HZ (100) ticks
  } catch {
    return 0;
  }
}
