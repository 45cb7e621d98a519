// The ticket reference model (core/ticket.ts): the win rule's threshold to the
// unit, face values whose expectation is the fee exactly, the draw's
// dependence on the beacon and on every ticket field, and named refusals.
import { expect } from "chai";
import { initCrypto } from "../core/crypto.js";
import { FIELD_MODULUS } from "../core/field.js";
import type { Receipt } from "../core/receipt.js";
import { checkTicket, drawWins, expectedValue, ticketFor, ticketHash, ticketWins, WIN_UNIT, winDraw, type Ticket } from "../core/ticket.js";
import { params } from "./helpers.js";

const K = params.entries;
const receipt = (nonce: bigint, fee = 10n ** 12n): Receipt => ({
  providerIdx: 1, owner: 0xb0b0n, fee, nonce, inputHash: 5n, outputHash: 6n, entries: [{ contributor: 0xc1c1n, score: 3n }],
});

describe("tickets: the struct and the win rule (core/ticket.ts)", function () {
  before(initCrypto);

  it("wins exactly below winProb·⌊r/2^32⌋", () => {
    expect(WIN_UNIT).to.equal(FIELD_MODULUS / 2n ** 32n);
    for (const winProb of [1n, 2n ** 16n, 2n ** 31n, 2n ** 32n - 1n]) {
      const t = winProb * WIN_UNIT;
      expect([drawWins(t - 1n, winProb), drawWins(t, winProb), drawWins(0n, winProb), drawWins(FIELD_MODULUS - 1n, winProb)]).to.deep.equal([true, false, true, false]);
    }
  });

  it("makes a ticket for 2^-k whose face value times its probability is the fee to the unit", () => {
    const fee = 104_000_000_000_003n; // odd: no power of two divides it
    for (const k of [1, 7, 20, 31]) {
      const t = ticketFor(receipt(0n, fee), k);
      expect(t.receipt.fee).to.equal(fee * 2n ** BigInt(k));
      expect(t.winProb).to.equal(2n ** BigInt(32 - k));
      expect(expectedValue(t)).to.deep.equal({ value: fee, exact: true });
    }
    expect(expectedValue({ receipt: receipt(0n, 3n), winProb: 2n ** 31n })).to.deep.equal({ value: 1n, exact: false });
  });

  it("draws differently for each beacon and each ticket field, the same for the same inputs", () => {
    const t = ticketFor(receipt(0n), 4);
    const h = ticketHash(t, K);
    expect(ticketHash(ticketFor(receipt(0n), 4), K)).to.equal(h);
    const variants: Ticket[] = [
      { ...t, winProb: t.winProb - 1n },
      { ...t, receipt: { ...t.receipt, fee: t.receipt.fee + 1n } },
      { ...t, receipt: { ...t.receipt, nonce: 1n } },
      { ...t, receipt: { ...t.receipt, entries: [{ contributor: 0xc1c1n, score: 4n }] } },
    ];
    expect(new Set([h, ...variants.map((v) => ticketHash(v, K))]).size).to.equal(5);
    expect(winDraw(h, 7n)).to.equal(winDraw(h, 7n));
    expect(winDraw(h, 7n)).to.not.equal(winDraw(h, 8n));
  });

  it("lets about p of the tickets win: 4,096 tickets at p = 1/8 under one beacon, within 4σ", () => {
    const beacon = 0x5eedn;
    let winners = 0;
    for (let n = 0n; n < 4096n; n++) if (ticketWins(ticketFor(receipt(n), 3), K, beacon)) winners++;
    // Binomial(4096, 1/8): mean 512, σ = √(4096·1/8·7/8) ≈ 21.2.
    expect(winners).to.be.within(512 - 85, 512 + 85);
  });

  it("refuses a probability of 0 or 1 and beyond, a face value too wide, and a beacon outside the field", () => {
    const t = ticketFor(receipt(0n), 2);
    expect(() => checkTicket({ ...t, winProb: 0n }, params)).to.throw("ticket winProb must be in [1, 2^32)");
    expect(() => checkTicket({ ...t, winProb: 2n ** 32n }, params)).to.throw("p = 1 is an exact receipt");
    expect(() => checkTicket(t, params)).to.not.throw();
    expect(() => checkTicket(ticketFor(receipt(0n, 2n ** 70n), 12), params)).to.throw(`receipt fee must be in [0, 2^${params.feeBits})`);
    expect(() => ticketFor(receipt(0n), 0)).to.throw("an integer k in [1, 31]");
    expect(() => ticketFor(receipt(0n), 32)).to.throw("got k = 32");
    expect(() => winDraw(1n, FIELD_MODULUS)).to.throw("a beacon must be a field element");
  });
});
