pragma circom 2.1.0;

// CreditSum: sum(amount[i] / (gamma - address[i])) over the field.
//
// The batch proves that the credits of all receipts, aggregated per address,
// equal the per-account deltas in the public data, by evaluating both sides of
//
//   sum_credits amount / (gamma - address)  ==  sum_slots delta / (gamma - address)
//
// at a challenge gamma that hashes everything both sides are made of
// (a log-derivative / "logUp" multiset check). Two distinct credit multisets
// agree at a random point with probability at most (number of terms) / p.
// This costs 2 constraints per credit, where routing every credit to every
// account slot by equality tests would cost about 3 per (credit, slot) pair.
template CreditSum(N) {
    signal input gamma;
    signal input address[N];
    signal input amount[N];
    signal output sum;

    signal inv[N];
    signal term[N];
    var acc = 0;
    for (var i = 0; i < N; i++) {
        inv[i] <-- 1 / (gamma - address[i]);
        inv[i] * (gamma - address[i]) === 1;
        term[i] <== amount[i] * inv[i];
        acc += term[i];
    }
    sum <== acc;
}
