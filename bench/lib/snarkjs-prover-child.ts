// snarkjs proving in a process of its own, warm, as prover/worker.ts calls it
// (the zkey held in memory, loaded once): the parent sends {zkey, wtns} file
// paths and gets back the seconds of each proof; its peak resident set at the
// end is snarkjs's alone.
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";
import { terminateCurve } from "../../prover/groth16.js";

const zkeys = new Map<string, Uint8Array>();
process.on("message", async (m: { zkey: string; wtns: string } | "exit") => {
  if (m === "exit") {
    await terminateCurve();
    process.send!({ peakMiB: Math.round(process.resourceUsage().maxRSS / 1024) }, () => process.exit(0));
    return;
  }
  if (!zkeys.has(m.zkey)) zkeys.set(m.zkey, readFileSync(m.zkey));
  const wtns = readFileSync(m.wtns);
  const t0 = performance.now();
  const { publicSignals } = await snarkjs.groth16.prove({ type: "mem", data: zkeys.get(m.zkey)! } as never, wtns);
  process.send!({ seconds: (performance.now() - t0) / 1000, publicSignals });
});
process.send!("ready");
