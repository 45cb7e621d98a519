pragma circom 2.1.0;
include "../../circuits/exit.circom";
component main {public [root, index, address, balance]} = Exit(2);
