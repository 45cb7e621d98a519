// "Verify in your browser": a batch's Groth16 proof checked in this page with
// snarkjs, against the published verification key and the public inputs
// rebuilt from L1 itself — the submitBatch calldata (new root, queue operations
// consumed, beacon batch, body, proof) read from the chain's JSON-RPC, the
// previous root, the queue hashes and the domain read from the rollup contract,
// and in an instance with tickets the batch's number and the beacon as L1 held
// it when the batch landed (its BeaconRecorded log) — not from the sequencer's
// word. docs/PROTOCOL.md, "Public data" and §16.3.
import { api } from "./api.js";

// Function selectors (keccak256 of the signatures, first 4 bytes).
const SUBMIT_BATCH = "057330ba"; // submitBatch(uint256,uint256,uint256,bytes,uint256[8])
const BEACON_RECORDED = "0x9f2e05b2aaab159170a8d2aaa06743cc84e34f66e456492ea272e6824fc81674"; // BeaconRecorded(uint256,uint256)
const BATCH_ROOT = "509b368c"; // batchRoot(uint256)
const QUEUE_HASH_AT = "95c81ca5"; // queueHashAt(uint256)
const DOMAIN = "c2fb26a6"; // domain()

const word = (x) => BigInt(x).toString(16).padStart(64, "0");

let snarkjs;
function loadSnarkjs() {
  snarkjs ??= new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = "/app/vendor/snarkjs.min.js";
    s.onload = () => resolve(window.snarkjs);
    s.onerror = () => reject(new Error("could not load snarkjs from /app/vendor/snarkjs.min.js"));
    document.head.append(s);
  });
  return snarkjs;
}

/** Checks batch `n`'s proof in the page; resolves to { valid, signals, steps } or throws naming what is missing. */
export async function verifyBatchInBrowser(n, onStep = () => {}) {
  const chain = await api("GET", "/v1/explorer/chain");
  if (!chain.rpcUrl) throw new Error("this service publishes no JSON-RPC URL for browsers (start it with POA_PUBLIC_RPC_URL), so the page cannot read L1");
  const batch = await api("GET", `/v1/batches/${n}`);
  if (!batch.txHash) throw new Error(`batch ${n} is ${batch.status}: it has no L1 transaction to check yet`);
  let id = 0;
  const rpc = async (method, params) => {
    const res = await fetch(chain.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }) });
    const j = await res.json();
    if (j.error) throw new Error(`${method}: ${j.error.message}`);
    return j.result;
  };
  const call = async (selector, ...args) => BigInt(await rpc("eth_call", [{ to: chain.rollup, data: `0x${selector}${args.map(word).join("")}` }, "latest"]));

  onStep(`reading transaction ${batch.txHash} from ${chain.rpcUrl}`);
  const [tx, receipt] = await Promise.all([rpc("eth_getTransactionByHash", [batch.txHash]), rpc("eth_getTransactionReceipt", [batch.txHash])]);
  if (!tx || !receipt) throw new Error(`L1 does not know transaction ${batch.txHash}`);
  if (tx.to?.toLowerCase() !== chain.rollup.toLowerCase() || receipt.status !== "0x1") throw new Error(`transaction ${batch.txHash} is not a successful call to the rollup ${chain.rollup}`);
  const input = tx.input.slice(2);
  if (input.slice(0, 8) !== SUBMIT_BATCH) throw new Error(`transaction ${batch.txHash} is not a submitBatch call`);
  const data = input.slice(8);
  const w = (i) => BigInt(`0x${data.slice(i * 64, (i + 1) * 64)}`);
  const newRoot = w(0), opsConsumed = Number(w(1)), beaconBatch = w(2), offset = Number(w(3));
  const proof = Array.from({ length: 8 }, (_, i) => w(4 + i).toString());
  const bodyLength = Number(w(offset / 32));
  const body = new Uint8Array(bodyLength);
  for (let i = 0; i < bodyLength; i++) body[i] = parseInt(data.slice((offset + 32 + i) * 2, (offset + 33 + i) * 2), 16);

  onStep("reading roots, queue hashes and the domain from the rollup contract");
  const [oldRoot, storedRoot, oldQueueHash, newQueueHash, domain] = await Promise.all([
    call(BATCH_ROOT, n - 1), call(BATCH_ROOT, n), call(QUEUE_HASH_AT, batch.firstOp), call(QUEUE_HASH_AT, batch.firstOp + opsConsumed), call(DOMAIN),
  ]);
  if (storedRoot !== newRoot) throw new Error(`the contract's root for batch ${n} is not the one in transaction ${batch.txHash}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  const bodyHash = BigInt(`0x${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}`) >> 3n;
  const [vk, lib] = await Promise.all([api("GET", "/v1/verification-key"), loadSnarkjs()]);
  const signals = [oldRoot, newRoot, oldQueueHash, newQueueHash, domain, bodyHash];
  if (vk.nPublic === 9) {
    // The beacon the contract supplied: beacon[beaconBatch] if its BeaconRecorded log comes before this batch's verification (in an earlier block or transaction, or earlier in the same one), else 0.
    onStep(`reading the beacon of batch ${Number(beaconBatch) + 1} as L1 held it then`);
    const logs = await rpc("eth_getLogs", [{ address: chain.rollup, fromBlock: "0x0", toBlock: "latest", topics: [BEACON_RECORDED, `0x${word(beaconBatch)}`] }]);
    const at = (x) => [Number(x.blockNumber), Number(x.transactionIndex)];
    const [rb, ri] = at(receipt);
    const seen = logs.find((l) => { const [b, i] = at(l); return b < rb || (b === rb && i <= ri); });
    signals.push(BigInt(n - 1), beaconBatch, seen ? BigInt(`0x${seen.data.slice(2, 66)}`) : 0n);
  }

  onStep("verifying the Groth16 proof with snarkjs in this page");
  const proofObject = { protocol: "groth16", curve: "bn128", pi_a: [proof[0], proof[1], "1"], pi_b: [[proof[3], proof[2]], [proof[5], proof[4]], ["1", "0"]], pi_c: [proof[6], proof[7], "1"] };
  const valid = await lib.groth16.verify(vk, signals.map(String), proofObject);
  return { valid, signals: { oldRoot, newRoot, oldQueueHash, newQueueHash, domain, bodyHash } };
}
