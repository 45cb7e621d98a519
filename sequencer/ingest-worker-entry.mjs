// Piscina entry of the ingest threads: circomlibjs pulls in web-worker, which must
// not take this thread for one of its own (see prover/worker-entry.mjs).
import threads from "node:worker_threads";
import { tsImport } from "tsx/esm/api";

Object.defineProperty(threads, "isMainThread", { value: true, configurable: true });

const { default: check, witnessCheck, ticketCheck } = await tsImport("./ingest-worker.ts", import.meta.url);
export default check;
export { witnessCheck, ticketCheck };
