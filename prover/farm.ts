// The prover farm: batch proofs as jobs in a PostgreSQL queue (pg-boss), taken
// by `poa prover` processes on any host. pg-boss was chosen over
// graphile-worker because its jobs carry leases: a queue with heartbeatSeconds
// expects each worker to touch its job while it proves, and a job whose worker
// stopped touching it (SIGKILL, a lost host, a hung process) is failed and
// retried by whichever worker asks next, up to retryLimit. It also keeps a
// job's output in its row, which is how a proof comes back, and needs no
// server beyond PostgreSQL (BullMQ would add Redis).
//
// The sequencer side (FarmProver) never trusts a worker: the sequencer checks
// every returned proof against its own public inputs (sequencer.ts) and asks
// for a new attempt when one fails. Job ids are derived from the batch, so a
// sequencer that restarts finds the job it had queued instead of queueing it
// twice.
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { PgBoss, type Job } from "pg-boss";
import { artifactPaths, fileHash, readManifest } from "../artifacts/paths.js";
import { PROVER_BACKENDS, proverBackend, WITNESS_FAILED, type ProvedBatch, type ProverBackend } from "./groth16.js";
import type { Prover, ProofJob, ProverResult } from "./pool.js";
import { ProverPool } from "./pool.js";

export const PROVE_QUEUE = "poa-prove";

export interface FarmOptions {
  /** A worker that does not touch its job for this long loses its lease (≥ 10, pg-boss's floor). */
  leaseSeconds?: number;
  /** A job active longer than this is failed, however alive its worker (default 1 h). */
  maxProvingSeconds?: number;
  /** Tries per job (a lost lease or a prover error each use one). */
  attempts?: number;
  /** Batches the sequencer lets the farm prove at once. */
  parallel?: number;
  pollMs?: number;
}

/** What a job asks for: the instance, its artifacts' hashes (a worker with others refuses), the input. */
export interface ProveJobData {
  instance: string;
  batch: number;
  attempt: number;
  artifacts: ArtifactHashes;
  input: Record<string, unknown>;
}

export interface ProveJobOutput extends ProvedBatch {
  ms: number;
  worker: string;
}

export type ArtifactHashes = { zkey: string; wasm: string; vkey: string };

/** The sha256 of the proving artifacts as the instance's manifest records them. */
export function manifestHashes(instance: string): ArtifactHashes {
  const m = readManifest(instance);
  const h = (k: string) => {
    const v = m?.files[k]?.sha256;
    if (!v) throw new Error(`instance ${instance} has no ${k} hash in its manifest: run npm run setup -- --config ${instance}`);
    return v;
  };
  return { zkey: h("zkey"), wasm: h("wasm"), vkey: h("vkey") };
}

/** The artifacts on this host, hashed now, checked against the manifest; names the first that differs. */
export async function checkArtifacts(instance: string): Promise<ArtifactHashes> {
  const want = manifestHashes(instance);
  const a = artifactPaths(instance);
  for (const [k, path] of [["zkey", a.zkey], ["wasm", a.wasm], ["vkey", a.vkey]] as const) {
    const got = await fileHash(path, "sha256").catch(() => "(missing)");
    if (got !== want[k]) throw new Error(`${k} of instance ${instance} at ${path} has sha256 ${got}, its manifest says ${want[k]}: rebuild with npm run setup -- --config ${instance}`);
  }
  return want;
}

/** A UUID that names one attempt at one batch, the same after a restart. */
export function jobId(key: string, attempt: number): string {
  const h = createHash("sha256").update(`${key}#${attempt}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const jsonInput = (input: Record<string, unknown>) => JSON.parse(JSON.stringify(input, (_, v) => (typeof v === "bigint" ? v.toString() : v)));

async function openBoss(url: string, o: FarmOptions, role: "sequencer" | "worker"): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, application_name: `poa-${role}`, max: 4, superviseIntervalSeconds: 5, monitorIntervalSeconds: 5 } as never);
  boss.on("error", (e: Error) => console.error(`prover farm (${role}): ${e.message}`));
  await boss.start();
  // Idempotent: the first process on a database creates the queue; later ones find it.
  if (!(await boss.getQueue(PROVE_QUEUE))) {
    await boss
      .createQueue(PROVE_QUEUE, {
        heartbeatSeconds: Math.max(10, o.leaseSeconds ?? 30),
        expireInSeconds: o.maxProvingSeconds ?? 3600,
        retryLimit: Math.max(0, (o.attempts ?? 3) - 1),
        retryDelay: 0,
        deleteAfterSeconds: 7 * 24 * 3600,
      })
      .catch(async (e) => {
        if (!(await boss.getQueue(PROVE_QUEUE))) throw e; // lost a race with another process: fine
      });
  }
  return boss;
}

/** The sequencer's side: queue a batch's proof, wait for a worker's answer. */
export class FarmProver implements Prover {
  readonly capacity: number;
  private closed = false;

  private constructor(private readonly boss: PgBoss, private readonly o: FarmOptions) {
    this.capacity = o.parallel ?? 4;
  }

  static async open(url: string, o: FarmOptions = {}): Promise<FarmProver> {
    return new FarmProver(await openBoss(url, o, "sequencer"), o);
  }

  async prove(instance: string, input: Record<string, unknown>, job?: ProofJob): Promise<ProverResult> {
    if (!job) throw new Error("the prover farm needs the batch a proof is for");
    const id = jobId(job.key, job.attempt);
    const data: ProveJobData = { instance, batch: job.batch, attempt: job.attempt, artifacts: manifestHashes(instance), input: jsonInput(input) };
    // Sent once: after a restart the same id finds the job already queued (send returns null).
    await this.boss.send(PROVE_QUEUE, data as never, { id });
    for (;;) {
      if (this.closed) throw new Error("the prover farm client was closed");
      const j = await this.boss.getJobById<ProveJobData>(PROVE_QUEUE, id);
      if (!j) throw new Error(`proof job ${id} for batch ${job.batch} vanished from the queue`);
      if (j.state === "completed") {
        const out = j.output as ProveJobOutput & { refused?: string };
        if (out.refused) throw Object.assign(new Error(out.refused), { worker: out.worker }); // the sequencer checks this claim itself
        // Which prover the worker says it ran: shown, never trusted (the sequencer verifies the proof).
        const prover = (PROVER_BACKENDS as readonly string[]).includes(out.prover) ? out.prover : "snarkjs";
        // Its CPU time likewise: a number or nothing.
        const cpuMs = typeof out.cpuMs === "number" && Number.isFinite(out.cpuMs) && out.cpuMs >= 0 ? out.cpuMs : undefined;
        return { proof: out.proof, publicSignals: out.publicSignals, prover, ms: out.ms, worker: out.worker, ...(cpuMs !== undefined ? { cpuMs } : {}) };
      }
      if (j.state === "failed" || j.state === "cancelled") {
        const why = (j.output as { message?: string } | null)?.message ?? JSON.stringify(j.output);
        throw new Error(`proof job for batch ${job.batch} ${j.state} after ${j.retryCount + 1} tries: ${why}`);
      }
      await new Promise((r) => setTimeout(r, this.o.pollMs ?? 250));
    }
  }

  /** Jobs waiting and running (the farm's depth, for scaling and /healthz). */
  async depth(): Promise<{ queued: number; active: number }> {
    // Counted from the job table: pg-boss's own queue counts are a cache its monitor refreshes.
    const { rows } = await this.boss.getDb().executeSql(
      "SELECT state, count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry', 'active') GROUP BY state",
      [PROVE_QUEUE],
    );
    const n = (state: string) => rows.find((r) => r.state === state)?.n ?? 0;
    return { queued: n("created") + n("retry"), active: n("active") };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.boss.stop({ graceful: false, close: true });
  }
}

export interface FarmWorker {
  name: string;
  proved: number;
  stop(): Promise<void>;
}

/**
 * A prover worker (`poa prover`): takes one job at a time, checks that it asks for the artifacts
 * this host holds, proves on the same Piscina worker as the in-process pool (the event loop stays
 * free to keep the lease), and returns the proof as the job's output.
 */
export async function runFarmWorker(url: string, instances: string[], o: FarmOptions & { name?: string; fault?: string; prover?: ProverBackend; log?: (line: string) => void } = {}): Promise<FarmWorker> {
  const name = o.name ?? `${hostname()}:${process.pid}`;
  if (o.fault && o.fault !== "wrong-proof" && !/^slow:\d+$/.test(o.fault)) throw new Error(`unknown fault ${o.fault}: wrong-proof or slow:<ms>`);
  const log = o.log ?? ((l: string) => console.log(l));
  const have = new Map<string, ArtifactHashes>();
  for (const i of instances) have.set(i, await checkArtifacts(i));
  const pool = new ProverPool(1, o.prover ?? proverBackend());
  const boss = await openBoss(url, o, "worker");
  const w: FarmWorker = {
    name,
    proved: 0,
    async stop() {
      await boss.stop({ graceful: false, close: true });
      await pool.close();
    },
  };
  await boss.work<ProveJobData, ProveJobOutput>(PROVE_QUEUE, { batchSize: 1, pollingIntervalSeconds: (o.pollMs ?? 500) / 1000 } as never, async (jobs: Job<ProveJobData>[]) => {
    const { data } = jobs[0];
    const mine = have.get(data.instance);
    if (!mine) throw new Error(`worker ${name} holds no artifacts for instance ${data.instance} (it proves ${instances.join(", ")})`);
    for (const k of ["zkey", "wasm", "vkey"] as const) {
      if (mine[k] !== data.artifacts[k]) throw new Error(`worker ${name}: the job wants ${k} ${data.artifacts[k].slice(0, 12)}…, this host has ${mine[k].slice(0, 12)}…`);
    }
    log(`worker ${name}: proving batch ${data.batch} (attempt ${data.attempt})`);
    const slow = /^slow:(\d+)$/.exec(o.fault ?? "");
    if (slow) await new Promise((r) => setTimeout(r, Number(slow[1]))); // fault injection (tests): a slow host
    let r: Awaited<ReturnType<ProverPool["prove"]>>;
    try {
      r = await pool.prove(data.instance, data.input);
    } catch (e) {
      // The circuit refuses the input: another worker would too, so the job ends here with the reason
      // (the sequencer takes the batch apart), instead of failing into a retry.
      const message = (e as Error).message;
      if (message.startsWith(WITNESS_FAILED)) return { refused: message, worker: name } as never;
      throw e;
    }
    if (o.fault === "wrong-proof") r.proof.pi_a[0] = (BigInt(r.proof.pi_a[0]) + 1n).toString(); // fault injection (tests): a proof that cannot verify
    w.proved++;
    log(`worker ${name}: proved batch ${data.batch} in ${r.ms} ms (${r.prover})`);
    return { proof: r.proof, publicSignals: r.publicSignals, prover: r.prover, ms: r.ms, worker: name, ...(r.cpuMs !== undefined ? { cpuMs: r.cpuMs } : {}) };
  });
  return w;
}
