pragma circom 2.1.0;
include "../../circuits/lib/influence_score.circom";
// 3 classes, rank 2, 4 example features, 4 query features, 16-bit values, 8-bit feature indices.
component main = InfluenceScore(3, 2, 4, 4, 16, 8);
