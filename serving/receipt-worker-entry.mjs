// The serving node's receipt thread starts from plain JavaScript and loads the
// TypeScript through tsx's API (as the job and prover workers do).
import threads from "node:worker_threads";
import { tsImport } from "tsx/esm/api";

// circomlibjs -> ffjavascript -> web-worker decides at import time, from
// isMainThread, whether this thread is one of its own web-worker threads and
// then reads workerData it did not set (see prover/worker-entry.mjs): it is not.
Object.defineProperty(threads, "isMainThread", { value: true, configurable: true });

await tsImport("./receipt-worker.ts", import.meta.url);
