// test/poseidon-native.test.ts: a worker thread that hashes with the native
// Poseidon in a tight loop until the process exits under it.
import threads from "node:worker_threads";
// circomlibjs pulls in web-worker, which must not take this thread for its own (see prover/worker-entry.mjs).
Object.defineProperty(threads, "isMainThread", { value: true, configurable: true });
const { tsImport } = await import("tsx/esm/api");
const crypto = await tsImport("../../core/crypto.ts", import.meta.url);
await crypto.initCrypto();
threads.parentPort.postMessage(JSON.stringify(crypto.poseidonImplementation()));
let x = 1n;
for (;;) x = crypto.poseidon([x, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
