// The Groth16 proving key and witness as snarkjs writes them, checked as they
// are read, so that a damaged file is named instead of proving garbage.
//
// zkey sections: 1 protocol id (1 = Groth16) | 2 header: n8q, q, n8r, r, nVars,
// nPublic, domainSize, α1, β1, β2, γ2, δ1, δ2 | 3 IC (verifier only) |
// 4 coefficients of A and B: count u32, then (matrix u32, constraint u32,
// signal u32, value 32 bytes Montgomery·R) | 5 A, 6 B1 (G1, nVars each) |
// 7 B2 (G2, nVars) | 8 C (G1, nVars − nPublic − 1) | 9 H (G1, domainSize).
// wtns sections: 1 header: n8, prime, count | 2 values (normal form, LE).
#pragma once
#include <memory>

#include "binfile.hpp"
#include "curve.hpp"

namespace poa {

struct Coefficient {  // packed as in the file: 44 bytes
  uint32_t matrix, constraint, signal;
  u64 value[4];
} __attribute__((packed));
static_assert(sizeof(Coefficient) == 44, "zkey coefficients are 44 bytes");

struct ProvingKey {
  std::unique_ptr<BinFile> file;
  uint32_t n_vars, n_public, domain_size;
  G1Affine alpha1, beta1, delta1;
  G2Affine beta2, gamma2, delta2;
  const Coefficient* coefficients;
  size_t n_coefficients;
  const G1Affine *a, *b1, *c, *h;
  const G2Affine* b2;
};

struct Witness {
  std::unique_ptr<BinFile> file;
  uint32_t count;
  const u64* values;  // count × 4 limbs, normal form
};

// Reads a zkey (mapped) and checks its structure, coefficients and points.
ProvingKey read_zkey(const std::string& path, int threads);
// Reads a .wtns held in memory and checks it fits the key.
Witness read_witness(std::vector<uint8_t>&& bytes, const ProvingKey& key);

}  // namespace poa
