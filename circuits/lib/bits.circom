pragma circom 2.1.0;

include "circomlib/circuits/bitify.circom";

// ToBitsBE: the n-bit big-endian encoding of `in`, as SHA-256 reads bytes
// (most significant bit first). Also range-checks in < 2^n.
template ToBitsBE(n) {
    signal input in;
    signal output out[n];

    signal le[n] <== Num2Bits(n)(in);
    for (var i = 0; i < n; i++) {
        out[i] <== le[n - 1 - i];
    }
}

// Range: in < 2^n, nothing else.
template Range(n) {
    signal input in;
    signal bits[n] <== Num2Bits(n)(in);
}

// Bits needed to hold any value up to and including x.
function bitsFor(x) {
    var n = 0;
    while (x > 0) {
        n++;
        x = x >> 1;
    }
    return n;
}

// Prefix: every flag is a bit and the ones come first (1, ..., 1, 0, ..., 0),
// so "the first n slots are used" is the only way to use n slots.
template Prefix(N) {
    signal input flags[N];
    for (var i = 0; i < N; i++) {
        flags[i] * (flags[i] - 1) === 0;
        if (i > 0) {
            flags[i] * (1 - flags[i - 1]) === 0;
        }
    }
}

// PadBE: m-bit big-endian bits of a value given as n <= m little-endian bits
// (already range-checked by whoever decomposed it), zero-padded on the left.
// Costs no constraints: it only rewires.
template PadBE(n, m) {
    assert(n <= m);
    signal input le[n];
    signal output out[m];

    for (var i = 0; i < m; i++) {
        if (i < m - n) {
            out[i] <== 0;
        } else {
            out[i] <== le[m - 1 - i];
        }
    }
}
