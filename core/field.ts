// The BN254 scalar field r: every circuit signal lives in it, and so do the
// exponents of the Groth16 trusted setup.
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
