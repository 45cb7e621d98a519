// A validator's view: rebuild the state from L1 data alone — the queue
// operations (contract events) and each batch's body (submitBatch calldata) —
// without receipts, signatures or the sequencer's database
// (docs/PROTOCOL.md, "Public data").
import { decodeBody, type Body } from "./publicData.js";
import { queueStep, type QueueOp } from "./queue.js";
import type { RollupState } from "./rollup.js";
import { POOL_ADDRESS } from "./ticket.js";

/**
 * Applies one batch's body to a copy of `prev`; `ops` are the queue operations it consumed.
 * `batchNumber` (0-based) is needed only by an instance with tickets: a committed bundle's leaf records it.
 */
export function applyBody(prev: RollupState, bodyBytes: Uint8Array, ops: QueueOp[], batchNumber?: number): RollupState {
  const s = prev.clone();
  const body: Body = decodeBody(bodyBytes, s.params);
  ops.forEach((op, i) => {
    const rec = body.ops[i];
    if (op.kind === "deposit") {
      if (rec.amount !== op.amount) throw new Error(`body op ${i} records ${rec.amount}, but the queued deposit is ${op.amount}`);
      const before = s.account(rec.accountIdx);
      const keyed = op.ax !== 0n;
      s.write(rec.accountIdx, { ...before, address: op.address, balance: before.balance + op.amount, ax: keyed ? op.ax : before.ax, ay: keyed ? op.ay : before.ay });
    } else if (rec.amount > 0n) {
      s.write(op.account, { ...s.account(op.account), balance: 0n });
    }
    s.queueHash = queueStep(s.queueHash, op);
    s.queueConsumed++;
  });
  for (const b of body.bundles) {
    if (b.count === 0) continue;
    const p = s.account(b.providerIdx);
    s.write(b.providerIdx, { ...p, balance: p.balance - b.totalFee, nonce: p.nonce + BigInt(b.count) });
  }
  // Ticket bundles committed (the provider pays the bundle's expected value and uses up its nonces),
  // winners paid (the cursor passes each), the pool moved (docs/PROTOCOL.md §16.3).
  for (const c of body.commits ?? []) {
    if (c.count === 0) continue;
    if (batchNumber === undefined) throw new Error("replaying a batch that commits ticket bundles needs its batch number");
    const p = s.account(c.providerIdx);
    s.write(c.providerIdx, { ...p, balance: p.balance - c.rootSum, nonce: p.nonce + BigInt(c.count) });
    s.writeBundle(c.bundleIdx, { root: { hash: c.rootHash, sum: c.rootSum }, providerIdx: c.providerIdx, firstNonce: p.nonce, count: c.count, commitBatch: batchNumber, cursor: 0 });
  }
  for (const w of body.winners ?? []) {
    const rec = s.bundles.get(w.bundleIdx);
    if (w.bundleIdx === 0 && w.ticketIndex === 0 && !rec) continue; // an unused winner record
    if (!rec) throw new Error(`body pays a winner of leaf ${w.bundleIdx}, which holds no ticket bundle`);
    s.writeBundle(w.bundleIdx, { ...rec, cursor: w.ticketIndex + 1 });
  }
  if (body.pool && (body.pool.inflow > 0n || body.pool.outflow > 0n)) {
    const pool = s.account(body.pool.poolIdx);
    s.write(body.pool.poolIdx, { ...pool, address: POOL_ADDRESS, balance: pool.balance + body.pool.inflow - body.pool.outflow });
  }
  // Slot t opens a leaf exactly when the leaf is empty; its address is then
  // new address t - 1 (new accounts take slots 1, 2, ... in order).
  body.slots.forEach((c, t) => {
    const a = s.account(c.accountIdx);
    if (a.address !== 0n) {
      if (c.delta > 0n) s.write(c.accountIdx, { ...a, balance: a.balance + c.delta });
      return;
    }
    const address = t >= 1 ? body.newAddresses[t - 1] : undefined;
    if (!address) throw new Error(`body slot ${t} credits empty leaf ${c.accountIdx}, but no new address is published for it`);
    s.write(c.accountIdx, { ...a, address, balance: c.delta });
    s.creditLeaves++;
  });
  return s;
}
