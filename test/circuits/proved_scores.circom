pragma circom 2.1.0;
include "../../circuits/lib/proved_scores.circom";
// K 2 entries, S 3 span slots, answers of 256 tokens, contributions of 1,024, spans of 4..16 tokens.
component main = ProvedTokenScores(2, 3, 2, 3, 16, 4);
