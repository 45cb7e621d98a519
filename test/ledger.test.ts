// The explorer's ledger (sequencer/ledger.ts): a finalized batch's balance
// movements as rows, amounts exactly the payout rule's, a contributor's share
// split over the contributions its provider declared.
import { expect } from "chai";
import type { QueueOp } from "../core/queue.js";
import { payout } from "../core/payout.js";
import type { BatchResult } from "../core/rollup.js";
import type { Receipt } from "../core/receipt.js";
import { ledgerRows, receiptMetaSchema } from "../sequencer/ledger.js";
import { params } from "./helpers.js";

describe("ledger rows of a finalized batch", () => {
  const [c0, c1, owner, depositor, leaver] = ["0x" + "c0".repeat(20), "0x" + "c1".repeat(20), "0x" + "a0".repeat(20), "0x" + "d0".repeat(20), "0x" + "e0".repeat(20)];
  const treasury = 0x7ea5n;
  const receipt = (fee: bigint): Receipt => ({ providerIdx: 2, owner: BigInt(owner), fee, nonce: 0n, inputHash: 1n, outputHash: 2n, entries: [{ contributor: BigInt(c0), score: 3n }, { contributor: BigInt(c1), score: 1n }] });
  const ops: QueueOp[] = [
    { kind: "deposit", address: BigInt(depositor), amount: 500n, ax: 0n, ay: 0n, account: 0 },
    { kind: "withdrawal", address: BigInt(leaver), amount: 0n, ax: 0n, ay: 0n, account: 4 },
  ];
  const result = { decoded: { ops: [{ accountIdx: 5, amount: 500n }, { accountIdx: 4, amount: 77n }] }, withdrawals: [{ address: BigInt(leaver), amount: 77n }] } as unknown as BatchResult;

  it("credits the payout rule's amounts, splits a declared contributor's share by weight to the unit, and records deposits and withdrawals", () => {
    const fee = 1_000_003n;
    const meta = receiptMetaSchema.parse({ model: 2, contributions: [{ contributor: c0, contribution: 11, datanet: 1, weight: 1 }, { contributor: c0, contribution: 12, datanet: 1, weight: 3 }] });
    const rows = ledgerRows(7, result, ops, [{ bundle: { receipts: [receipt(fee)], signature: { R8x: 0n, R8y: 0n, S: 0n } }, receiptIds: ["0xr1"], meta: [meta] }], params, treasury);
    const p = payout(fee, [3n, 1n], params);
    const pick = (address: string, kind: string) => rows.filter((r) => r.address === address && r.kind === kind);
    expect(pick(depositor, "deposit").map((r) => r.amount)).to.deep.equal([500n]);
    expect(pick(leaver, "withdrawal").map((r) => r.amount)).to.deep.equal([77n]);
    expect(pick(`0x${treasury.toString(16).padStart(40, "0")}`, "protocol").map((r) => r.amount)).to.deep.equal([p.protocol]);
    expect(pick(owner, "owner").map((r) => [r.amount, r.model, r.receipt])).to.deep.equal([[p.ownerTotal, 2, "0xr1"]]);
    const c0rows = pick(c0, "contributor");
    expect(c0rows.map((r) => r.contribution)).to.deep.equal([11, 12]);
    expect(c0rows.reduce((s, r) => s + r.amount, 0n)).to.equal(p.shares[0]);
    expect(c0rows[1].amount).to.equal((p.shares[0] * 750_000_000n) / 1_000_000_000n);
    // Not declared: one row, no datanet or contribution.
    expect(pick(c1, "contributor").map((r) => [r.amount, r.datanet, r.contribution, r.model])).to.deep.equal([[p.shares[1], null, null, 2]]);
    expect(rows.every((r) => r.batch === 7 && r.amount > 0n)).to.equal(true);
    // Everything credited is the fee.
    expect(rows.filter((r) => ["protocol", "owner", "contributor"].includes(r.kind)).reduce((s, r) => s + r.amount, 0n)).to.equal(fee);
  });

  it("refuses declarations that are not addresses, ids or positive weights", () => {
    expect(receiptMetaSchema.safeParse({ contributions: [{ contributor: "alice", contribution: 1, datanet: 1, weight: 1 }] }).success).to.equal(false);
    expect(receiptMetaSchema.safeParse({ contributions: [{ contributor: c0, contribution: 0, datanet: 1, weight: 1 }] }).success).to.equal(false);
    expect(receiptMetaSchema.safeParse({ contributions: [{ contributor: c0, contribution: 1, datanet: 1, weight: -1 }] }).success).to.equal(false);
    expect(receiptMetaSchema.safeParse({ model: 1.5 }).success).to.equal(false);
  });
});
