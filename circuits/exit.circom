pragma circom 2.1.0;

include "circomlib/circuits/bitify.circom";
include "./lib/account.circom";
include "./lib/bits.circom";
include "./lib/merkle.circom";

// Exit: the forced exit's proof that an account leaf sits under the last state
// root (docs/PROTOCOL.md, section 4).
//
// Checking a 4-ary Poseidon path in Solidity costs ~73k gas per level (a
// 4-input Poseidon contract), ~1M gas at 12 levels; a Groth16 proof with four
// public inputs costs ~230k whatever the depth. Users prove it themselves
// (`poa exit`), from a path any validator can rebuild from L1 data.
//
// Public inputs (supplied by the contract):
//   root      the contract's stateRoot
//   index     2D bits   the leaf (range-checked here: index < 4^D)
//   address   160 bits  the leaf's owner, paid the balance (the contract passes an address)
//   balance    96 bits  paid out (range-checked here, though every leaf the batch
//                       circuit writes already holds less than 2^96)
// Private: the rest of the leaf (ax, ay, nonce) and the path.
template Exit(D) {
    signal input root;
    signal input index;
    signal input address;
    signal input balance;
    signal input ax;
    signal input ay;
    signal input nonce;
    signal input siblings[D][3];

    Range(96)(balance);

    component leaf = AccountLeaf();
    leaf.address <== address;
    leaf.balance <== balance;
    leaf.ax <== ax;
    leaf.ay <== ay;
    leaf.nonce <== nonce;
    // An empty leaf owns nothing (and its address, 0, could not be paid).
    leaf.isEmpty === 0;

    signal bits[2 * D] <== Num2Bits(2 * D)(index);
    signal is[D][4];
    for (var l = 0; l < D; l++) {
        is[l] <== QuadPosition()(bits[2 * l], bits[2 * l + 1]);
    }
    signal computed <== MerkleRoot(D)(leaf.hash, is, siblings);
    computed === root;
}
