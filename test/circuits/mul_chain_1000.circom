pragma circom 2.1.0;
include "mul_chain.circom";

// 1,000 constraints + 3 (public signals and one) = 1,003 ≤ 2^10: a circuit
// that fills a 2^10 powers-of-tau, so its Groth16 setup reads the last,
// zero-padded Lagrange block of the file.
component main {public [c]} = MulChain(1000);
