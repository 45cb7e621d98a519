pragma circom 2.1.0;
include "mul_chain.circom";

// 4 constraints: a domain of 2^3 with the public signals.
component main {public [c]} = MulChain(4);
