pragma circom 2.1.0;

include "circomlib/circuits/comparators.circom";
include "./bits.circom";

// InfluenceScore: the gradient route's fixed-point influence of one training
// example on a query (docs/PROTOCOL.md §11.1), mirrored by
// attribution/influence/proved-influence.ts fixedPointInfluence:
//     s = (A · U) · (X · X̃ + P · Q)
// A[C], P[R] and the example's sparse features (ei, ev)[M] are what the
// training example commits; U[C], Q[R] and the query's sparse features
// (qi, qv)[MQ] are the query's. Values are signed integers below 2^(VB−1) in
// magnitude, as field elements (−v is p − v): every sum and product stays far
// below p/2 (C·(M + R)·2^(4·VB) < 2^200), so the field result is the integer.
//
// The sparse dot product X · X̃ does not compare every pair (M · MQ equality
// tests). Each live example feature i (ev_i ≠ 0) brings a hint h_i, the query's
// value at its index, and proves it by one lookup into a table made of the
// query's list:
//   present: (1, ei_i, h_i) is one of the query's (1, qi_j, qv_j);
//   absent:  h_i = 0, and (2, lo_i, hi_i) is one of the gaps (2, qi_{j−1}, qi_j)
//            of the sorted query list (with −1 before the first), lo_i < ei_i < hi_i.
// The lookups are a log-derivative multiset check (logUp, as CreditSum) at a
// challenge gamma, which the caller must derive from commitments to both
// lists. The query's indices strictly increase (padding continues past 2^IB),
// so its gaps hold exactly the absent indices.
//   ei[M], qi[MQ]   IB bits (qi padding: 2^IB + j)
//   table[2MQ+1]    the multiplicities of the query pairs, then of the gaps
template InfluenceScore(C, R, M, MQ, VB, IB) {
    signal input A[C];
    signal input P[R];
    signal input ei[M];
    signal input ev[M];
    signal input U[C];
    signal input Q[R];
    signal input qi[MQ];
    signal input qv[MQ];
    signal input gamma;
    signal input h[M];
    signal input present[M];
    signal input lo[M];
    signal input hi[M];
    signal input uses[2 * MQ + 1];
    signal output score;

    // Keys: t + 4·x + 4·2^(IB+2)·(y + 2^(VB−1)), with t ∈ {1, 2}, 0 <= x < 2^(IB+2) and
    // y + 2^(VB−1) < 2^(IB+2+VB): injective on those ranges, which are checked.
    var XW = 1 << (IB + 2);
    var HALF = 1 << (VB - 1);

    // The query list: indices strictly increasing, values VB-bit signed.
    signal up[MQ];
    for (var j = 0; j < MQ; j++) {
        Range(IB + 1)(qi[j]);
        Range(VB)(qv[j] + HALF);
        if (j + 1 < MQ) {
            up[j] <== LessThan(IB + 2)([qi[j], qi[j + 1]]);
        } else {
            up[j] <== 1;
        }
        up[j] === 1;
    }

    signal zero[M];
    signal live[M];
    signal absent[M];
    signal above[M];
    signal below[M];
    signal x[M];
    signal y[M];
    signal inv[M];
    signal prod[M];
    var lookups = 0;
    var dot = 0;
    for (var i = 0; i < M; i++) {
        Range(IB)(ei[i]);
        Range(VB)(h[i] + HALF);
        Range(IB + 1)(lo[i] + 1);
        Range(IB + 2)(hi[i]);
        zero[i] <== IsZero()(ev[i]);
        live[i] <== 1 - zero[i];
        present[i] * (present[i] - 1) === 0;
        // Absent: h = 0 and lo < ei < hi (lo = −1 before the first query index).
        (1 - present[i]) * h[i] === 0;
        above[i] <== LessThan(IB + 2)([lo[i], ei[i]]);
        below[i] <== LessThan(IB + 2)([ei[i], hi[i]]);
        absent[i] <== (1 - present[i]) * live[i];
        absent[i] * (2 - above[i] - below[i]) === 0;
        // The looked-up key: present (1, ei, h), absent (2, lo + 1, hi).
        x[i] <== present[i] * (ei[i] - lo[i] - 1) + lo[i] + 1;
        y[i] <== present[i] * (h[i] - hi[i]) + hi[i];
        var key = 2 - present[i] + 4 * x[i] + 4 * XW * (y[i] + HALF);
        inv[i] <-- live[i] == 1 ? 1 / (gamma - key) : 0;
        inv[i] * (gamma - key) === live[i];
        lookups += inv[i];
        prod[i] <== ev[i] * h[i];
        dot += prod[i];
    }

    // The table: the query's pairs (1, qi_j, qv_j), then its gaps (2, qi_{j−1} + 1, qi_j):
    // the first (2, 0, qi_0), the last (2, qi_{MQ−1} + 1, 2^(IB+1)).
    signal tinv[2 * MQ + 1];
    signal tterm[2 * MQ + 1];
    var table = 0;
    for (var j = 0; j < 2 * MQ + 1; j++) {
        var k;
        if (j < MQ) {
            k = 1 + 4 * qi[j] + 4 * XW * (qv[j] + HALF);
        } else if (j == MQ) {
            k = 2 + 4 * XW * (qi[0] + HALF);
        } else if (j < 2 * MQ) {
            k = 2 + 4 * (qi[j - MQ - 1] + 1) + 4 * XW * (qi[j - MQ] + HALF);
        } else {
            k = 2 + 4 * (qi[MQ - 1] + 1) + 4 * XW * ((1 << (IB + 1)) + HALF);
        }
        tinv[j] <-- 1 / (gamma - k);
        tinv[j] * (gamma - k) === 1;
        tterm[j] <== uses[j] * tinv[j];
        table += tterm[j];
    }
    lookups === table;

    signal auTerm[C];
    var au = 0;
    for (var c = 0; c < C; c++) {
        auTerm[c] <== A[c] * U[c];
        au += auTerm[c];
    }
    signal pqTerm[R];
    var pq = 0;
    for (var r = 0; r < R; r++) {
        pqTerm[r] <== P[r] * Q[r];
        pq += pqTerm[r];
    }
    score <== au * (dot + pq);
}
