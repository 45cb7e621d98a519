pragma circom 2.1.0;

include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/bitify.circom";
include "./bits.circom";
include "./token_span.circom";

// ProvedTokenScores: a receipt's entry scores recomputed from token spans
// (docs/PROTOCOL.md §11.1), mirrored by core/proved-scores.ts.
//
// A receipt whose answerRoot is not 0 has proved scores: score[i] is the
// number of answer tokens that span slots credit to entry i. Each used slot is
// a TokenSpan from the answer (answerRoot) into one contribution (its
// sourceRoot, bound to L1 by the caller through the slot's outputs), credited
// to one entry whose contributor is the contribution's. Slots are used as a
// prefix and cover disjoint, increasing ranges of the answer, so no answer
// token is counted twice. A receipt with answerRoot 0 has declared scores and
// uses no slot.
//   answerRoot        field element (signed in the receipt), 0: declared
//   contributor[K]    160 bits, score[K] 32 bits: the receipt's entries
//                     (range-checked by the receipt's payout)
//   entry[S]          the entry each slot credits: an index < K (one-hot below)
//   sourceContributor[S], contributionId[S]: the slot's contribution, for the
//                     caller to check against L1 (outputs `binding`)
template ProvedTokenScores(K, S, DA, DC, L, LMIN) {
    signal input answerRoot;
    signal input contributor[K];
    signal input score[K];
    signal input entry[S];
    signal input contributionId[S];
    signal input sourceRoot[S];
    signal input answerChunk[S];
    signal input answerOffset[S];
    signal input answerTokens[S][32];
    signal input answerSiblings[S][2][DA][3];
    signal input sourceChunk[S];
    signal input sourceOffset[S];
    signal input sourceTokens[S][32];
    signal input sourceSiblings[S][2][DC][3];
    signal input active[S][L];
    signal input inverse[S][L];
    // Per slot: contributionId, the entry's contributor, sourceRoot (0, 0, 0 when unused).
    signal output binding[S][3];

    signal declared <== IsZero()(answerRoot);
    signal enabled[S];
    signal len[S];
    signal start[S];
    for (var s = 0; s < S; s++) {
        (enabled[s], len[s], start[s]) <== TokenSpan(DA, DC, L, LMIN)(
            answerRoot, answerChunk[s], answerOffset[s], answerTokens[s], answerSiblings[s],
            sourceRoot[s], sourceChunk[s], sourceOffset[s], sourceTokens[s], sourceSiblings[s],
            active[s], inverse[s]);
        enabled[s] * declared === 0;
    }
    Prefix(S)(enabled);

    // Disjoint and increasing: a used slot after a used slot starts at or after the end of it.
    // Starts are below 16 · 4^DA + 32 and lengths at most L: bitsFor(16 · 4^DA + 32 + L) bits.
    var B = bitsFor(16 * (1 << (2 * DA)) + 32 + L);
    signal after[S];
    after[0] <== 1;
    for (var s = 1; s < S; s++) {
        after[s] <== LessEqThan(B)([start[s - 1] + len[s - 1], start[s]]);
        (1 - after[s]) * enabled[s] === 0;
    }

    // Each used slot credits one entry (a one-hot choice), with that entry's contributor.
    signal pick[S][K];
    signal credited[S][K];
    signal creditedTo[S][K];
    for (var s = 0; s < S; s++) {
        var chosen = 0;
        var who = 0;
        for (var i = 0; i < K; i++) {
            pick[s][i] <== IsEqual()([entry[s], i]);
            credited[s][i] <== pick[s][i] * len[s];
            creditedTo[s][i] <== pick[s][i] * contributor[i];
            chosen += pick[s][i];
            who += creditedTo[s][i];
        }
        chosen === 1; // entry[s] < K
        binding[s][0] <== enabled[s] * contributionId[s];
        binding[s][1] <== enabled[s] * who;
        binding[s][2] <== enabled[s] * sourceRoot[s];
    }

    // Proved receipts: every entry's score is what its slots credit, to the token.
    signal proved <== 1 - declared;
    signal mismatch[K];
    for (var i = 0; i < K; i++) {
        var total = 0;
        for (var s = 0; s < S; s++) {
            total += credited[s][i];
        }
        mismatch[i] <== proved * (score[i] - total);
        mismatch[i] === 0;
    }
}
