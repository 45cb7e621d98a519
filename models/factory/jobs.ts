// Fine-tuning jobs: persisted in the service's SQLite store, run one at a time
// (by default) on a worker thread each.
//
//   queued → running → evaluating → done
//                  ↘ failed | cancelled
//   running/evaluating at a crash or shutdown → interrupted → (resume) queued
//
// A job's directory holds its checkpoint; a resumed job continues from it and
// ends with the same weights as an uninterrupted run (lora-job.ts). Every step's
// loss is stored, so the page can redraw the whole curve after a restart.
import type Database from "better-sqlite3";
import { EventEmitter } from "node:events";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { ContentStore } from "../../attribution/datanet/store.js";
import type { JobOutcome } from "./lora-job.js";
import type { JobSpec } from "./spec.js";
import type { TrainingSnapshot } from "./training-set.js";
import type { JobWorkerData, WorkerMessage } from "./worker.js";

export const JOB_STATES = ["queued", "running", "evaluating", "done", "failed", "cancelled", "interrupted"] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface Job {
  id: number;
  name: string;
  method: JobSpec["method"];
  owner: string;
  spec: JobSpec;
  snapshot: TrainingSnapshot;
  state: JobState;
  step: number;
  steps: number | null;
  /** The step of the last checkpoint on disk (0: none). */
  checkpointStep: number;
  error: string | null;
  outcome: JobOutcome | null;
  modelId: number | null;
  publishTx: string | null;
  /**
   * The ModelRegistry commitment the service made for the owner when the job finished (commitmentOf(artifact,
   * owner, salt)): until it is on L1 the artifact hash is not shown, so no one can commit to it earlier.
   */
  commitment: { salt: string; block: number } | null;
  createdAt: number;
  updatedAt: number;
}

export interface ProgressPoint {
  step: number;
  loss: number;
  lr: number;
  at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS model_jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  method TEXT NOT NULL,
  owner TEXT NOT NULL,
  spec TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'evaluating', 'done', 'failed', 'cancelled', 'interrupted')),
  step INTEGER NOT NULL DEFAULT 0,
  steps INTEGER,
  checkpoint_step INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  outcome TEXT,
  model_id INTEGER,
  publish_tx TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS model_jobs_state ON model_jobs (state);
CREATE TABLE IF NOT EXISTS model_job_progress (
  job_id INTEGER NOT NULL REFERENCES model_jobs (id),
  step INTEGER NOT NULL,
  loss REAL,
  lr REAL NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (job_id, step)
);
CREATE TABLE IF NOT EXISTS model_job_commitments (
  job_id INTEGER PRIMARY KEY REFERENCES model_jobs (id),
  salt TEXT NOT NULL,
  block INTEGER NOT NULL
);
`;

type Row = Record<string, unknown>;

/** How often a running job's progress points are written (one transaction each time). */
const PROGRESS_FLUSH_MS = 250;

const SELECT_JOBS = "SELECT j.*, c.salt AS commit_salt, c.block AS commit_block FROM model_jobs j LEFT JOIN model_job_commitments c ON c.job_id = j.id";

function toJob(r: Row): Job {
  return {
    id: Number(r.id),
    name: String(r.name),
    method: r.method as Job["method"],
    owner: String(r.owner),
    spec: JSON.parse(String(r.spec)),
    snapshot: JSON.parse(String(r.snapshot)),
    state: r.state as JobState,
    step: Number(r.step),
    steps: r.steps === null ? null : Number(r.steps),
    checkpointStep: Number(r.checkpoint_step),
    error: (r.error as string | null) ?? null,
    outcome: r.outcome ? JSON.parse(String(r.outcome)) : null,
    modelId: r.model_id === null ? null : Number(r.model_id),
    publishTx: (r.publish_tx as string | null) ?? null,
    commitment: r.commit_salt ? { salt: String(r.commit_salt), block: Number(r.commit_block) } : null,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The job cannot do what was asked in its present state (the API answers 409). */
export class JobStateError extends Error {}

/** No job has this id (the API answers 404). */
export class JobNotFoundError extends Error {}

export interface JobManagerOptions {
  /** Job directories live under <dir>/<id>/. */
  dir: string;
  /** The content-addressed store: training contents are read from it, finished artifacts go into it. */
  contentDir: string;
  /** Cache of presets without committed weights (default build/). */
  buildDir?: string;
  /** Jobs that run at once (default 1: a job uses a whole core). */
  concurrency?: number;
}

export class JobManager extends EventEmitter {
  private readonly running = new Map<number, { worker: Worker; cancel: Int32Array }>();
  private readonly store: ContentStore;
  private closed = false;

  constructor(private readonly db: Database.Database, private readonly o: JobManagerOptions) {
    super();
    db.exec(SCHEMA);
    mkdirSync(o.dir, { recursive: true });
    this.store = new ContentStore(o.contentDir);
    // Jobs that were running when the service stopped wait for someone to resume them.
    db.prepare("UPDATE model_jobs SET state = 'interrupted', updated_at = ? WHERE state IN ('running', 'evaluating')").run(Date.now());
  }

  /** Starts queued jobs (call once the service is up). */
  start(): void {
    this.schedule();
  }

  create(spec: JobSpec, snapshot: TrainingSnapshot): Job {
    const now = Date.now();
    const r = this.db
      .prepare("INSERT INTO model_jobs (name, method, owner, spec, snapshot, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)")
      .run(spec.name, spec.method, spec.owner.toLowerCase(), JSON.stringify(spec), JSON.stringify(snapshot), now, now);
    const job = this.get(Number(r.lastInsertRowid))!;
    this.emit("update", job);
    this.schedule();
    return job;
  }

  get(id: number): Job | undefined {
    const r = this.db.prepare(`${SELECT_JOBS} WHERE j.id = ?`).get(id) as Row | undefined;
    return r ? toJob(r) : undefined;
  }

  list(): Job[] {
    return (this.db.prepare(`${SELECT_JOBS} ORDER BY j.id DESC`).all() as Row[]).map(toJob);
  }

  progress(id: number): ProgressPoint[] {
    return (this.db.prepare("SELECT step, loss, lr, at FROM model_job_progress WHERE job_id = ? ORDER BY step").all(id) as ProgressPoint[]).map((p) => ({ ...p, loss: p.loss ?? NaN }));
  }

  /** Stops a queued, running or interrupted job; a running one stops before its next step. */
  cancel(id: number): Job {
    const job = this.mustGet(id);
    if (job.state === "queued" || job.state === "interrupted") return this.update(id, { state: "cancelled" });
    const r = this.running.get(id);
    if (!r) throw new JobStateError(`job ${id} is ${job.state}; only a queued, running or interrupted job can be cancelled`);
    Atomics.store(r.cancel, 0, 1);
    return job;
  }

  /** Queues an interrupted (or failed) job again; it continues from its last checkpoint. */
  resume(id: number): Job {
    const job = this.mustGet(id);
    if (job.state !== "interrupted" && job.state !== "failed") throw new JobStateError(`job ${id} is ${job.state}; only an interrupted or failed job can be resumed`);
    const updated = this.update(id, { state: "queued", error: null });
    this.schedule();
    return updated;
  }

  /** Records the ModelRegistry commitment made for the job's owner (its salt, and the block it was mined in). */
  setCommitment(id: number, salt: string, block: number): Job {
    this.db.prepare("INSERT INTO model_job_commitments (job_id, salt, block) VALUES (?, ?, ?) ON CONFLICT (job_id) DO NOTHING").run(id, salt, block);
    const job = this.mustGet(id);
    this.emit("update", job);
    return job;
  }

  setPublished(id: number, modelId: number, txHash: string | null): Job {
    return this.update(id, { model_id: modelId, publish_tx: txHash });
  }

  /** The finished artifact's bytes, from the content store (checked against their hash). */
  artifact(job: Job): Buffer {
    if (!job.outcome) throw new JobStateError(`job ${job.id} is ${job.state}; it has no artifact yet`);
    return this.store.get(job.outcome.artifactHash);
  }

  dirOf(id: number): string {
    return join(this.o.dir, String(id));
  }

  /** Stops every worker; their jobs become interrupted and resume from their checkpoints later. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.running].map(async ([id, r]) => {
      this.running.delete(id);
      await r.worker.terminate();
      this.update(id, { state: "interrupted" });
    });
    await Promise.all(workers);
  }

  private mustGet(id: number): Job {
    const job = this.get(id);
    if (!job) throw new JobNotFoundError(`job ${id} does not exist`);
    return job;
  }

  private update(id: number, fields: Record<string, unknown>): Job {
    const keys = Object.keys(fields);
    this.db.prepare(`UPDATE model_jobs SET ${keys.map((k) => `${k} = ?`).join(", ")}, updated_at = ? WHERE id = ?`).run(...keys.map((k) => fields[k] as never), Date.now(), id);
    const job = this.get(id)!;
    this.emit("update", job);
    return job;
  }

  private schedule(): void {
    if (this.closed) return;
    const limit = this.o.concurrency ?? 1;
    while (this.running.size < limit) {
      const next = this.db.prepare("SELECT * FROM model_jobs WHERE state = 'queued' ORDER BY id LIMIT 1").get() as Row | undefined;
      if (!next) return;
      this.run(toJob(next));
    }
  }

  private run(job: Job): void {
    const dir = this.dirOf(job.id);
    mkdirSync(dir, { recursive: true });
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const data: JobWorkerData = { dir, spec: job.spec, snapshot: job.snapshot, contentDir: this.o.contentDir, cancel, buildDir: this.o.buildDir };
    const worker = new Worker(new URL("./worker-entry.mjs", import.meta.url), { workerData: data });
    this.running.set(job.id, { worker, cancel });
    // Steps after the last checkpoint are recomputed, identically, by the resumed run.
    this.db.prepare("DELETE FROM model_job_progress WHERE job_id = ? AND step > ?").run(job.id, job.checkpointStep);
    this.update(job.id, { state: "running", error: null, step: job.checkpointStep });
    let settled = false;
    let flushPending = () => {};
    const finish = (fields: Record<string, unknown>) => {
      if (settled) return;
      flushPending();
      settled = true;
      this.running.delete(job.id);
      this.update(job.id, fields);
      void worker.terminate();
      this.schedule();
    };
    const insert = this.db.prepare("INSERT OR REPLACE INTO model_job_progress (job_id, step, loss, lr, at) VALUES (?, ?, ?, ?, ?)");
    const setStep = this.db.prepare("UPDATE model_jobs SET step = ?, steps = ?, updated_at = ? WHERE id = ?");
    // Progress is written in one transaction every PROGRESS_FLUSH_MS, not one per step: the database shares the
    // API's thread (and the sequencer's fsyncs), and a small model trains hundreds of steps a second.
    let buffered: { step: number; steps: number; loss: number | null; lr: number; at: number }[] = [];
    const flushProgress = this.db.transaction(() => {
      for (const p of buffered) insert.run(job.id, p.step, p.loss, p.lr, p.at);
      const last = buffered.at(-1);
      if (last) setStep.run(last.step, last.steps, last.at, job.id);
      buffered = [];
    });
    flushPending = () => void (buffered.length && flushProgress());
    const flusher = setInterval(flushPending, PROGRESS_FLUSH_MS);
    flusher.unref();
    worker.on("exit", () => clearInterval(flusher));
    worker.on("message", (m: WorkerMessage) => {
      if (settled) return;
      if (m.type !== "progress" && buffered.length) flushProgress(); // a checkpoint or a state change follows every step before it
      if (m.type === "progress") {
        const at = Date.now();
        buffered.push({ step: m.step, steps: m.steps, loss: Number.isFinite(m.loss) ? m.loss : null, lr: m.lr, at });
        this.emit("progress", job.id, { step: m.step, steps: m.steps, loss: m.loss, lr: m.lr, tokensPerSecond: m.tokensPerSecond, at });
      } else if (m.type === "checkpoint") {
        this.update(job.id, { checkpoint_step: m.step });
      } else if (m.type === "phase") {
        this.update(job.id, { state: m.phase });
      } else if (m.type === "done") {
        const bytes = readFileSync(m.outcome.artifactPath);
        const hash = this.store.put(bytes);
        // The configuration's bytes too: served by /v1/models/{id}/config, checked by the registered configHash.
        const configHash = this.store.put(readFileSync(join(dir, "config.json")));
        if (hash !== m.outcome.artifactHash) finish({ state: "failed", error: `artifact ${m.outcome.artifactPath} hashes to ${hash}, the job reported ${m.outcome.artifactHash}` });
        else if (configHash !== m.outcome.configHash) finish({ state: "failed", error: `config.json hashes to ${configHash}, the job reported ${m.outcome.configHash}` });
        else finish({ state: "done", outcome: JSON.stringify(m.outcome) });
      } else if (m.type === "cancelled") {
        finish({ state: "cancelled" });
      } else if (m.type === "failed") {
        finish({ state: "failed", error: m.error });
      }
    });
    worker.on("error", (e) => finish({ state: "failed", error: `worker error: ${e.message}` }));
    worker.on("exit", (code) => {
      if (!this.closed) finish({ state: "failed", error: `the job's worker exited with code ${code} before finishing` });
    });
  }
}
