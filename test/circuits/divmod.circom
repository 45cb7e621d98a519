pragma circom 2.1.0;
include "../../circuits/lib/payout.circom";
// a < 2^12, 0 < b < 16.
component main = DivModCheck(8, 4);
