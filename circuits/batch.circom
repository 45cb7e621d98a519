pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/sha256/sha256.circom";
include "circomlib/circuits/bitify.circom";
include "./lib/bits.circom";
include "./lib/queue_op.circom";
include "./lib/bundle.circom";
include "./lib/credit_slot.circom";
include "./lib/logup.circom";
include "./lib/ticket_bundle.circom";

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
// Payment tickets (docs/PROTOCOL.md §16), in an instance with NTC + NW > 0:
// after step 2, NTC ticket bundles are committed (TicketCommit), NW winning
// tickets of earlier bundles are paid (TicketWinner, credits into the same
// slots) and the pool moves (TicketPool); three more public inputs give the
// batch's number and the beacon its winners are drawn under, and the body
// gains, after the bundle records,
//   NTC x [providerIdx I, bundleIdx I, count u16, rootHash u256, rootSum u96]
//   NW  x [bundleIdx I, ticketIndex u16]
//   1   x [poolIdx I, inflow u96, outflow u96]
// An instance without tickets (NTC = NW = 0) has none of this: its three
// ticket inputs are unused and not public.
//
// D is the number of levels of the 4-ary account tree (4^D leaves).
template Batch(D, NQ, NB, B, K, T, NEW, FEE_BITS, SCORE_BITS, PROTOCOL_BPS, OWNER_BPS, DT, NTC, NW) {
    assert(NB + 2 <= 16);
    assert(T >= 1);
    assert(NEW <= T - 1);
    assert(D <= 16);
    var TICKETS = NTC + NW > 0 ? 1 : 0;

    signal input oldRoot;
    signal input newRoot;
    signal input oldQueueHash;
    signal input newQueueHash;
    signal input domain;
    signal input bodyHash;
    signal input batchNumber;
    signal input beaconBatch;
    signal input beacon;

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

    // 2b. tickets
    signal input tcEnabled[NTC];
    signal input tcProviderIdx[NTC];
    signal input tcAddress[NTC];
    signal input tcBalance[NTC];
    signal input tcAx[NTC];
    signal input tcAy[NTC];
    signal input tcNonce[NTC];
    signal input tcProviderSiblings[NTC][D][3];
    signal input tcSigS[NTC];
    signal input tcSigR8x[NTC];
    signal input tcSigR8y[NTC];
    signal input tcCount[NTC];
    signal input tcRootHash[NTC];
    signal input tcRootSum[NTC];
    signal input tcBundleIdx[NTC];
    signal input tcBundleOldLeaf[NTC];
    signal input tcBundleSiblings[NTC][D][3];
    signal input twEnabled[NW];
    signal input twBundleIdx[NW];
    signal input twBundleOldLeaf[NW];
    signal input twRootHash[NW];
    signal input twRootSum[NW];
    signal input twProviderIdx[NW];
    signal input twFirstNonce[NW];
    signal input twCount[NW];
    signal input twCommitBatch[NW];
    signal input twCursor[NW];
    signal input twBundleSiblings[NW][D][3];
    signal input twTicketIndex[NW];
    signal input twOwner[NW];
    signal input twFace[NW];
    signal input twInputHash[NW];
    signal input twOutputHash[NW];
    signal input twContributor[NW][K];
    signal input twScore[NW][K];
    signal input twWinProb[NW];
    signal input twTicketSiblingHash[NW][DT][3];
    signal input twTicketSiblingSum[NW][DT][3];
    signal input tpEnabled[TICKETS];
    signal input tpPoolIdx[TICKETS];
    signal input tpAddress[TICKETS];
    signal input tpBalance[TICKETS];
    signal input tpAx[TICKETS];
    signal input tpAy[TICKETS];
    signal input tpNonce[TICKETS];
    signal input tpSiblings[TICKETS][D][3];
    signal input tpInflow[TICKETS];
    signal input tpOutflow[TICKETS];

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
    var COMMIT_BITS = 2 * IDX_BITS + 16 + 256 + 96;
    var WINNER_BITS = IDX_BITS + 16;
    var POOL_BITS = IDX_BITS + 192;
    var TICKET_BITS = TICKETS * (NTC * COMMIT_BITS + NW * WINNER_BITS + POOL_BITS);
    var BODY_BITS = NQ * OP_BITS + NB * BUNDLE_BITS + TICKET_BITS + T * SLOT_BITS + NEW * 160;
    signal body[BODY_BITS];
    var at = 0;

    // Roots after each step; TS is where the slots' chain starts.
    var TS = NQ + NB + TICKETS * (NTC + NW + 1);
    signal root[TS + T + 1];
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
    var NCREDITS = NB * NC + NW * (K + 1);
    component bundle[NB];
    component bIdxBits[NB];
    component bCountBits[NB];
    component bFeeBits[NB];
    signal creditAddress[NCREDITS + 1];
    signal creditAmount[NCREDITS + 1];
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
    // 2b. Ticket bundles committed, winners paid, the pool moved (§16.3).
    component commit[NTC];
    component cmCountBits[NTC];
    component cmRootBits[NTC];
    component cmRootPad[NTC];
    component cmSumBits[NTC];
    signal cmProviderIdx[NTC][IDX_BITS];
    signal cmBundleIdx[NTC][IDX_BITS];
    var inflow = 0;
    for (var c = 0; c < NTC; c++) {
        commit[c] = TicketCommit(D, DT);
        commit[c].enabled <== tcEnabled[c];
        commit[c].domain <== domain;
        commit[c].batchNumber <== batchNumber;
        commit[c].providerIdx <== tcProviderIdx[c];
        commit[c].address <== tcAddress[c];
        commit[c].balance <== tcBalance[c];
        commit[c].ax <== tcAx[c];
        commit[c].ay <== tcAy[c];
        commit[c].nonce <== tcNonce[c];
        commit[c].providerSiblings <== tcProviderSiblings[c];
        commit[c].sigS <== tcSigS[c];
        commit[c].sigR8x <== tcSigR8x[c];
        commit[c].sigR8y <== tcSigR8y[c];
        commit[c].count <== tcCount[c];
        commit[c].rootHash <== tcRootHash[c];
        commit[c].rootSum <== tcRootSum[c];
        commit[c].bundleIdx <== tcBundleIdx[c];
        commit[c].bundleOldLeaf <== tcBundleOldLeaf[c];
        commit[c].bundleSiblings <== tcBundleSiblings[c];
        commit[c].rootIn <== root[NQ + NB + c];
        root[NQ + NB + c + 1] <== commit[c].rootOut;
        inflow += tcRootSum[c];

        cmProviderIdx[c] <== PadBE(2 * D, IDX_BITS)(commit[c].providerIdxBits);
        cmBundleIdx[c] <== PadBE(2 * D, IDX_BITS)(commit[c].bundleIdxBits);
        cmCountBits[c] = ToBitsBE(16);
        cmCountBits[c].in <== tcCount[c];
        // The root hash as its unique 254-bit form, in 32 bytes.
        cmRootBits[c] = Num2Bits_strict();
        cmRootBits[c].in <== tcRootHash[c];
        cmRootPad[c] = PadBE(254, 256);
        cmRootPad[c].le <== cmRootBits[c].out;
        cmSumBits[c] = ToBitsBE(96);
        cmSumBits[c].in <== tcRootSum[c];
        for (var i = 0; i < IDX_BITS; i++) { body[at + i] <== cmProviderIdx[c][i]; }
        for (var i = 0; i < IDX_BITS; i++) { body[at + IDX_BITS + i] <== cmBundleIdx[c][i]; }
        for (var i = 0; i < 16; i++) { body[at + 2 * IDX_BITS + i] <== cmCountBits[c].out[i]; }
        for (var i = 0; i < 256; i++) { body[at + 2 * IDX_BITS + 16 + i] <== cmRootPad[c].out[i]; }
        for (var i = 0; i < 96; i++) { body[at + 2 * IDX_BITS + 272 + i] <== cmSumBits[c].out[i]; }
        at += COMMIT_BITS;
    }

    component winner[NW];
    signal wnBundleIdx[NW][IDX_BITS];
    signal wnTicketIdx[NW][16];
    var outflow = 0;
    for (var x = 0; x < NW; x++) {
        winner[x] = TicketWinner(D, DT, K, FEE_BITS, SCORE_BITS, PROTOCOL_BPS, OWNER_BPS);
        winner[x].enabled <== twEnabled[x];
        winner[x].beaconBatch <== beaconBatch;
        winner[x].beacon <== beacon;
        winner[x].bundleIdx <== twBundleIdx[x];
        winner[x].bundleOldLeaf <== twBundleOldLeaf[x];
        winner[x].rootHash <== twRootHash[x];
        winner[x].rootSum <== twRootSum[x];
        winner[x].providerIdx <== twProviderIdx[x];
        winner[x].firstNonce <== twFirstNonce[x];
        winner[x].count <== twCount[x];
        winner[x].commitBatch <== twCommitBatch[x];
        winner[x].cursor <== twCursor[x];
        winner[x].bundleSiblings <== twBundleSiblings[x];
        winner[x].ticketIndex <== twTicketIndex[x];
        winner[x].owner <== twOwner[x];
        winner[x].face <== twFace[x];
        winner[x].inputHash <== twInputHash[x];
        winner[x].outputHash <== twOutputHash[x];
        winner[x].contributor <== twContributor[x];
        winner[x].score <== twScore[x];
        winner[x].winProb <== twWinProb[x];
        winner[x].ticketSiblingHash <== twTicketSiblingHash[x];
        winner[x].ticketSiblingSum <== twTicketSiblingSum[x];
        winner[x].rootIn <== root[NQ + NB + NTC + x];
        root[NQ + NB + NTC + x + 1] <== winner[x].rootOut;
        for (var i = 0; i <= K; i++) {
            creditAddress[NB * NC + x * (K + 1) + i] <== winner[x].creditAddress[i];
            creditAmount[NB * NC + x * (K + 1) + i] <== winner[x].creditAmount[i];
        }
        outflow += winner[x].poolOut;

        wnBundleIdx[x] <== PadBE(2 * D, IDX_BITS)(winner[x].bundleIdxBits);
        wnTicketIdx[x] <== PadBE(2 * DT, 16)(winner[x].ticketIndexBits);
        for (var i = 0; i < IDX_BITS; i++) { body[at + i] <== wnBundleIdx[x][i]; }
        for (var i = 0; i < 16; i++) { body[at + IDX_BITS + i] <== wnTicketIdx[x][i]; }
        at += WINNER_BITS;
    }

    // The pool: one step in an instance with tickets, none otherwise (arrays of TICKETS = 0 or 1).
    component pool[TICKETS];
    signal plIdx[TICKETS][IDX_BITS];
    component plIn[TICKETS];
    component plOut[TICKETS];
    for (var k = 0; k < TICKETS; k++) {
        tpInflow[k] === inflow;
        tpOutflow[k] === outflow;
        pool[k] = TicketPool(D, poolAddress());
        pool[k].enabled <== tpEnabled[k];
        pool[k].poolIdx <== tpPoolIdx[k];
        pool[k].address <== tpAddress[k];
        pool[k].balance <== tpBalance[k];
        pool[k].ax <== tpAx[k];
        pool[k].ay <== tpAy[k];
        pool[k].nonce <== tpNonce[k];
        pool[k].siblings <== tpSiblings[k];
        pool[k].inflow <== tpInflow[k];
        pool[k].outflow <== tpOutflow[k];
        pool[k].rootIn <== root[TS - 1];
        root[TS] <== pool[k].rootOut;
        plIdx[k] <== PadBE(2 * D, IDX_BITS)(pool[k].poolIdxBits);
        plIn[k] = ToBitsBE(96);
        plIn[k].in <== tpInflow[k];
        plOut[k] = ToBitsBE(96);
        plOut[k].in <== tpOutflow[k];
        for (var i = 0; i < IDX_BITS; i++) { body[at + i] <== plIdx[k][i]; }
        for (var i = 0; i < 96; i++) { body[at + IDX_BITS + i] <== plIn[k].out[i]; }
        for (var i = 0; i < 96; i++) { body[at + IDX_BITS + 96 + i] <== plOut[k].out[i]; }
        at += POOL_BITS;
    }

    // The protocol's share of every receipt goes to the treasury (slot 0);
    // of a winning ticket, it stays in the pool.
    creditAddress[NCREDITS] <== cAddress[0];
    creditAmount[NCREDITS] <== protocol;

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
        slot[t].rootIn <== root[TS + t];
        root[TS + t + 1] <== slot[t].rootOut;

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
    root[TS + T] === newRoot;

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
    signal credited <== CreditSum(NCREDITS + 1)(gamma, creditAddress, creditAmount);
    signal applied <== CreditSum(T)(gamma, cAddress, cDelta);
    credited === applied;
}
