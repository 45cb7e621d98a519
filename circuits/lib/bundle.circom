pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/eddsaposeidon.circom";
include "circomlib/circuits/babyjub.circom";
include "./account.circom";
include "./merkle.circom";
include "./bits.circom";
include "./payout.circom";
include "./receipt.circom";

// Bundle: up to B receipts of one provider under one EdDSA-Poseidon signature.
//
// The provider signs
//   message    = Poseidon(domain, bundleHash)
//   bundleHash = Poseidon(receiptHash[0], ..., receiptHash[B-1])   (0 for unused slots)
// so one ~4,200-constraint signature check covers B receipts. Receipt j carries
// nonce = provider nonce + j; the provider leaf's nonce then advances by the
// number of receipts, so no receipt can be applied twice. `enabled` is 1 for a
// prefix of the B slots; an unused slot has fee 0 and pays nothing.
//
// The provider pays every fee: its balance drops by the bundle total and must
// stay >= 0 (a 96-bit range check on the new balance). The credits come out as
// (address, amount) pairs, aggregated per account by the caller's CreditSum.
//
// Public data written (by the caller): providerIdx (2D bits, padded to whole
// bytes), count (8), totalFee (96).
template Bundle(D, B, K, FEE_BITS, SCORE_BITS, PROTOCOL_BPS, OWNER_BPS) {
    assert(B <= 16);
    assert(B < 256);
    signal input domain;
    signal input enabled[B];
    signal input providerIdx;
    signal input address;
    signal input balance;
    signal input ax;
    signal input ay;
    signal input nonce;
    signal input siblings[D][3];
    signal input sigS;
    signal input sigR8x;
    signal input sigR8y;
    signal input owner[B];
    signal input fee[B];
    signal input inputHash[B];
    signal input outputHash[B];
    signal input contributor[B][K];
    signal input score[B][K];
    signal input rootIn;

    signal output rootOut;
    signal output providerIdxBits[2 * D];
    signal output bundleHash;
    signal output count;
    signal output totalFee;
    signal output protocolTotal;
    signal output creditAddress[B * (K + 1)];
    signal output creditAmount[B * (K + 1)];

    signal active <== enabled[0];
    providerIdx * (1 - active) === 0;

    // Receipt slots in use form a prefix; an unused slot pays nothing.
    Prefix(B)(enabled);
    var n = 0;
    for (var j = 0; j < B; j++) {
        fee[j] * (1 - enabled[j]) === 0;
        n += enabled[j];
    }
    count <== n;

    component old = AccountLeaf();
    old.address <== address;
    old.balance <== balance;
    old.ax <== ax;
    old.ay <== ay;
    old.nonce <== nonce;
    old.isEmpty * active === 0;

    // Receipts: hash, pay out.
    signal receiptHash[B];
    signal slotHash[B];
    component payout[B];
    var fees = 0;
    var protocol = 0;
    for (var j = 0; j < B; j++) {
        receiptHash[j] <== ReceiptHash(K)(providerIdx, owner[j], fee[j], nonce + j,
                                          inputHash[j], outputHash[j], contributor[j], score[j]);
        slotHash[j] <== receiptHash[j] * enabled[j];

        payout[j] = ReceiptPayout(K, FEE_BITS, SCORE_BITS, PROTOCOL_BPS, OWNER_BPS);
        payout[j].fee <== fee[j];
        payout[j].score <== score[j];
        for (var i = 0; i < K; i++) {
            creditAddress[j * (K + 1) + i] <== contributor[j][i];
            creditAmount[j * (K + 1) + i] <== payout[j].share[i];
        }
        creditAddress[j * (K + 1) + K] <== owner[j];
        creditAmount[j * (K + 1) + K] <== payout[j].ownerTotal;
        fees += fee[j];
        protocol += payout[j].protocol;
    }
    totalFee <== fees;
    protocolTotal <== protocol;
    bundleHash <== Poseidon(B)(slotHash);

    // Signature by the key in the provider's leaf. BabyCheck keeps the key on
    // the curve (an unused bundle checks the identity point instead); the
    // verifier itself rejects low-order keys.
    signal message <== Poseidon(2)([domain, bundleHash]);
    BabyCheck()(ax * active, 1 + (ay - 1) * active);
    EdDSAPoseidonVerifier()(active, ax, ay, sigS, sigR8x, sigR8y, message);

    // Provider leaf: pay the fees, advance the nonce.
    signal newBalance <== balance - totalFee;
    Range(96)(newBalance);
    signal newLeaf;
    (_, newLeaf) <== AccountLeaf()(address, newBalance, ax, ay, nonce + count);
    (rootOut, providerIdxBits) <== LeafUpdate(D)(rootIn, providerIdx, old.hash, newLeaf, siblings);
}
