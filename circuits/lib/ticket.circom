pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";
include "./bits.circom";
include "./merkle.circom";

// Probabilistic payment tickets (docs/PROTOCOL.md §16), mirrored by
// core/ticket.ts and core/ticket-tree.ts. Only a winning ticket ever reaches
// the circuit: these templates check that it is in its bundle's committed
// ticket tree, that the beacon made it win, and what it is worth.

// TicketValue: a ticket's expected value, face · winProb / 2^32, which must be
// a whole number of base units.
//   face     < 2^80 (range-checked by the payout rule that pays it)
//   winProb  < 2^32 (range-checked by TicketWin)
// ev · 2^32 == face · winProb holds in the field for exactly one ev (2^32 is
// invertible); the product is below 2^112, so that ev is the true quotient
// when it is below 2^80, and a fraction times 2^-32 otherwise, which Range
// refuses.
template TicketValue() {
    signal input face;
    signal input winProb;
    signal output ev;

    ev <-- (face * winProb) >> 32;
    ev * 4294967296 === face * winProb;
    Range(80)(ev);
}

// TicketWin: draw = Poseidon(ticketHash, beacon) wins iff its low 32 bits are
// below winProb. The strict decomposition (with circomlib's alias check)
// makes the low bits those of the draw itself, not of draw + r.
//   ticketHash  field element
//   beacon      253 bits from L1 (prevrandao >> 3, never 0 once recorded: a
//               zero beacon means "not recorded", so it is refused here)
//   winProb     32 bits, in [1, 2^32)
//   enabled     1 bit: 0 checks nothing (an unused winner slot, all zeros)
template TicketWin() {
    signal input enabled;
    signal input ticketHash;
    signal input beacon;
    signal input winProb;

    signal beaconIsZero <== IsZero()(beacon);
    beaconIsZero * enabled === 0;
    Range(32)(winProb);

    signal draw <== Poseidon(2)([ticketHash, beacon]);
    signal bits[254] <== Num2Bits_strict()(draw);
    var low = 0;
    for (var i = 0; i < 32; i++) {
        low += bits[i] * (1 << i);
    }
    signal wins <== LessThan(32)([low, winProb]);
    wins === enabled;
}

// SumParent: one node of the 4-ary sum tree from its four children.
//   hash = Poseidon(h0, s0, h1, s1, h2, s2, h3, s3), sum = s0 + s1 + s2 + s3
template SumParent() {
    signal input hash[4];
    signal input sum[4];
    signal output parentHash;
    signal output parentSum;

    parentHash <== Poseidon(8)([hash[0], sum[0], hash[1], sum[1], hash[2], sum[2], hash[3], sum[3]]);
    parentSum <== sum[0] + sum[1] + sum[2] + sum[3];
}

// TicketPath: the root (hash, sum) of a DT-level ticket tree from one leaf,
// its index and, per level from the leaf up, the parent's three other
// children (hash, sum) in position order.
//   leafSum, every sibling sum   96 bits (range-checked here: a sum that is
//                                "negative" in the field would let one leaf be
//                                worth more than its root)
//   index                        2·DT bits (range-checked here)
// Every node's sum is then the exact integer sum of its subtree's opened
// values, below 2^(96 + 2·DT): nothing wraps.
template TicketPath(DT) {
    signal input leafHash;
    signal input leafSum;
    signal input index;
    signal input siblingHash[DT][3];
    signal input siblingSum[DT][3];
    signal output rootHash;
    signal output rootSum;
    signal output indexBits[2 * DT];

    indexBits <== Num2Bits(2 * DT)(index);
    Range(96)(leafSum);

    signal hash[DT + 1];
    signal sum[DT + 1];
    signal is[DT][4];
    signal childHash[DT][4];
    signal childSum[DT][4];
    hash[0] <== leafHash;
    sum[0] <== leafSum;
    for (var l = 0; l < DT; l++) {
        for (var c = 0; c < 3; c++) {
            Range(96)(siblingSum[l][c]);
        }
        is[l] <== QuadPosition()(indexBits[2 * l], indexBits[2 * l + 1]);
        childHash[l] <== QuadChildren()(hash[l], is[l], siblingHash[l]);
        childSum[l] <== QuadChildren()(sum[l], is[l], siblingSum[l]);
        (hash[l + 1], sum[l + 1]) <== SumParent()(childHash[l], childSum[l]);
    }
    rootHash <== hash[DT];
    rootSum <== sum[DT];
}
