// Request schemas of the HTTP API. JSON has no big integers, so amounts,
// nonces, hashes and signature parts are decimal strings; addresses are
// 0x-prefixed 20-byte hex. Every failure names the field and the reason.
import { z } from "zod";
import { FIELD_MODULUS } from "../core/crypto.js";
import { ADDRESS_BITS, leafCapacity, type BatchParams } from "../core/params.js";
import type { Receipt, SignedBundle } from "../core/receipt.js";
import { WIN_PROB_BITS, type SignedTicketBundle } from "../core/ticket.js";

const decimal = (what: string, max: bigint) =>
  z
    .string({ error: `${what} must be a decimal string` })
    .regex(/^(0|[1-9][0-9]{0,77})$/, `${what} must be a non-negative integer in decimal, without sign, fraction or exponent`)
    .transform((s) => BigInt(s))
    .refine((v) => v < max, `${what} must be below ${max}`);

const address = z
  .string({ error: "must be a 0x-prefixed 20-byte hex address" })
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address")
  .transform((s) => BigInt(s));

export function bundleSchema(p: BatchParams) {
  const receipt = z.strictObject({
    providerIdx: z.number({ error: "must be an integer account index" }).int("must be an integer").min(0).max(leafCapacity(p) - 1),
    owner: address.refine((a) => a !== 0n, "must not be the zero address"),
    fee: decimal("fee", 1n << BigInt(p.feeBits)),
    nonce: decimal("nonce", 1n << 64n),
    inputHash: decimal("inputHash", 1n << 248n),
    outputHash: decimal("outputHash", 1n << 248n),
    entries: z
      .array(
        z.strictObject({
          contributor: address.refine((a) => a !== 0n && a < 1n << BigInt(ADDRESS_BITS), "must not be the zero address"),
          score: decimal("score", 1n << BigInt(p.scoreBits)),
        }),
      )
      .max(p.entries, `at most ${p.entries} attribution entries (K)`),
  });
  return z.strictObject({
    receipts: z.array(receipt).min(1, "a bundle needs at least one receipt").max(p.bundleSize, `at most ${p.bundleSize} receipts per bundle`),
    signature: z.strictObject({
      R8x: decimal("R8x", FIELD_MODULUS),
      R8y: decimal("R8y", FIELD_MODULUS),
      S: decimal("S", FIELD_MODULUS),
    }),
  });
}

/** One receipt signed on its own: a bundle of one. */
export function receiptSchema(p: BatchParams) {
  const b = bundleSchema(p);
  return z.strictObject({ receipt: b.shape.receipts.element, signature: b.shape.signature });
}

export type BundleBody = z.infer<ReturnType<typeof bundleSchema>>;

export function toSignedBundle(b: BundleBody): SignedBundle {
  return { receipts: b.receipts as Receipt[], signature: b.signature };
}

/** "receipts.0.fee: fee must be below 2^80"-style messages, one per problem. */
export function describeIssues(e: z.ZodError): { field: string; reason: string }[] {
  return e.issues.map((i) => ({ field: i.path.join(".") || "(body)", reason: i.message }));
}

const hex = (a: bigint) => `0x${a.toString(16).padStart(40, "0")}`;

/** JSON for a signed bundle, the inverse of bundleSchema (used by clients and the store). */
export function bundleToJson(b: SignedBundle): unknown {
  return {
    receipts: b.receipts.map((r) => ({
      providerIdx: r.providerIdx,
      owner: hex(r.owner),
      fee: r.fee.toString(),
      nonce: r.nonce.toString(),
      inputHash: r.inputHash.toString(),
      outputHash: r.outputHash.toString(),
      entries: r.entries.map((e) => ({ contributor: hex(e.contributor), score: e.score.toString() })),
    })),
    signature: { R8x: b.signature.R8x.toString(), R8y: b.signature.R8y.toString(), S: b.signature.S.toString() },
  };
}

// ---- Ticket bundles (docs/PROTOCOL.md §16) ---------------------------------
// On the wire a ticket bundle names its provider and first nonce once; ticket j
// is the receipt (providerIdx, nonce firstNonce + j) with `face` as its fee.

export function ticketBundleSchema(p: BatchParams, treeDepth: number) {
  const r = bundleSchema(p).shape.receipts.element.shape;
  const ticket = z.strictObject({
    owner: r.owner,
    face: decimal("face", 1n << BigInt(p.feeBits)),
    winProb: decimal("winProb", 1n << BigInt(WIN_PROB_BITS)).refine((v) => v >= 1n, "winProb must be at least 1 (a probability of winProb/2^32)"),
    inputHash: r.inputHash,
    outputHash: r.outputHash,
    entries: r.entries,
  });
  return z.strictObject({
    providerIdx: r.providerIdx,
    firstNonce: r.nonce,
    tickets: z.array(ticket).min(1, "a ticket bundle needs at least one ticket").max(4 ** treeDepth, `at most ${4 ** treeDepth} tickets per bundle (4^${treeDepth})`),
    signature: bundleSchema(p).shape.signature,
  });
}

export type TicketBundleBody = z.infer<ReturnType<typeof ticketBundleSchema>>;

export function toSignedTicketBundle(b: TicketBundleBody): SignedTicketBundle {
  return {
    providerIdx: b.providerIdx,
    firstNonce: b.firstNonce,
    tickets: b.tickets.map((t, j) => ({
      receipt: { providerIdx: b.providerIdx, owner: t.owner, fee: t.face, nonce: b.firstNonce + BigInt(j), inputHash: t.inputHash, outputHash: t.outputHash, entries: t.entries },
      winProb: t.winProb,
    })),
    signature: b.signature,
  };
}

/** JSON for a signed ticket bundle, the inverse of ticketBundleSchema. */
export function ticketBundleToJson(b: SignedTicketBundle): unknown {
  return {
    providerIdx: b.providerIdx,
    firstNonce: b.firstNonce.toString(),
    tickets: b.tickets.map(({ receipt: r, winProb }) => ({
      owner: hex(r.owner),
      face: r.fee.toString(),
      winProb: winProb.toString(),
      inputHash: r.inputHash.toString(),
      outputHash: r.outputHash.toString(),
      entries: r.entries.map((e) => ({ contributor: hex(e.contributor), score: e.score.toString() })),
    })),
    signature: { R8x: b.signature.R8x.toString(), R8y: b.signature.R8y.toString(), S: b.signature.S.toString() },
  };
}
