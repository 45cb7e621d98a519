pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/eddsaposeidon.circom";
include "circomlib/circuits/babyjub.circom";
include "./account.circom";
include "./merkle.circom";
include "./bits.circom";
include "./payout.circom";
include "./receipt.circom";
include "./ticket.circom";

// The two settlement steps of a ticket bundle (docs/PROTOCOL.md §16).
//
// A committed bundle lives in a leaf of the state tree:
//   bundleLeaf = Poseidon(rootHash, rootSum, providerIdx, firstNonce, count, commitBatch, cursor)
// Seven inputs where an account leaf has five, so no bundle leaf opens as an
// account (and the forced exit cannot pay one out).

// BundleLeaf: the state-tree value of a committed ticket bundle.
template BundleLeaf() {
    signal input rootHash;
    signal input rootSum;
    signal input providerIdx;
    signal input firstNonce;
    signal input count;
    signal input commitBatch;
    signal input cursor;
    signal output hash;
    hash <== Poseidon(7)([rootHash, rootSum, providerIdx, firstNonce, count, commitBatch, cursor]);
}

// TicketCommit: the provider's signed ticket bundle enters the state.
//
// The provider signs, once for up to 4^DT tickets,
//   message = Poseidon(domain, providerIdx, firstNonce, count, rootHash, rootSum)
// with firstNonce its leaf's nonce. Its balance pays rootSum (the bundle's
// whole expected value, into the ticket pool: the caller adds it to the pool's
// inflow) and must stay >= 0; its nonce advances by count, as for `count`
// receipts, so the signed commitment cannot be replayed. The bundle is written
// with cursor 0 and commitBatch = this batch's number, into a leaf that was
// empty. Nothing here opens a ticket: losing tickets never cost a constraint.
//
// Inputs:
//   enabled       1 bit; 0 is a no-op on leaf 0 with every other input 0
//   count         1..4^DT (2·DT + 1 bits)
//   rootSum       96 bits
//   providerIdx, bundleIdx  2D bits each (range-checked by LeafUpdate)
//   bundleOldLeaf the value at bundleIdx before: 0 when enabled
// Public data written (by the caller): providerIdx, bundleIdx, count, rootHash, rootSum.
template TicketCommit(D, DT) {
    assert(DT <= 7);
    signal input enabled;
    signal input domain;
    signal input batchNumber;
    signal input providerIdx;
    signal input address;
    signal input balance;
    signal input ax;
    signal input ay;
    signal input nonce;
    signal input providerSiblings[D][3];
    signal input sigS;
    signal input sigR8x;
    signal input sigR8y;
    signal input count;
    signal input rootHash;
    signal input rootSum;
    signal input bundleIdx;
    signal input bundleOldLeaf;
    signal input bundleSiblings[D][3];
    signal input rootIn;

    signal output rootOut;
    signal output providerIdxBits[2 * D];
    signal output bundleIdxBits[2 * D];

    enabled * (enabled - 1) === 0;
    signal off <== 1 - enabled;
    providerIdx * off === 0;
    count * off === 0;
    rootHash * off === 0;
    rootSum * off === 0;
    bundleIdx * off === 0;

    // 1 <= count <= 4^DT when enabled; 0 when not.
    Range(2 * DT)(count - enabled);
    Range(96)(rootSum);

    component old = AccountLeaf();
    old.address <== address;
    old.balance <== balance;
    old.ax <== ax;
    old.ay <== ay;
    old.nonce <== nonce;
    old.isEmpty * enabled === 0;

    signal message <== Poseidon(6)([domain, providerIdx, nonce, count, rootHash, rootSum]);
    BabyCheck()(ax * enabled, 1 + (ay - 1) * enabled);
    EdDSAPoseidonVerifier()(enabled, ax, ay, sigS, sigR8x, sigR8y, message);

    // The provider pays the bundle's expected value and uses up count nonces.
    signal newBalance <== balance - rootSum;
    Range(96)(newBalance);
    signal providerLeaf;
    (_, providerLeaf) <== AccountLeaf()(address, newBalance, ax, ay, nonce + count);
    signal mid;
    (mid, providerIdxBits) <== LeafUpdate(D)(rootIn, providerIdx, old.hash, providerLeaf, providerSiblings);

    // The bundle's leaf, written where the tree was empty.
    bundleOldLeaf * enabled === 0;
    signal record <== BundleLeaf()(rootHash, rootSum, providerIdx, nonce, count, batchNumber, 0);
    signal bundleLeaf <== bundleOldLeaf + enabled * (record - bundleOldLeaf);
    (rootOut, bundleIdxBits) <== LeafUpdate(D)(mid, bundleIdx, bundleOldLeaf, bundleLeaf, bundleSiblings);
}

// TicketWinner: one winning ticket of a committed bundle is paid.
//
// Checks, against the bundle's leaf at bundleIdx:
//   - the bundle was committed in batch beaconBatch, whose L1 beacon is `beacon`;
//   - cursor <= ticketIndex < count, and the cursor moves to ticketIndex + 1,
//     so every ticket is paid at most once and winners go in index order;
//   - the ticket (a receipt of the bundle's provider with nonce
//     firstNonce + ticketIndex, and winProb) sits at ticketIndex in the
//     bundle's ticket tree with its expected value, and its path's sums reach
//     the bundle's rootSum;
//   - Poseidon(ticketHash, beacon) wins (TicketWin).
// Then the payout rule applied to the face value gives the credits (owner and
// contributors, for the caller's CreditSum); the ticket pool pays
// poolOut = face − protocol: the protocol's share of a winning ticket stays
// in the pool as its reserve (docs/PROTOCOL.md §16, "Variance").
//
// Inputs:
//   enabled   1 bit; 0 is a no-op on leaf 0 with every ticket input 0
//   face      < 2^FEE_BITS; score[K] < 2^SCORE_BITS (the payout rule checks both)
//   winProb   32 bits (TicketWin)
// Public data written (by the caller): bundleIdx, ticketIndex.
template TicketWinner(D, DT, K, FEE_BITS, SCORE_BITS, PROTOCOL_BPS, OWNER_BPS) {
    signal input enabled;
    signal input beaconBatch;
    signal input beacon;
    signal input bundleIdx;
    signal input bundleOldLeaf;
    signal input rootHash;
    signal input rootSum;
    signal input providerIdx;
    signal input firstNonce;
    signal input count;
    signal input commitBatch;
    signal input cursor;
    signal input bundleSiblings[D][3];
    signal input ticketIndex;
    signal input owner;
    signal input face;
    signal input inputHash;
    signal input outputHash;
    signal input contributor[K];
    signal input score[K];
    signal input winProb;
    signal input ticketSiblingHash[DT][3];
    signal input ticketSiblingSum[DT][3];
    signal input rootIn;

    signal output rootOut;
    signal output bundleIdxBits[2 * D];
    signal output ticketIndexBits[2 * DT];
    signal output creditAddress[K + 1];
    signal output creditAmount[K + 1];
    signal output poolOut;

    enabled * (enabled - 1) === 0;
    signal off <== 1 - enabled;
    bundleIdx * off === 0;
    ticketIndex * off === 0;
    face * off === 0;

    // The bundle, as committed (and as earlier winners of this batch left it).
    signal record <== BundleLeaf()(rootHash, rootSum, providerIdx, firstNonce, count, commitBatch, cursor);
    enabled * (bundleOldLeaf - record) === 0;
    enabled * (commitBatch - beaconBatch) === 0;
    Range(2 * DT)(enabled * (ticketIndex - cursor));
    Range(2 * DT)(enabled * (count - 1 - ticketIndex));

    // The ticket, its place in the ticket tree and its expected value.
    signal receiptHash <== ReceiptHash(K)(providerIdx, owner, face, firstNonce + ticketIndex,
                                          inputHash, outputHash, contributor, score);
    signal ticketHash <== Poseidon(2)([receiptHash, winProb]);
    signal ev <== TicketValue()(face, winProb);
    signal pathHash;
    signal pathSum;
    (pathHash, pathSum, ticketIndexBits) <== TicketPath(DT)(ticketHash, ev, ticketIndex, ticketSiblingHash, ticketSiblingSum);
    enabled * (pathHash - rootHash) === 0;
    enabled * (pathSum - rootSum) === 0;

    TicketWin()(enabled, ticketHash, beacon, winProb);

    // Paid at face value by the payout rule; the pool pays all but the protocol's share.
    component pay = ReceiptPayout(K, FEE_BITS, SCORE_BITS, PROTOCOL_BPS, OWNER_BPS);
    pay.fee <== face;
    pay.score <== score;
    for (var i = 0; i < K; i++) {
        creditAddress[i] <== contributor[i];
        creditAmount[i] <== pay.share[i];
    }
    creditAddress[K] <== owner;
    creditAmount[K] <== pay.ownerTotal;
    poolOut <== face - pay.protocol;

    // The cursor passes the paid ticket.
    signal paid <== BundleLeaf()(rootHash, rootSum, providerIdx, firstNonce, count, commitBatch, ticketIndex + 1);
    signal newLeaf <== bundleOldLeaf + enabled * (paid - bundleOldLeaf);
    (rootOut, bundleIdxBits) <== LeafUpdate(D)(rootIn, bundleIdx, bundleOldLeaf, newLeaf, bundleSiblings);
}

// The ticket pool's address: the low 160 bits of keccak256("poa-rollup ticket
// pool") (core/ticket.ts POOL_ADDRESS), an address nobody holds a key for.
function poolAddress() {
    return 1065974270381495935781581442903412997780786809240;
}

// TicketPool: the one leaf that holds every committed bundle's expected value
// until winners draw on it. Its address is POOL_ADDRESS, an address nobody
// holds a key for, so no withdrawal request can empty it; an empty leaf is
// opened as the pool.
//   inflow, outflow  96 bits each (sums of range-checked values, checked again here)
//   enabled          1 bit; must be 1 when inflow or outflow is not 0
// The new balance, balance + inflow − outflow, must be in [0, 2^96): a batch
// cannot pay winners more than the pool holds.
// Public data written (by the caller): poolIdx, inflow, outflow.
template TicketPool(D, POOL_ADDRESS) {
    signal input enabled;
    signal input poolIdx;
    signal input address;
    signal input balance;
    signal input ax;
    signal input ay;
    signal input nonce;
    signal input siblings[D][3];
    signal input inflow;
    signal input outflow;
    signal input rootIn;
    signal output rootOut;
    signal output poolIdxBits[2 * D];

    enabled * (enabled - 1) === 0;
    Range(96)(inflow);
    Range(96)(outflow);
    (inflow + outflow) * (1 - enabled) === 0;
    poolIdx * (1 - enabled) === 0;

    component old = AccountLeaf();
    old.address <== address;
    old.balance <== balance;
    old.ax <== ax;
    old.ay <== ay;
    old.nonce <== nonce;
    // Used: the pool's own leaf or an empty one.
    signal opened <== enabled * (1 - old.isEmpty);
    opened * (address - POOL_ADDRESS) === 0;

    signal newAddress <== address + (enabled - opened) * POOL_ADDRESS;
    signal newBalance <== balance + inflow - outflow;
    Range(96)(newBalance);
    signal newLeaf;
    (_, newLeaf) <== AccountLeaf()(newAddress, newBalance, ax, ay, nonce);
    (rootOut, poolIdxBits) <== LeafUpdate(D)(rootIn, poolIdx, old.hash, newLeaf, siblings);
}
