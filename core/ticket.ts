// Probabilistic payment tickets (issue 24), the reference model's first part:
// one ticket struct and one win rule. A ticket is a receipt whose fee is its
// face value, plus a win probability winProb / 2^32. Only winning tickets are
// settled, at face value, so a ticket stands for face·winProb/2^32 in
// expectation. The beacon that decides a ticket is fixed after the ticket is
// signed (the L1 side is not built yet); this file has no opinion on where it
// comes from, only on how it decides.
//
// Win rule: draw = Poseidon(ticketHash, beacon); the ticket wins iff
// draw < winProb·⌊r / 2^32⌋. The draw is uniform on [0, r), so the true
// probability is winProb·⌊r/2^32⌋/r, below winProb/2^32 by less than 2^-221
// of it: far less than one base unit of any fee that fits 80 bits.
// p = 1 is not a ticket: it is an exact receipt.
import { FIELD_MODULUS, poseidon } from "./crypto.js";
import type { BatchParams } from "./params.js";
import { checkReceipt, receiptHash, type Receipt } from "./receipt.js";

export const WIN_PROB_BITS = 32;
/** winProb is a numerator over 2^32. */
export const WIN_PROB_DENOMINATOR = 1n << BigInt(WIN_PROB_BITS);
/** A draw below winProb·WIN_UNIT wins. */
export const WIN_UNIT = FIELD_MODULUS >> BigInt(WIN_PROB_BITS);

export interface Ticket {
  /** The receipt it pays if it wins: `fee` is the face value. */
  receipt: Receipt;
  /** Win probability × 2^32, in [1, 2^32). */
  winProb: bigint;
}

/** Checks a ticket against the instance's widths; throws naming the field. */
export function checkTicket(t: Ticket, p: BatchParams): void {
  checkReceipt(t.receipt, p);
  if (t.winProb < 1n || t.winProb >= WIN_PROB_DENOMINATOR) {
    throw new Error(`ticket winProb must be in [1, 2^${WIN_PROB_BITS}) (a probability of winProb/2^${WIN_PROB_BITS}; p = 1 is an exact receipt), got ${t.winProb}`);
  }
}

export function ticketHash(t: Ticket, K: number): bigint {
  return poseidon([receiptHash(t.receipt, K), t.winProb]);
}

/** The ticket's draw under a beacon: uniform on [0, r). */
export function winDraw(hash: bigint, beacon: bigint): bigint {
  if (beacon < 0n || beacon >= FIELD_MODULUS) throw new Error(`a beacon must be a field element (below r), got ${beacon}`);
  return poseidon([hash, beacon]);
}

/** The one win rule, on a draw. */
export function drawWins(draw: bigint, winProb: bigint): boolean {
  return draw < winProb * WIN_UNIT;
}

export function ticketWins(t: Ticket, K: number, beacon: bigint): boolean {
  return drawWins(winDraw(ticketHash(t, K), beacon), t.winProb);
}

/**
 * A ticket for a fee at probability 2^-k (1 ≤ k ≤ 31): face value fee·2^k and
 * winProb 2^(32−k), so that face·winProb/2^32 is the fee exactly, to the unit.
 */
export function ticketFor(receipt: Receipt, k: number): Ticket {
  if (!Number.isInteger(k) || k < 1 || k >= WIN_PROB_BITS) throw new Error(`a ticket's probability is 2^-k for an integer k in [1, ${WIN_PROB_BITS - 1}], got k = ${k}`);
  return { receipt: { ...receipt, fee: receipt.fee << BigInt(k) }, winProb: 1n << BigInt(WIN_PROB_BITS - k) };
}

/** What a ticket pays in expectation, in base units: face·winProb/2^32, exact when it divides (always for ticketFor's). */
export function expectedValue(t: Ticket): { value: bigint; exact: boolean } {
  const n = t.receipt.fee * t.winProb;
  return { value: n / WIN_PROB_DENOMINATOR, exact: n % WIN_PROB_DENOMINATOR === 0n };
}
