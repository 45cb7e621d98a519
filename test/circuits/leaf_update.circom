pragma circom 2.1.0;
include "../../circuits/lib/merkle.circom";
component main = LeafUpdate(2);
