// Groth16 proving, step for step as snarkjs's groth16_prove.js, so that its
// verifier, the Solidity verifier and the browser check accept the proofs.
#pragma once
#include <string>
#include <vector>

#include "zkey.hpp"

namespace poa {

struct Proof {
  G1Affine a, c;
  G2Affine b;
  std::vector<Limbs> public_signals;  // normal form
};

// Milliseconds per stage, for the benchmark's profile.
struct Profile {
  double read_ms = 0, abc_ms = 0, fft_ms = 0, msm_g1_ms = 0, msm_g2_ms = 0, total_ms = 0;
};

// r and s come from the OS CSPRNG (getrandom).
Proof prove(const ProvingKey& key, const Witness& w, int threads, Profile& profile);

// Fresh uniform element of Fr from the OS CSPRNG, normal form.
Limbs random_scalar();

}  // namespace poa
