// Writes an INSECURE development powers-of-tau file, prepared for phase 2, in
// minutes: tau, alpha and beta are drawn here, so every point is a known
// scalar times a generator (plan.ts), computed by fixed-base multiplication
// (fixed-base.ts) on worker threads. The secrets exist only in this process
// and its workers while the file is made; whoever runs this could keep them,
// which is why the result is for development only.
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { buildBn128Code } from "./bn128.js";
import type { WindowBits } from "./fixed-base.js";
import { CHUNK, planPtau, type PlannedJob, type Secrets } from "./plan.js";
import { mod } from "./scalars.js";
import type { PointJob, PointResult, WorkerSetup } from "./worker.js";

export interface DevPtauOptions {
  threads?: number;
  /** Called about once a second with the share of the work done (0..1). */
  onProgress?: (done: number, elapsedMs: number) => void;
  /** Tests only: fixed secrets instead of fresh randomness. */
  secrets?: Secrets;
  /** Tests only: the fixed-base window (default: 16 bits above 2^12 points, else 8). */
  windowBits?: WindowBits;
}

export interface DevPtauResult {
  path: string;
  power: number;
  bytes: number;
  seconds: number;
  threads: number;
}

/** A uniformly random nonzero scalar (512 random bits reduced mod r). */
function randomScalar(): bigint {
  for (;;) {
    const x = mod(BigInt(`0x${randomBytes(64).toString("hex")}`));
    if (x !== 0n) return x;
  }
}

/** No contribution records: the file is not the output of a ceremony, and says so in its name. */
const NO_CONTRIBUTIONS = new Uint8Array(4);

// G2 multiplications cost ~3.5 G1 ones; progress and ETA weigh them so.
const weight = (j: { group: string; n: number }) => j.n * (j.group === "G2" ? 3.5 : 1);

export async function writeDevPtau(path: string, power: number, opts: DevPtauOptions = {}): Promise<DevPtauResult> {
  const t0 = Date.now();
  const plan = planPtau(power, opts.secrets ?? { tau: randomScalar(), alpha: randomScalar(), beta: randomScalar() }, NO_CONTRIBUTIONS);
  const threads = Math.max(1, opts.threads ?? availableParallelism());
  const tmp = `${path}.partial`;
  const file = await open(tmp, "w");
  const workers: Worker[] = [];
  try {
    await file.truncate(plan.size);
    for (const f of plan.fixed) await file.write(f.bytes, 0, f.bytes.length, f.offset);

    // Big tables pay for their ~5 s build only when there are many points.
    const setup: WorkerSetup = { code: buildBn128Code(), maxChunk: Math.max(CHUNK.G1, CHUNK.G2), windowBits: opts.windowBits ?? (power > 12 ? 16 : 8) };
    const total = plan.jobs.reduce((a, j) => a + weight(j), 0);
    let done = 0;
    const progress = setInterval(() => opts.onProgress?.(done / total, Date.now() - t0), 1000);
    progress.unref();
    try {
      const queue = plan.jobs.map((j, id) => ({ ...j, id }));
      // Every loop stops taking jobs after the first failure, and all are awaited before the file closes.
      let failed = false;
      const loops = await Promise.allSettled(
        Array.from({ length: threads }, async () => {
          const w = new Worker(new URL("./worker-entry.mjs", import.meta.url), { workerData: setup });
          workers.push(w);
          try {
            await once(w, (m) => m === "ready");
            for (let job = queue.shift(); job && !failed; job = queue.shift()) {
              const r = await run(w, job);
              await file.write(r.points, 0, r.points.length, job.offset);
              done += weight(job);
            }
          } catch (e) {
            failed = true;
            throw e;
          }
        }),
      );
      const error = loops.find((l): l is PromiseRejectedResult => l.status === "rejected");
      if (error) throw error.reason;
    } finally {
      clearInterval(progress);
    }
    opts.onProgress?.(1, Date.now() - t0);
    await file.sync();
    await file.close();
    await rename(tmp, path);
  } catch (e) {
    await file.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return { path, power, bytes: plan.size, seconds: (Date.now() - t0) / 1000, threads };
}

function once(w: Worker, accept: (m: unknown) => boolean): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (!accept(m)) return;
      cleanup();
      resolve(m);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`dev-ptau worker exited (${code})`));
    };
    const cleanup = () => {
      w.off("message", onMessage);
      w.off("error", onError);
      w.off("exit", onExit);
    };
    w.on("message", onMessage);
    w.on("error", onError);
    w.on("exit", onExit);
  });
}

async function run(w: Worker, job: PlannedJob & { id: number }): Promise<PointResult> {
  const msg: PointJob = { id: job.id, group: job.group, n: job.n, scalars: job.scalars };
  const reply = once(w, (m) => (m as PointResult)?.id === job.id);
  w.postMessage(msg);
  return (await reply) as PointResult;
}
