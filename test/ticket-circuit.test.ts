// The ticket templates (circuits/lib/ticket.circom) against the reference model
// (core/ticket.ts, core/ticket-tree.ts): the same expected values, the same win
// rule, the same ticket-tree roots; and each rule broken is refused.
import { expect } from "chai";
import { FIELD_MODULUS, initCrypto } from "../core/crypto.js";
import { TicketTree, type SumNode } from "../core/ticket-tree.js";
import { drawWins, winDraw } from "../core/ticket.js";
import { witness, witnessFails as fails } from "./lib/circom.js";

const path = (t: TicketTree, index: number) => {
  const s = t.siblings(index);
  return { siblingHash: s.map((l) => l.map((n) => n.hash)), siblingSum: s.map((l) => l.map((n) => n.sum)) };
};

describe("ticket templates against the reference model", function () {
  before(initCrypto);

  it("TicketValue: face·winProb/2^32 when it is whole, refused when it is not", async () => {
    expect((await witness("ticket_value", { face: 3n << 10n, winProb: 1n << 22n }))[1]).to.equal(3n);
    const face = 104_000_000_000_003n << 10n;
    expect((await witness("ticket_value", { face, winProb: 1n << 22n }))[1]).to.equal(104_000_000_000_003n);
    await fails("ticket_value", { face: 3n, winProb: 1n << 31n }); // 1.5 base units
    await fails("ticket_value", { face: (1n << 80n) + (1n << 32n), winProb: 1n << 32n }); // ev past 2^80
  });

  it("TicketWin: accepts exactly the draws the model calls winning", async () => {
    // Find tickets whose draw's low 32 bits are known, then test just below and at them.
    let checked = 0;
    for (let h = 1n; checked < 3; h++) {
      const beacon = 0xbeac0n + h;
      const low = winDraw(h, beacon) & 0xffffffffn;
      if (low === 0n || low === 0xffffffffn) continue;
      expect(drawWins(winDraw(h, beacon), low + 1n)).to.equal(true);
      expect(drawWins(winDraw(h, beacon), low)).to.equal(false);
      await witness("ticket_win", { ticketHash: h, beacon, winProb: low + 1n });
      await fails("ticket_win", { ticketHash: h, beacon, winProb: low });
      // Another beacon is another draw: the circuit agrees with the model on it.
      const other = { ticketHash: h, beacon: beacon + 1n, winProb: low + 1n };
      if (drawWins(winDraw(h, beacon + 1n), low + 1n)) await witness("ticket_win", other);
      else await fails("ticket_win", other);
      checked++;
    }
  });

  it("TicketWin: refuses an unrecorded (zero) beacon and a probability of 1 or more", async () => {
    // A ticket that would win under beacon 0 must still be refused.
    let h = 1n;
    while (!drawWins(winDraw(h, 0n), 1n << 31n)) h++;
    await fails("ticket_win", { ticketHash: h, beacon: 0n, winProb: 1n << 31n });
    await fails("ticket_win", { ticketHash: 5n, beacon: 9n, winProb: 1n << 32n });
    await fails("ticket_win", { ticketHash: 5n, beacon: 9n, winProb: FIELD_MODULUS - 1n });
  });

  const leaves: SumNode[] = [11n, 12n, 13n, 14n, 15n, 16n, 17n].map((h, i) => ({ hash: h, sum: BigInt(1000 * (i + 1)) }));

  it("TicketPath: the model's root hash and sum from every leaf, and its index bits", async () => {
    const t = new TicketTree(2, leaves);
    expect(t.root.sum).to.equal(28_000n);
    for (const index of [0, 3, 4, 6]) {
      const w = await witness("ticket_path", { leafHash: leaves[index].hash, leafSum: leaves[index].sum, index: BigInt(index), ...path(t, index) });
      expect(w.slice(1, 3)).to.deep.equal([t.root.hash, t.root.sum]);
      expect(TicketTree.rootFrom(leaves[index], index, t.siblings(index))).to.deep.equal(t.root);
      expect(w.slice(3, 7)).to.deep.equal([0, 1, 2, 3].map((b) => BigInt((index >> b) & 1)));
    }
  });

  it("TicketPath: another leaf value gives another root; an index past 4^DT and a leaf sum past 2^96 are refused", async () => {
    const t = new TicketTree(2, leaves);
    const w = await witness("ticket_path", { leafHash: leaves[2].hash, leafSum: leaves[2].sum + 1n, index: 2n, ...path(t, 2) });
    expect(w[1]).to.not.equal(t.root.hash);
    expect(w[2]).to.equal(t.root.sum + 1n);
    await fails("ticket_path", { leafHash: leaves[2].hash, leafSum: leaves[2].sum, index: 2n + 16n, ...path(t, 2) });
    await fails("ticket_path", { leafHash: leaves[2].hash, leafSum: 1n << 96n, index: 2n, ...path(t, 2) });
  });

  it("TicketPath: refuses a 'negative' sibling sum that would make one ticket worth more than its whole bundle", async () => {
    // A dishonest provider's tree: ticket 0 claims 10^20 while its neighbour's sum
    // is r − (10^20 − 1000), so the root's sum is 1,000 in the field.
    const cheat = 10n ** 20n;
    const bad = [{ hash: 21n, sum: cheat }, { hash: 22n, sum: FIELD_MODULUS - (cheat - 1000n) }];
    const sib = [[bad[1], { hash: 0n, sum: 0n }, { hash: 0n, sum: 0n }], [0, 1, 2].map(() => ({ hash: 0n, sum: 0n }))];
    const input = { leafHash: 21n, leafSum: cheat, index: 0n, siblingHash: sib.map((l) => l.map((n) => n.hash)), siblingSum: sib.map((l) => l.map((n) => n.sum)) };
    await fails("ticket_path", input);
  });
});
