// The job worker thread: runs one fine-tuning job synchronously (training is
// CPU-bound and would stall the service's event loop) and posts its events.
// Cancellation arrives through a shared flag read between steps.
import { parentPort, workerData } from "node:worker_threads";
import { ContentStore } from "../../attribution/datanet/store.js";
import { ensureBaseModel } from "../base-model.js";
import { runClassifierJob } from "./classifier-job.js";
import { JobCancelled, runLoraJob, type JobEvent, type JobOutcome } from "./lora-job.js";
import type { JobSpec } from "./spec.js";
import type { TrainingSnapshot } from "./training-set.js";

export interface JobWorkerData {
  dir: string;
  spec: JobSpec;
  snapshot: TrainingSnapshot;
  contentDir: string;
  /** Int32Array over a SharedArrayBuffer: [0] = 1 asks the job to stop. */
  cancel: Int32Array;
  /** Where presets without committed weights are cached (default build/). */
  buildDir?: string;
}

export type WorkerMessage = JobEvent | { type: "done"; outcome: JobOutcome } | { type: "cancelled" } | { type: "failed"; error: string };

const data = workerData as JobWorkerData;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
try {
  const store = new ContentStore(data.contentDir);
  const ctx = {
    dir: data.dir,
    snapshot: data.snapshot,
    content: (hash: string) => store.get(hash),
    cancelled: () => Atomics.load(data.cancel, 0) === 1,
    report: post,
  };
  let outcome: JobOutcome;
  if (data.spec.method === "lora") {
    const base = ensureBaseModel(data.spec.base, { buildDir: data.buildDir });
    outcome = runLoraJob(data.spec, { model: base.model, hash: base.info.artifactHash }, ctx);
  } else {
    outcome = runClassifierJob(data.spec, ctx);
  }
  post({ type: "done", outcome });
} catch (e) {
  post(e instanceof JobCancelled ? { type: "cancelled" } : { type: "failed", error: (e as Error).message ?? String(e) });
}
