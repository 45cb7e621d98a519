// A dev-ptau worker thread: one curve instance, a fixed-base table per group
// (built on first use), and a loop that turns scalar specs into points.
import { parentPort, workerData } from "node:worker_threads";
import { affineSize, Bn128, jacobianSize, type Bn128Code, type Group } from "./bn128.js";
import { FixedBaseTable, type WindowBits } from "./fixed-base.js";
import { ScalarExpander, type ScalarSpec } from "./scalars.js";

export interface PointJob {
  id: number;
  group: Group;
  n: number;
  scalars: ScalarSpec;
}
export interface PointResult {
  id: number;
  points: Uint8Array;
}
export interface WorkerSetup {
  code: Bn128Code;
  maxChunk: number;
  windowBits: WindowBits;
}

const { code, maxChunk, windowBits } = workerData as WorkerSetup;
const curve = await Bn128.create(code);
const expander = new ScalarExpander(curve, maxChunk);
const jac = curve.alloc(maxChunk * jacobianSize("G2"));
const out = curve.alloc(maxChunk * affineSize("G2"));
const tables: Partial<Record<Group, FixedBaseTable>> = {};

parentPort!.on("message", (job: PointJob) => {
  const table = (tables[job.group] ??= new FixedBaseTable(curve, job.group, windowBits));
  const scalars = expander.expand(job.scalars, job.n);
  table.mulBatch(scalars, job.n, jac, out);
  const points = curve.bytes(out, job.n * affineSize(job.group)).slice();
  parentPort!.postMessage({ id: job.id, points } satisfies PointResult, [points.buffer]);
});
parentPort!.postMessage("ready");
