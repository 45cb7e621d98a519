// Minimal typings for the parts of circomlibjs that poa-rollup uses.
declare module "circomlibjs" {
  export interface Field {
    e(x: bigint | number | string): Uint8Array;
    toObject(x: Uint8Array): bigint;
  }
  export interface Poseidon {
    (inputs: (bigint | number)[]): Uint8Array;
    F: Field;
  }
  export interface Signature {
    R8: [Uint8Array, Uint8Array];
    S: bigint;
  }
  export interface BabyJub {
    F: Field & { isZero(x: Uint8Array): boolean; eq(a: Uint8Array, b: Uint8Array): boolean; one: Uint8Array };
    subOrder: bigint;
    Base8: [Uint8Array, Uint8Array];
    inCurve(P: [Uint8Array, Uint8Array]): boolean;
    mulPointEscalar(P: [Uint8Array, Uint8Array], e: bigint): [Uint8Array, Uint8Array];
  }
  export interface Eddsa {
    F: Field;
    babyJub: BabyJub;
    prv2pub(prv: Uint8Array): [Uint8Array, Uint8Array];
    signPoseidon(prv: Uint8Array, msg: Uint8Array): Signature;
    verifyPoseidon(msg: Uint8Array, sig: Signature, A: [Uint8Array, Uint8Array]): boolean;
  }
  export function buildPoseidon(): Promise<Poseidon>;
  export function buildEddsa(): Promise<Eddsa>;
  export function buildBabyjub(): Promise<BabyJub>;
  export const poseidonContract: {
    createCode(nInputs: number): string;
    generateABI(nInputs: number): unknown[];
  };
}
declare module "snarkjs";
