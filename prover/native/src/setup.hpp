// Groth16 phase 2's first step, natively: a circuit's .r1cs and a prepared
// .ptau in, the initial proving key (snarkjs's `zkey new`, zero
// contributions: δ = 1) out, in snarkjs's zkey layout, section by section.
//
// snarkjs's zkey_new.js takes 2.3 hours and 9.4 GB for the production circuit
// on this machine; most of it is JavaScript bookkeeping around millions of
// small multi-scalar multiplications. Each proving-key point is a sparse sum
// over the constraints that use its wire, of r1cs coefficients times the
// ptau's Lagrange points (L_c(τ)·G, α·L_c(τ)·G, β·L_c(τ)·G):
//   A_w  = Σ_{c: A_cw ≠ 0} A_cw·L_c(τ)G1            (+ L_{n+w} for public w)
//   B1_w = Σ B_cw·L_c(τ)G1,  B2_w = Σ B_cw·L_c(τ)G2
//   C_w  = Σ (A_cw·βL_c + B_cw·αL_c + C_cw·L_c)(τ)G1  (private w; IC: public w)
//   H_i  = L^{2n}_{2i+1}(τ)G1 (the odd points of the doubled domain)
// The file's csHash (section 10) is the same BLAKE2b-512 over the same points
// as snarkjs's, so `snarkjs zkey contribute` and its later steps accept it.
#pragma once
#include <string>

namespace poa {

struct SetupStats {
  uint32_t constraints, wires, n_public, domain_size;
  size_t terms;
  double read_ms, compose_ms, hash_ms, total_ms;
  // snarkjs hashes one H point past the ptau's tauG1 section when the domain
  // is the ptau's whole size (and above 2^14): that point is left out here.
  bool cs_hash_matches_snarkjs;
  uint8_t cs_hash[64];
};

SetupStats new_zkey(const std::string& r1cs_path, const std::string& ptau_path, const std::string& zkey_path, int threads);

}  // namespace poa
