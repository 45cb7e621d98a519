pragma circom 2.1.0;
include "../../circuits/lib/payout.circom";
// The test instance's payout rule: K = 4 entries, 80-bit fees, 32-bit scores, 5% / 20%.
component main = ReceiptPayout(4, 80, 32, 500, 2000);
