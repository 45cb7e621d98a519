pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/comparators.circom";
include "./account.circom";
include "./merkle.circom";
include "./bits.circom";

// QueueOp: applies one operation from the L1 priority queue, in queue order.
//
// The contract chains every queued operation into
//   queueOut = Poseidon(queueIn, Poseidon(kind, address, amount, ax, ay, account))
// (two hashes, because circomlibjs's on-chain Poseidon takes at most 6 inputs)
// with kind 1 = deposit (account = 0: the sequencer picks the leaf) and
// kind 2 = withdrawal request (amount = ax = ay = 0; account is the leaf named
// by the requester). A batch consumes a prefix of the queue: `enabled` must be
// 1 for the first n slots and 0 after (checked by the caller).
//
// Deposit:    the leaf at accountIdx is empty or already has `address`; its
//             balance grows by amount; a non-zero key (ax != 0) replaces the key.
// Withdrawal: if the leaf at `account` belongs to `address`, its whole balance
//             moves to the batch's withdrawal list; otherwise nothing changes
//             (a request for someone else's leaf cannot stall the queue).
// Disabled:   leaf 0 is opened and left unchanged; accountIdx must be 0.
//
// Public data written (by the caller): accountIdx (2D bits, padded to whole
// bytes), bodyAmount (96 bits):
// the amount deposited or withdrawn.
template QueueOp(D) {
    signal input enabled;
    signal input isWithdrawal;
    signal input opAddress;
    signal input opAmount;
    signal input opAx;
    signal input opAy;
    signal input opAccount;
    signal input queueIn;
    signal output queueOut;

    signal input accountIdx;
    signal input address;
    signal input balance;
    signal input ax;
    signal input ay;
    signal input nonce;
    signal input siblings[D][3];
    signal input rootIn;
    signal output rootOut;
    signal output bodyAmount;
    signal output indexBits[2 * D];

    isWithdrawal * (isWithdrawal - 1) === 0;
    accountIdx * (1 - enabled) === 0;

    signal opHash <== Poseidon(6)([1 + isWithdrawal, opAddress, opAmount, opAx, opAy, opAccount]);
    signal chained <== Poseidon(2)([queueIn, opHash]);
    queueOut <== queueIn + enabled * (chained - queueIn);

    signal isWd <== enabled * isWithdrawal;
    signal isDeposit <== enabled - isWd;

    component old = AccountLeaf();
    old.address <== address;
    old.balance <== balance;
    old.ax <== ax;
    old.ay <== ay;
    old.nonce <== nonce;

    // Deposit: an existing leaf must belong to the depositor.
    signal depositMismatch <== isDeposit * (address - opAddress);
    depositMismatch * (1 - old.isEmpty) === 0;

    // Withdrawal: applies to the leaf the requester named, if the requester owns it.
    isWd * (accountIdx - opAccount) === 0;
    signal owns <== IsEqual()([address, opAddress]);
    signal wdPaid <== isWd * owns;
    signal withdrawn <== wdPaid * balance;

    signal noKey <== IsZero()(opAx);
    signal replaceKey <== isDeposit * (1 - noKey);
    signal newAddress <== address + isDeposit * (opAddress - address);
    signal newBalance <== balance + isDeposit * opAmount - withdrawn;
    signal newAx <== ax + replaceKey * (opAx - ax);
    signal newAy <== ay + replaceKey * (opAy - ay);
    Range(96)(newBalance);

    signal newLeaf;
    (_, newLeaf) <== AccountLeaf()(newAddress, newBalance, newAx, newAy, nonce);
    (rootOut, indexBits) <== LeafUpdate(D)(rootIn, accountIdx, old.hash, newLeaf, siblings);

    bodyAmount <== isDeposit * opAmount + withdrawn;
}
