// The prover pool: Piscina worker threads running prover/worker.ts, so that
// proving never blocks the HTTP event loop.
import { Piscina } from "piscina";
import type { ProvedBatch } from "./groth16.js";
import type { ProverTask } from "./worker.js";

export interface Prover {
  prove(instance: string, input: Record<string, unknown>): Promise<ProvedBatch & { ms: number }>;
  close(): Promise<void>;
}

export class ProverPool implements Prover {
  private readonly pool: Piscina;

  /** threads: worker threads (snarkjs itself uses several cores per proof; 1 suits a 2-core machine). */
  constructor(threads = 1) {
    this.pool = new Piscina({
      filename: new URL("./worker-entry.mjs", import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
    });
  }

  async prove(instance: string, input: Record<string, unknown>): Promise<ProvedBatch & { ms: number }> {
    const task: ProverTask = { kind: "prove", instance, input };
    return this.pool.run(task);
  }

  /** Ends snarkjs's curve threads inside each worker, then the workers. */
  async close(): Promise<void> {
    const shutdowns = Array.from({ length: this.pool.threads.length }, () => this.pool.run({ kind: "shutdown" } satisfies ProverTask));
    await Promise.allSettled(shutdowns);
    await this.pool.destroy();
  }
}
