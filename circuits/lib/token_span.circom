pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "./bits.circom";
include "./merkle.circom";

// Proved token attribution (docs/PROTOCOL.md §11.1), mirrored by
// core/token-commitment.ts and core/token-span.ts. A text commits its tokens
// as a 4-ary Poseidon tree over chunks of 16 token values (31-byte SHA-256
// prefixes, never 0; padding is 0). A span check opens a window of two
// consecutive chunks of the answer and two of a contribution, shifts each to
// the span's offset, and checks that the first `len` tokens agree.

// TokenWindow: chunks c and c + 1 of a depth-D token commitment.
//   chunk    2D bits, with chunk + 1 < 4^D (both indexes range-checked)
//   tokens   32 field elements: chunk c, then chunk c + 1
//   enabled  1 bit: 0 checks no path (an unused span slot)
template TokenWindow(D) {
    signal input enabled;
    signal input root;
    signal input chunk;
    signal input tokens[32];
    signal input siblings[2][D][3];

    signal leaf[2];
    for (var h = 0; h < 2; h++) {
        var chunkTokens[16];
        for (var k = 0; k < 16; k++) {
            chunkTokens[k] = tokens[16 * h + k];
        }
        leaf[h] <== Poseidon(16)(chunkTokens);
        MerkleInclusion(D)(enabled, root, chunk + h, leaf[h], siblings[h]);
    }
}

// ShiftDown: out[k] = in[k + s], 0 where k + s runs past the end.
//   s   B bits (range-checked here)
// A barrel shifter: B stages of N constraints, against N · 2^B for a mux.
template ShiftDown(N, B) {
    signal input in[N];
    signal input s;
    signal output out[N];

    signal bits[B] <== Num2Bits(B)(s);
    signal stage[B + 1][N];
    stage[0] <== in;
    for (var b = 0; b < B; b++) {
        for (var k = 0; k < N; k++) {
            var next = k + (1 << b) < N ? stage[b][k + (1 << b)] : 0;
            stage[b + 1][k] <== stage[b][k] + bits[b] * (next - stage[b][k]);
        }
    }
    out <== stage[B];
}

// TokenSpan: tokens [a, a + len) of the answer equal tokens [b, b + len) of a
// contribution, where a = 16 · answerChunk + answerOffset (likewise b).
//   active[L]      1 bit each, a prefix of ones: token j is in the span iff
//                  active[j]; len = Σ active, and len >= LMIN unless the slot
//                  is unused (all zeros)
//   answerOffset,  5 bits each (< 32): the span's first token in its window;
//   sourceOffset   a span must fit its windows (a token shifted in from past
//                  the window is 0, which no token value is)
//   inverse[L]     the answer tokens' inverses: an active token is not 0, so
//                  padding never matches padding
// Outputs: enabled (active[0]), len, and start = a (for the caller's
// disjointness check).
template TokenSpan(DA, DC, L, LMIN) {
    assert(L <= 17 && LMIN >= 1 && LMIN <= L);
    signal input answerRoot;
    signal input answerChunk;
    signal input answerOffset;
    signal input answerTokens[32];
    signal input answerSiblings[2][DA][3];
    signal input sourceRoot;
    signal input sourceChunk;
    signal input sourceOffset;
    signal input sourceTokens[32];
    signal input sourceSiblings[2][DC][3];
    signal input active[L];
    signal input inverse[L];
    signal output enabled;
    signal output len;
    signal output start;

    Prefix(L)(active);
    enabled <== active[0];
    active[LMIN - 1] === enabled;
    var n = 0;
    for (var j = 0; j < L; j++) {
        n += active[j];
    }
    len <== n;
    start <== 16 * answerChunk + answerOffset;

    TokenWindow(DA)(enabled, answerRoot, answerChunk, answerTokens, answerSiblings);
    TokenWindow(DC)(enabled, sourceRoot, sourceChunk, sourceTokens, sourceSiblings);
    signal a[32] <== ShiftDown(32, 5)(answerTokens, answerOffset);
    signal c[32] <== ShiftDown(32, 5)(sourceTokens, sourceOffset);
    signal nonZero[L];
    for (var j = 0; j < L; j++) {
        active[j] * (a[j] - c[j]) === 0;
        nonZero[j] <== a[j] * inverse[j];
        active[j] * (nonZero[j] - 1) === 0;
    }
}
