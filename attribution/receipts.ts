// From attribution scores to signed receipts: the provider SDK.
//
// Both engines give non-negative real scores per contributor address (token
// attribution in bits, TracIn in loss reduction). A receipt carries at most K
// integer scores: the K largest positive scores are kept (ties broken by
// address), scaled so that the largest becomes SCORE_SCALE, and floored;
// entries that floor to 0 are dropped. Only ratios matter to the payout rule
// (docs/PROTOCOL.md §3), so the scaling loses at most 1/SCORE_SCALE of a share.
import type { BatchParams } from "../core/params.js";
import { contentHash, signBundle, type AttributionEntry, type Receipt, type SignedBundle } from "../core/receipt.js";

export const SCORE_SCALE = 2 ** 20;

export type ContributorScores = Map<string, number>;

export function receiptEntries(scores: ContributorScores, p: Pick<BatchParams, "entries" | "scoreBits">): AttributionEntry[] {
  if (SCORE_SCALE >= 2 ** p.scoreBits) throw new Error(`scores of ${p.scoreBits} bits cannot hold the scale 2^20`);
  const ranked = [...scores.entries()]
    .filter(([a, s]) => {
      if (!/^0x[0-9a-fA-F]{40}$/.test(a)) throw new Error(`contributor ${a} is not a 0x address`);
      if (!Number.isFinite(s)) throw new Error(`contributor ${a} has a non-finite score ${s}`);
      return s > 0;
    })
    .sort(([a, x], [b, y]) => y - x || (BigInt(a) < BigInt(b) ? -1 : 1))
    .slice(0, p.entries);
  if (ranked.length === 0) return [];
  const top = ranked[0][1];
  return ranked
    .map(([a, s]) => ({ contributor: BigInt(a), score: BigInt(Math.floor((s / top) * SCORE_SCALE)) }))
    .filter((e) => e.score > 0n);
}

/**
 * Mixes engines: each engine's scores are normalized to sum to 1, then
 * weighted (e.g. 0.5 token attribution + 0.5 influence).
 */
export function combineScores(parts: { weight: number; scores: ContributorScores }[]): ContributorScores {
  const out: ContributorScores = new Map();
  for (const { weight, scores } of parts) {
    const total = [...scores.values()].reduce((a, s) => a + Math.max(0, s), 0);
    if (total <= 0) continue;
    for (const [a, s] of scores) if (s > 0) out.set(a, (out.get(a) ?? 0) + (weight * s) / total);
  }
  return out;
}

export interface Inference {
  providerIdx: number;
  /** The model owner's address. */
  owner: string;
  fee: bigint;
  nonce: bigint;
  input: string;
  output: string;
  scores: ContributorScores;
}

export function attributedReceipt(inf: Inference, p: BatchParams): Receipt {
  return {
    providerIdx: inf.providerIdx,
    owner: BigInt(inf.owner),
    fee: inf.fee,
    nonce: inf.nonce,
    inputHash: contentHash(inf.input),
    outputHash: contentHash(inf.output),
    entries: receiptEntries(inf.scores, p),
  };
}

/** Builds and signs one bundle of attributed receipts (consecutive nonces, same provider). */
export function signAttributed(key: Uint8Array, inferences: Inference[], p: BatchParams, domain: bigint): Promise<SignedBundle> {
  return signBundle(key, inferences.map((i) => attributedReceipt(i, p)), p, domain);
}
