pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/comparators.circom";

// AccountLeaf: the value stored in a state-tree leaf.
//
//   leaf = Poseidon(address, balance, ax, ay, nonce)   for a used leaf
//   leaf = 0                                           for an empty leaf
//
// A leaf is empty exactly when its address is 0. Because the empty leaf hashes
// to the constant 0, a prover could otherwise claim any balance for it; so an
// empty leaf must carry all-zero fields.
//
// Inputs (bit widths are guaranteed by whoever wrote the leaf, never re-checked):
//   address  160  L1 address of the owner
//   balance   96  OPEN base units
//   ax, ay   254  Baby Jubjub public key (0, 0 for accounts that never sign)
//   nonce     64  receipts signed so far
// Outputs:
//   isEmpty    1 when address == 0
//   hash       the leaf value
template AccountLeaf() {
    signal input address;
    signal input balance;
    signal input ax;
    signal input ay;
    signal input nonce;
    signal output isEmpty;
    signal output hash;

    isEmpty <== IsZero()(address);
    balance * isEmpty === 0;
    ax * isEmpty === 0;
    ay * isEmpty === 0;
    nonce * isEmpty === 0;

    signal full <== Poseidon(5)([address, balance, ax, ay, nonce]);
    hash <== full * (1 - isEmpty);
}
