// Piscina starts worker threads from plain JavaScript; this entry prepares the
// thread for snarkjs and then loads the TypeScript worker through tsx's API.
import threads from "node:worker_threads";
import { tsImport } from "tsx/esm/api";

// snarkjs -> ffjavascript -> web-worker decides at import time, from
// isMainThread, whether this thread *is* one of its own web-worker threads
// (and then reads workerData that Piscina does not provide). A prover thread
// is a parent of curve threads, not one of them: tell web-worker so.
Object.defineProperty(threads, "isMainThread", { value: true, configurable: true });

const { default: run } = await tsImport("./worker.ts", import.meta.url);
export default run;
