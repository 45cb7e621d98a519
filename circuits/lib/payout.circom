pragma circom 2.1.0;

include "circomlib/circuits/comparators.circom";
include "./bits.circom";

// DivModCheck: accepts (q, r) only as the quotient and remainder of a / b,
// for a < 2^(qBits + rBits) and 0 < b < 2^rBits:
//   a == q * b + r,  q < 2^qBits,  r < 2^rBits,  b - 1 - r < 2^rBits  (so r < b)
// The bounds keep q * b + r below the field modulus, so the equation holds
// over the integers and (q, r) is unique.
template DivModCheck(qBits, rBits) {
    signal input a;
    signal input b;
    signal input q;
    signal input r;

    a === q * b + r;
    Range(qBits)(q);
    Range(rBits)(r);
    Range(rBits)(b - 1 - r);
}

// DivMod: q = floor(a / b), r = a mod b, computed as hints and then checked.
template DivMod(qBits, rBits) {
    signal input a;
    signal input b;
    signal output q;
    signal output r;

    q <-- a \ b;
    r <-- a % b;
    DivModCheck(qBits, rBits)(a, b, q, r);
}

// ReceiptPayout: the payout rule for one receipt (docs/PROTOCOL.md, "Payout rule").
//
//   protocol = floor(fee * PROTOCOL_BPS / 10000)
//   owner    = floor(fee * OWNER_BPS / 10000)
//   pool     = fee - protocol - owner
//   share[i] = floor(pool * score[i] / sum(score))    (0 for every i when sum(score) == 0)
//   ownerTotal = owner + pool - sum(share)            (all rounding dust, or the whole
//                                                      pool when no score is positive)
// so that protocol + ownerTotal + sum(share) == fee exactly.
//
// Inputs:  fee < 2^FEE_BITS, score[K] < 2^SCORE_BITS (both range-checked here).
template ReceiptPayout(K, FEE_BITS, SCORE_BITS, PROTOCOL_BPS, OWNER_BPS) {
    signal input fee;
    signal input score[K];
    signal output protocol;
    signal output ownerTotal;
    signal output share[K];

    assert(PROTOCOL_BPS + OWNER_BPS <= 10000);
    // pool * score < 2^(FEE_BITS + SCORE_BITS) must not wrap the ~2^253 field.
    assert(FEE_BITS + SCORE_BITS + bitsFor(K) + 2 < 250);

    Range(FEE_BITS)(fee);

    var SUM_BITS = SCORE_BITS + bitsFor(K);
    var sum = 0;
    for (var i = 0; i < K; i++) {
        Range(SCORE_BITS)(score[i]);
        sum += score[i];
    }

    component protocolDiv = DivMod(FEE_BITS, 14);
    protocolDiv.a <== fee * PROTOCOL_BPS;
    protocolDiv.b <== 10000;
    protocol <== protocolDiv.q;

    component ownerDiv = DivMod(FEE_BITS, 14);
    ownerDiv.a <== fee * OWNER_BPS;
    ownerDiv.b <== 10000;

    signal pool <== fee - protocol - ownerDiv.q;

    // Divide by 1 instead of 0 when no score is positive: every score is then 0,
    // so every share is 0 and the pool falls to the owner as dust.
    signal sumIsZero <== IsZero()(sum);
    signal divisor <== sum + sumIsZero;

    component shareDiv[K];
    var paid = 0;
    for (var i = 0; i < K; i++) {
        shareDiv[i] = DivMod(FEE_BITS, SUM_BITS);
        shareDiv[i].a <== pool * score[i];
        shareDiv[i].b <== divisor;
        share[i] <== shareDiv[i].q;
        paid += share[i];
    }
    ownerTotal <== ownerDiv.q + pool - paid;
}
