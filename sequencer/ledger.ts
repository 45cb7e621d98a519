// The ledger: every balance movement of a finalized batch as a row, for the
// explorer's account pages and aggregates (earnings over time, by model, by
// datanet, by contribution; deposits; withdrawals). Rows are derived, never
// authoritative: the state is the replay of the store, and the payout rule
// gives the amounts exactly as the circuit applies them.
//
// Which model answered and which contributions a contributor's score stands
// for are not in a receipt (the circuit pays addresses); a provider may
// declare them when it posts a bundle (`meta`, one entry per receipt). A
// declared contributor's share is split over its declared contributions in
// proportion to their weights (integer division, the remainder to the first);
// the explorer labels these as declared by the provider.
import { z } from "zod";
import { payout } from "../core/payout.js";
import type { BatchParams } from "../core/params.js";
import type { QueueOp } from "../core/queue.js";
import type { BatchResult } from "../core/rollup.js";
import type { Receipt, SignedBundle } from "../core/receipt.js";

export type LedgerKind = "contributor" | "owner" | "protocol" | "deposit" | "withdrawal";

export interface LedgerRow {
  batch: number;
  address: string; // 0x, lower case
  kind: LedgerKind;
  amount: bigint; // credited (contributor, owner, protocol, deposit) or withdrawn
  receipt: string | null;
  model: number | null;
  datanet: number | null;
  contribution: number | null;
}

const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x address").transform((a) => a.toLowerCase());
/** What a provider may declare about each receipt of a bundle (not proven; shown as declared). */
export const receiptMetaSchema = z.strictObject({
  model: z.number().int().positive().optional(),
  contributions: z
    .array(z.strictObject({ contributor: addressSchema, contribution: z.number().int().positive(), datanet: z.number().int().positive(), weight: z.number().positive().finite() }))
    .max(256)
    .optional(),
});
export type ReceiptMeta = z.infer<typeof receiptMetaSchema>;

const hexAddress = (a: bigint) => `0x${a.toString(16).padStart(40, "0")}`;

/**
 * The ledger rows of finalized batch `number`. `winners` are the winning tickets it paid (PROTOCOL §16.3):
 * the payout rule on the face value credits the owner and the contributors; the protocol's share stays in
 * the ticket pool, so it has no row.
 */
export function ledgerRows(
  number: number, r: BatchResult, ops: QueueOp[], bundles: { bundle: SignedBundle; receiptIds: string[]; meta: (ReceiptMeta | null)[] }[], p: BatchParams, treasury: bigint,
  winners: { receipt: Receipt; ticketId: string }[] = [],
): LedgerRow[] {
  const rows: LedgerRow[] = [];
  const row = (address: bigint | string, kind: LedgerKind, amount: bigint, extra: Partial<LedgerRow> = {}) =>
    amount > 0n && rows.push({ batch: number, address: typeof address === "string" ? address.toLowerCase() : hexAddress(address), kind, amount, receipt: null, model: null, datanet: null, contribution: null, ...extra });
  ops.forEach((op, i) => {
    if (op.kind === "deposit") row(op.address, "deposit", r.decoded.ops[i]?.amount ?? op.amount);
  });
  for (const w of r.withdrawals) row(w.address, "withdrawal", w.amount);
  for (const b of bundles) {
    b.bundle.receipts.forEach((receipt, j) => {
      const meta = b.meta[j] ?? null;
      const base = { receipt: b.receiptIds[j], model: meta?.model ?? null };
      const split = payout(receipt.fee, receipt.entries.map((e) => e.score), p);
      row(treasury, "protocol", split.protocol, base);
      row(receipt.owner, "owner", split.ownerTotal, base);
      receipt.entries.forEach((e, k) => {
        const contributor = hexAddress(e.contributor);
        const declared = (meta?.contributions ?? []).filter((c) => c.contributor === contributor);
        const total = declared.reduce((s, c) => s + c.weight, 0);
        if (declared.length === 0 || total <= 0) return void row(contributor, "contributor", split.shares[k], base);
        // The share split over the declared contributions by weight; the remainder goes to the first.
        const parts = declared.map((c) => (split.shares[k] * BigInt(Math.floor((c.weight / total) * 1e9))) / 1_000_000_000n);
        parts[0] += split.shares[k] - parts.reduce((s, x) => s + x, 0n);
        declared.forEach((c, i) => row(contributor, "contributor", parts[i], { ...base, datanet: c.datanet, contribution: c.contribution }));
      });
    });
  }
  for (const w of winners) {
    const split = payout(w.receipt.fee, w.receipt.entries.map((e) => e.score), p);
    row(w.receipt.owner, "owner", split.ownerTotal, { receipt: w.ticketId });
    w.receipt.entries.forEach((e, k) => row(e.contributor, "contributor", split.shares[k], { receipt: w.ticketId }));
  }
  return rows;
}
