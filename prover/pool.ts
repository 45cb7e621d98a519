// The prover pool: Piscina worker threads running prover/worker.ts, so that
// proving never blocks the HTTP event loop.
import { Piscina } from "piscina";
import { proverBackend, type ProvedBatch, type ProverBackend } from "./groth16.js";
import type { ProverTask } from "./worker.js";

/** Which proof a request is for: the farm names its queue jobs after it (a restart finds them again). */
export interface ProofJob {
  batch: number;
  /** Unique to this batch's content (deployment, number, new root). */
  key: string;
  /** 1, 2, …: a new attempt after a proof that failed the sequencer's check is a new job. */
  attempt: number;
}

export type ProverResult = ProvedBatch & { ms: number; worker?: string };

export interface Prover {
  /** Batches this prover can work on at once (the sequencer proves up to this many in parallel; default 1). */
  readonly capacity?: number;
  /** The Groth16 prover it runs, where one process decides (a farm's workers each choose their own). */
  readonly backend?: ProverBackend;
  prove(instance: string, input: Record<string, unknown>, job?: ProofJob): Promise<ProverResult>;
  /** Proof jobs waiting and running, where a queue holds them (the farm): the gauge to scale workers on. */
  depth?(): Promise<{ queued: number; active: number }>;
  close(): Promise<void>;
}

export class ProverPool implements Prover {
  private readonly pool: Piscina;

  /**
   * threads: worker threads (each proof itself uses every core; 1 suits a 2-core machine).
   * backend: the prover (default: POA_PROVER, else native).
   */
  constructor(threads = 1, readonly backend: ProverBackend = proverBackend()) {
    this.capacity = threads;
    this.pool = new Piscina({
      filename: new URL("./worker-entry.mjs", import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
    });
  }

  readonly capacity: number;

  async prove(instance: string, input: Record<string, unknown>): Promise<ProverResult> {
    const task: ProverTask = { kind: "prove", instance, input, backend: this.backend };
    return { ...(await this.pool.run(task)), worker: "in-process" };
  }

  /** Ends snarkjs's curve threads inside each worker, then the workers. */
  async close(): Promise<void> {
    const shutdowns = Array.from({ length: this.pool.threads.length }, () => this.pool.run({ kind: "shutdown" } satisfies ProverTask));
    await Promise.allSettled(shutdowns);
    await this.pool.destroy();
  }
}
