pragma circom 2.1.0;
include "../../circuits/lib/merkle.circom";

template QuadChildrenAt() {
    signal input node;
    signal input b0;
    signal input b1;
    signal input siblings[3];
    signal output child[4];
    signal is[4] <== QuadPosition()(b0, b1);
    child <== QuadChildren()(node, is, siblings);
}
component main = QuadChildrenAt();
