pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";

// MerkleRoot: the root of a binary Poseidon tree of depth D from one leaf and
// its authentication path. pathBits[i] is bit i of the leaf index (LSB first):
// 0 means the running node is the left child at level i.
template MerkleRoot(D) {
    signal input leaf;
    signal input pathBits[D];
    signal input siblings[D];
    signal output root;

    signal node[D + 1];
    signal left[D];
    node[0] <== leaf;
    for (var i = 0; i < D; i++) {
        // left = bit ? sibling : node; right is the other one (a linear expression).
        left[i] <== node[i] + pathBits[i] * (siblings[i] - node[i]);
        node[i + 1] <== Poseidon(2)([left[i], node[i] + siblings[i] - left[i]]);
    }
    root <== node[D];
}

// LeafUpdate: proves that oldLeaf sits at `index` under oldRoot and returns
// the root after writing newLeaf at the same index. Num2Bits also range-checks
// index < 2^D.
template LeafUpdate(D) {
    signal input oldRoot;
    signal input index;
    signal input oldLeaf;
    signal input newLeaf;
    signal input siblings[D];
    signal output newRoot;

    signal bits[D] <== Num2Bits(D)(index);
    signal computedOld <== MerkleRoot(D)(oldLeaf, bits, siblings);
    computedOld === oldRoot;
    newRoot <== MerkleRoot(D)(newLeaf, bits, siblings);
}
