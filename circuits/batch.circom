pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/sha256/sha256.circom";
include "circomlib/circuits/bitify.circom";
include "./lib/bits.circom";
include "./lib/queue_op.circom";
include "./lib/bundle.circom";
include "./lib/credit_slot.circom";
include "./lib/logup.circom";

// Batch: one state transition of poa-rollup (docs/PROTOCOL.md).
//
// Public inputs (six field elements, supplied by the L1 contract):
//   oldRoot, newRoot         state roots before and after the batch
//   oldQueueHash, newQueueHash  the L1 queue's Poseidon hash chain before the
//                            first and after the last operation consumed
//   domain                   chainId * 2^160 + rollup address: signatures are
//                            valid on one deployment only
//   bodyHash                 sha256(publicData body) >> 3
//
// The body holds everything a validator needs to rebuild the state from L1
// data alone, in big-endian fixed-width fields; an index takes I = ceil(2D / 8)
// bytes:
//   NQ  x [accountIdx I, amount u96]              queue ops (deposit / withdrawal)
//   NB  x [providerIdx I, count u8, totalFee u96] bundles (provider debits)
//   T   x [accountIdx I, delta u96]               credited accounts
//   NEW x [address u160]                          addresses of the credited
//                                                 accounts that are new (slots 1..NEW)
// An existing account's address is not published: validators hold the leaf.
// New accounts take the first slots after the treasury (a prefix), so the
// k-th new address belongs to slot k.
//
// Steps, each a chain of leaf updates from oldRoot to newRoot:
//   1. NQ queue ops, a prefix of the L1 queue, in order;
//   2. NB signed bundles of up to B receipts with K attribution entries each;
//   3. T credit slots, one per touched account, slot 0 being the treasury.
// The credits that step 2 computes equal, aggregated per address, the deltas
// that step 3 applies (CreditSum at gamma = Poseidon(oldRoot, bodyHash, bundleHashes)).
//
// D is the number of levels of the 4-ary account tree (4^D leaves).
template Batch(D, NQ, NB, B, K, T, NEW, FEE_BITS, SCORE_BITS, PROTOCOL_BPS, OWNER_BPS) {
    assert(NB + 2 <= 16);
    assert(T >= 1);
    assert(NEW <= T - 1);
    assert(D <= 16);

    signal input oldRoot;
    signal input newRoot;
    signal input oldQueueHash;
    signal input newQueueHash;
    signal input domain;
    signal input bodyHash;

    // 1. queue ops
    signal input opEnabled[NQ];
    signal input opIsWithdrawal[NQ];
    signal input opAddress[NQ];
    signal input opAmount[NQ];
    signal input opAx[NQ];
    signal input opAy[NQ];
    signal input opAccount[NQ];
    signal input opAccountIdx[NQ];
    signal input opLeaf[NQ][5];
    signal input opSiblings[NQ][D][3];

    // 2. bundles
    signal input bEnabled[NB][B];
    signal input bProviderIdx[NB];
    signal input bLeaf[NB][5];
    signal input bSiblings[NB][D][3];
    signal input bSig[NB][3];
    signal input rOwner[NB][B];
    signal input rFee[NB][B];
    signal input rInputHash[NB][B];
    signal input rOutputHash[NB][B];
    signal input rContributor[NB][B][K];
    signal input rScore[NB][B][K];

    // 3. credit slots
    signal input cAccountIdx[T];
    signal input cAddress[T];
    signal input cDelta[T];
    signal input cLeaf[T][5];
    signal input cSiblings[T][D][3];

    var IDX_BITS = 8 * ((2 * D + 7) \ 8);
    var OP_BITS = IDX_BITS + 96;
    var BUNDLE_BITS = IDX_BITS + 8 + 96;
    var SLOT_BITS = IDX_BITS + 96;
    var BODY_BITS = NQ * OP_BITS + NB * BUNDLE_BITS + T * SLOT_BITS + NEW * 160;
    signal body[BODY_BITS];
    var at = 0;

    signal root[NQ + NB + T + 1];
    root[0] <== oldRoot;

    // 1. queue ops, consumed as a prefix of the L1 queue
    signal queue[NQ + 1];
    queue[0] <== oldQueueHash;
    component op[NQ];
    component opIdxBits[NQ];
    component opAmtBits[NQ];
    Prefix(NQ)(opEnabled);
    for (var q = 0; q < NQ; q++) {
        op[q] = QueueOp(D);
        op[q].enabled <== opEnabled[q];
        op[q].isWithdrawal <== opIsWithdrawal[q];
        op[q].opAddress <== opAddress[q];
        op[q].opAmount <== opAmount[q];
        op[q].opAx <== opAx[q];
        op[q].opAy <== opAy[q];
        op[q].opAccount <== opAccount[q];
        op[q].queueIn <== queue[q];
        op[q].accountIdx <== opAccountIdx[q];
        op[q].address <== opLeaf[q][0];
        op[q].balance <== opLeaf[q][1];
        op[q].ax <== opLeaf[q][2];
        op[q].ay <== opLeaf[q][3];
        op[q].nonce <== opLeaf[q][4];
        op[q].siblings <== opSiblings[q];
        op[q].rootIn <== root[q];
        root[q + 1] <== op[q].rootOut;
        queue[q + 1] <== op[q].queueOut;

        opIdxBits[q] = PadBE(2 * D, IDX_BITS);
        opIdxBits[q].le <== op[q].indexBits;
        opAmtBits[q] = ToBitsBE(96);
        opAmtBits[q].in <== op[q].bodyAmount;
        for (var i = 0; i < IDX_BITS; i++) { body[at + i] <== opIdxBits[q].out[i]; }
        for (var i = 0; i < 96; i++) { body[at + IDX_BITS + i] <== opAmtBits[q].out[i]; }
        at += OP_BITS;
    }
    queue[NQ] === newQueueHash;

    // 2. bundles
    var NC = B * (K + 1);
    component bundle[NB];
    component bIdxBits[NB];
    component bCountBits[NB];
    component bFeeBits[NB];
    signal creditAddress[NB * NC + 1];
    signal creditAmount[NB * NC + 1];
    var protocol = 0;
    for (var b = 0; b < NB; b++) {
        bundle[b] = Bundle(D, B, K, FEE_BITS, SCORE_BITS, PROTOCOL_BPS, OWNER_BPS);
        bundle[b].domain <== domain;
        bundle[b].enabled <== bEnabled[b];
        bundle[b].providerIdx <== bProviderIdx[b];
        bundle[b].address <== bLeaf[b][0];
        bundle[b].balance <== bLeaf[b][1];
        bundle[b].ax <== bLeaf[b][2];
        bundle[b].ay <== bLeaf[b][3];
        bundle[b].nonce <== bLeaf[b][4];
        bundle[b].siblings <== bSiblings[b];
        bundle[b].sigS <== bSig[b][0];
        bundle[b].sigR8x <== bSig[b][1];
        bundle[b].sigR8y <== bSig[b][2];
        bundle[b].owner <== rOwner[b];
        bundle[b].fee <== rFee[b];
        bundle[b].inputHash <== rInputHash[b];
        bundle[b].outputHash <== rOutputHash[b];
        bundle[b].contributor <== rContributor[b];
        bundle[b].score <== rScore[b];
        bundle[b].rootIn <== root[NQ + b];
        root[NQ + b + 1] <== bundle[b].rootOut;
        for (var c = 0; c < NC; c++) {
            creditAddress[b * NC + c] <== bundle[b].creditAddress[c];
            creditAmount[b * NC + c] <== bundle[b].creditAmount[c];
        }
        protocol += bundle[b].protocolTotal;

        bIdxBits[b] = PadBE(2 * D, IDX_BITS);
        bIdxBits[b].le <== bundle[b].providerIdxBits;
        bCountBits[b] = ToBitsBE(8);
        bCountBits[b].in <== bundle[b].count;
        bFeeBits[b] = ToBitsBE(96);
        bFeeBits[b].in <== bundle[b].totalFee;
        for (var i = 0; i < IDX_BITS; i++) { body[at + i] <== bIdxBits[b].out[i]; }
        for (var i = 0; i < 8; i++) { body[at + IDX_BITS + i] <== bCountBits[b].out[i]; }
        for (var i = 0; i < 96; i++) { body[at + IDX_BITS + 8 + i] <== bFeeBits[b].out[i]; }
        at += BUNDLE_BITS;
    }
    // The protocol's share of every receipt goes to the treasury (slot 0).
    creditAddress[NB * NC] <== cAddress[0];
    creditAmount[NB * NC] <== protocol;

    // 3. credit slots
    component slot[T];
    component cIdxBits[T];
    component cDeltaBits[T];
    for (var t = 0; t < T; t++) {
        slot[t] = CreditSlot(D, t == 0 ? 1 : 0);
        slot[t].accountIdx <== cAccountIdx[t];
        slot[t].address <== cAddress[t];
        slot[t].delta <== cDelta[t];
        slot[t].leafAddress <== cLeaf[t][0];
        slot[t].balance <== cLeaf[t][1];
        slot[t].ax <== cLeaf[t][2];
        slot[t].ay <== cLeaf[t][3];
        slot[t].nonce <== cLeaf[t][4];
        slot[t].siblings <== cSiblings[t];
        slot[t].rootIn <== root[NQ + NB + t];
        root[NQ + NB + t + 1] <== slot[t].rootOut;

        cIdxBits[t] = PadBE(2 * D, IDX_BITS);
        cIdxBits[t].le <== slot[t].indexBits;
        cDeltaBits[t] = ToBitsBE(96);
        cDeltaBits[t].in <== cDelta[t];
        for (var i = 0; i < IDX_BITS; i++) { body[at + i] <== cIdxBits[t].out[i]; }
        for (var i = 0; i < 96; i++) { body[at + IDX_BITS + i] <== cDeltaBits[t].out[i]; }
        at += SLOT_BITS;

        // New accounts form a prefix of slots 1..NEW; the treasury is never new.
        if (t == 0 || t > NEW) {
            slot[t].isNew === 0;
        } else if (t > 1) {
            slot[t].isNew * (1 - slot[t - 1].isNew) === 0;
        }
    }
    root[NQ + NB + T] === newRoot;

    // The addresses of the new accounts (0 where slot k is not new).
    component newAddrBits[NEW];
    signal newAddress[NEW];
    for (var k = 0; k < NEW; k++) {
        newAddress[k] <== slot[1 + k].isNew * cAddress[1 + k];
        newAddrBits[k] = ToBitsBE(160);
        newAddrBits[k].in <== newAddress[k];
        for (var i = 0; i < 160; i++) { body[at + i] <== newAddrBits[k].out[i]; }
        at += 160;
    }

    // Public data binding: bodyHash = the top 253 bits of sha256(body).
    signal digest[256] <== Sha256(BODY_BITS)(body);
    var h = 0;
    for (var i = 0; i < 253; i++) {
        h += digest[i] * (1 << (252 - i));
    }
    bodyHash === h;

    // Credits, aggregated per address, equal the slot deltas.
    // gamma hashes everything both sides are made of: the old state (which
    // fixes every unpublished address through the leaf indices), the body
    // and the receipts.
    signal challengeIn[NB + 2];
    challengeIn[0] <== oldRoot;
    challengeIn[1] <== bodyHash;
    for (var b = 0; b < NB; b++) {
        challengeIn[b + 2] <== bundle[b].bundleHash;
    }
    signal gamma <== Poseidon(NB + 2)(challengeIn);
    signal credited <== CreditSum(NB * NC + 1)(gamma, creditAddress, creditAmount);
    signal applied <== CreditSum(T)(gamma, cAddress, cDelta);
    credited === applied;
}
