pragma circom 2.1.0;

include "circomlib/circuits/comparators.circom";
include "./account.circom";
include "./merkle.circom";
include "./bits.circom";

// CreditSlot: one touched account of the batch, credited once with the sum
// of everything the batch's receipts pay to its address.
//
// Inputs:
//   accountIdx  2D bits  the leaf (range-checked by LeafUpdate)
//   address     160      the credited L1 address; 0 marks an unused slot
//   delta        96      the credit (range-checked by the caller's encoding)
// The slot is used when address != 0:
//   - an empty leaf becomes (address, delta, 0, 0, 0): contributors need no
//     L1 transaction to start earning. `isNew` is 1, and the caller publishes
//     the address, which validators cannot know otherwise;
//   - a used leaf must already hold `address`; its balance grows by delta. The
//     address stays private: validators read it from their own copy of the leaf;
//   - an unused slot has accountIdx = delta = 0 and leaves leaf 0 unchanged.
// Slot 0 of every batch is the protocol treasury, leaf 0 (IS_TREASURY = 1).
template CreditSlot(D, IS_TREASURY) {
    signal input accountIdx;
    signal input address;
    signal input delta;
    signal input leafAddress;
    signal input balance;
    signal input ax;
    signal input ay;
    signal input nonce;
    signal input siblings[D][3];
    signal input rootIn;
    signal output rootOut;
    signal output isNew;
    signal output indexBits[2 * D];

    signal unused <== IsZero()(address);
    signal enabled <== 1 - unused;
    delta * (1 - enabled) === 0;
    accountIdx * (1 - enabled) === 0;
    if (IS_TREASURY == 1) {
        accountIdx === 0;
        enabled === 1;
    }

    component old = AccountLeaf();
    old.address <== leafAddress;
    old.balance <== balance;
    old.ax <== ax;
    old.ay <== ay;
    old.nonce <== nonce;

    signal mismatch <== enabled * (leafAddress - address);
    mismatch * (1 - old.isEmpty) === 0;
    isNew <== enabled * old.isEmpty;

    signal newAddress <== leafAddress + enabled * (address - leafAddress);
    signal newBalance <== balance + delta;
    Range(96)(newBalance);

    signal newLeaf;
    (_, newLeaf) <== AccountLeaf()(newAddress, newBalance, ax, ay, nonce);
    (rootOut, indexBits) <== LeafUpdate(D)(rootIn, accountIdx, old.hash, newLeaf, siblings);
}
