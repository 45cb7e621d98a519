pragma circom 2.1.0;

// MulChain(n): y = (x² + c)·x^(n-1), one multiplication per constraint, so a
// circuit of exactly n constraints: for trusted-setup tests at chosen sizes.
//   x: private field element; c: public field element; y: output.
template MulChain(n) {
    signal input x;
    signal input c;
    signal output y;

    signal t[n];
    t[0] <== x * x + c;
    for (var i = 1; i < n; i++) {
        t[i] <== t[i - 1] * x;
    }
    y <== t[n - 1];
}
