pragma circom 2.1.0;
include "../../circuits/batch.circom";
component main {public [oldRoot, newRoot, oldQueueHash, newQueueHash, domain, bodyHash, batchNumber, beaconBatch, beacon]} = Batch(3, 1, 1, 2, 2, 5, 3, 80, 32, 500, 2000, 2, 1, 2);
