// The BN254 scalar field r: every circuit signal lives in it, and so do the
// exponents of the Groth16 trusted setup.
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** x^-1 mod p (Fermat: x^(p−2)); throws for 0, which has none. */
export function fieldInverse(x: bigint): bigint {
  let b = ((x % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS;
  if (b === 0n) throw new Error("0 has no inverse in the field");
  let r = 1n;
  for (let e = FIELD_MODULUS - 2n; e > 0n; e >>= 1n, b = (b * b) % FIELD_MODULUS) if (e & 1n) r = (r * b) % FIELD_MODULUS;
  return r;
}
