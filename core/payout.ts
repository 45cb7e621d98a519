// The payout rule (docs/PROTOCOL.md, "Payout rule"), mirrored by
// circuits/lib/payout.circom.

export interface PayoutConfig {
  protocolBps: number;
  ownerBps: number;
}

export interface Payout {
  protocol: bigint;
  /** The owner's basis-point share plus every unit of rounding dust. */
  ownerTotal: bigint;
  /** One share per score, in score order. */
  shares: bigint[];
}

export function payout(fee: bigint, scores: bigint[], cfg: PayoutConfig): Payout {
  const protocol = (fee * BigInt(cfg.protocolBps)) / 10000n;
  const owner = (fee * BigInt(cfg.ownerBps)) / 10000n;
  const pool = fee - protocol - owner;
  const total = scores.reduce((a, s) => a + s, 0n);
  const shares = scores.map((s) => (total === 0n ? 0n : (pool * s) / total));
  const paid = shares.reduce((a, s) => a + s, 0n);
  return { protocol, ownerTotal: owner + pool - paid, shares };
}
