pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";

// The account tree is 4-ary: node = Poseidon(child0, child1, child2, child3).
// A level consumes two bits of the leaf index, so a tree of D levels holds
// 4^D leaves. Per level, Poseidon(4) (t = 5) costs about 300 constraints
// against 2 x 240 for two binary levels, so a path costs ~40% less than a
// binary path over the same number of leaves (docs/PROTOCOL.md, "Budget").

// QuadPosition: the one-hot form of a child position p = b0 + 2*b1.
//   b0, b1  1 bit each (checked by the caller's Num2Bits)
template QuadPosition() {
    signal input b0;
    signal input b1;
    signal output is[4];

    signal both <== b0 * b1;
    is[0] <== 1 - b0 - b1 + both;
    is[1] <== b0 - both;
    is[2] <== b1 - both;
    is[3] <== both;
}

// QuadChildren: the four children of a parent whose child at position p is
// `node` and whose other children are siblings[0..2] in position order.
// Six constraints: each child is a sibling plus one-hot-selected corrections.
template QuadChildren() {
    signal input node;
    signal input is[4];
    signal input siblings[3];
    signal output child[4];

    // p == 0 ? node : s0
    child[0] <== siblings[0] + is[0] * (node - siblings[0]);
    // p == 0 ? s0 : p == 1 ? node : s1
    signal shift1 <== is[0] * (siblings[0] - siblings[1]);
    child[1] <== siblings[1] + shift1 + is[1] * (node - siblings[1]);
    // p <= 1 ? s1 : p == 2 ? node : s2
    signal shift2 <== (is[0] + is[1]) * (siblings[1] - siblings[2]);
    child[2] <== siblings[2] + shift2 + is[2] * (node - siblings[2]);
    // p == 3 ? node : s2
    child[3] <== siblings[2] + is[3] * (node - siblings[2]);
}

// MerkleRoot: the root of a D-level 4-ary Poseidon tree from one leaf, the
// one-hot position of its path at every level (leaf level first) and the
// three siblings per level.
template MerkleRoot(D) {
    signal input leaf;
    signal input is[D][4];
    signal input siblings[D][3];
    signal output root;

    signal node[D + 1];
    signal child[D][4];
    node[0] <== leaf;
    for (var l = 0; l < D; l++) {
        child[l] <== QuadChildren()(node[l], is[l], siblings[l]);
        node[l + 1] <== Poseidon(4)(child[l]);
    }
    root <== node[D];
}

// LeafUpdate: proves that oldLeaf sits at `index` under oldRoot and returns
// the root after writing newLeaf at the same index.
//   index   2D bits (range-checked here: index < 4^D)
// indexBits (little-endian) lets the caller publish the index without a
// second bit decomposition.
template LeafUpdate(D) {
    signal input oldRoot;
    signal input index;
    signal input oldLeaf;
    signal input newLeaf;
    signal input siblings[D][3];
    signal output newRoot;
    signal output indexBits[2 * D];

    indexBits <== Num2Bits(2 * D)(index);
    signal is[D][4];
    for (var l = 0; l < D; l++) {
        is[l] <== QuadPosition()(indexBits[2 * l], indexBits[2 * l + 1]);
    }
    signal computedOld <== MerkleRoot(D)(oldLeaf, is, siblings);
    computedOld === oldRoot;
    newRoot <== MerkleRoot(D)(newLeaf, is, siblings);
}

// MerkleInclusion: `leaf` sits at `index` under `root`, checked when
// `enabled` is 1 (an unused slot, enabled 0, checks nothing but the index's
// range).
//   index    2D bits (range-checked here: index < 4^D)
//   enabled  1 bit (the caller's)
template MerkleInclusion(D) {
    signal input enabled;
    signal input root;
    signal input index;
    signal input leaf;
    signal input siblings[D][3];

    signal indexBits[2 * D] <== Num2Bits(2 * D)(index);
    signal is[D][4];
    for (var l = 0; l < D; l++) {
        is[l] <== QuadPosition()(indexBits[2 * l], indexBits[2 * l + 1]);
    }
    signal computed <== MerkleRoot(D)(leaf, is, siblings);
    (computed - root) * enabled === 0;
}
