pragma circom 2.1.0;
include "../../circuits/lib/token_span.circom";
// Answers of up to 4^2 · 16 = 256 tokens, contributions of up to 4^3 · 16 = 1,024; spans of 4..16 tokens.
component main = TokenSpan(2, 3, 16, 4);
