// Worker entry of bench/lib/ticket-traffic.ts: circomlibjs pulls in web-worker, which must
// not take this thread for one of its own (see prover/worker-entry.mjs).
import threads from "node:worker_threads";
import { tsImport } from "tsx/esm/api";

Object.defineProperty(threads, "isMainThread", { value: true, configurable: true });
await tsImport("./ticket-traffic.ts", import.meta.url);
