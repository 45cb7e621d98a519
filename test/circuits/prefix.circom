pragma circom 2.1.0;
include "../../circuits/lib/bits.circom";
component main = Prefix(3);
