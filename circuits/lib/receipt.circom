pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";

// ReceiptHash: the Poseidon commitment that a provider signs (inside a bundle).
//
//   entriesHash = Poseidon(contributor[0], score[0], ..., contributor[K-1], score[K-1])
//   receiptHash = Poseidon(providerIdx, owner, fee, nonce, inputHash, outputHash, entriesHash)
//
// Fields are hashed unpacked: packing an address and a score into one field
// would need a 160-bit range check per entry to stay injective.
template ReceiptHash(K) {
    assert(2 * K <= 16);
    signal input providerIdx;
    signal input owner;
    signal input fee;
    signal input nonce;
    signal input inputHash;
    signal input outputHash;
    signal input contributor[K];
    signal input score[K];
    signal output hash;

    signal entries[2 * K];
    for (var i = 0; i < K; i++) {
        entries[2 * i] <== contributor[i];
        entries[2 * i + 1] <== score[i];
    }
    signal entriesHash <== Poseidon(2 * K)(entries);
    hash <== Poseidon(7)([providerIdx, owner, fee, nonce, inputHash, outputHash, entriesHash]);
}
