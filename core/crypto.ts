// ZK-friendly primitives shared by every stage: Poseidon, EdDSA-Poseidon on
// Baby Jubjub, and the field. circomlibjs builds its tables once; every caller
// shares the instances built here.
import { buildEddsa, buildPoseidon, type Eddsa, type Poseidon } from "circomlibjs";

import { onCurve, scalarMul, SUB_ORDER, verifyWithHash } from "./babyjub.js";
import { FIELD_MODULUS } from "./field.js";
import { loadNativePoseidon, type NativePoseidon } from "./poseidon-native.js";

export { FIELD_MODULUS };

let poseidonP: Promise<Poseidon> | undefined;
let eddsaP: Promise<Eddsa> | undefined;
let poseidonFn: Poseidon | undefined;
let native: NativePoseidon | undefined;
let nativeMissing: string | undefined;

/** Builds the circomlibjs instances and loads the native Poseidon if built; call once before using `poseidon`. */
export async function initCrypto(): Promise<void> {
  poseidonP ??= buildPoseidon();
  eddsaP ??= buildEddsa();
  poseidonFn = await poseidonP;
  await eddsaP;
  if (!native && nativeMissing === undefined) {
    const loaded = loadNativePoseidon();
    if ("missing" in loaded) nativeMissing = loaded.missing;
    else native = loaded;
  }
}

/** Which Poseidon `poseidon` runs: the native addon, or circomlibjs and why. */
export function poseidonImplementation(): { native: true; path: string } | { native: false; why: string } {
  return native ? { native: true, path: native.path } : { native: false, why: nativeMissing ?? "initCrypto() not awaited" };
}

/** circomlibjs's Poseidon: what the addon is checked against, and the path for non-canonical inputs. */
export function poseidonJs(inputs: bigint[]): bigint {
  if (!poseidonFn) throw new Error("initCrypto() must be awaited before poseidon()");
  return poseidonFn.F.toObject(poseidonFn(inputs));
}

/** Poseidon over 1..16 field elements (the circomlib parameters). */
export function poseidon(inputs: bigint[]): bigint {
  if (!poseidonFn) throw new Error("initCrypto() must be awaited before poseidon()");
  if (native) {
    try {
      return native.hash(inputs);
    } catch {
      // A value outside [0, r) (circomlibjs reduces it) or a width the addon refuses: circomlibjs decides.
    }
  }
  return poseidonJs(inputs);
}

export interface PublicKey {
  ax: bigint;
  ay: bigint;
}

export interface EdDSASignature {
  R8x: bigint;
  R8y: bigint;
  S: bigint;
}

async function eddsa(): Promise<Eddsa> {
  eddsaP ??= buildEddsa();
  return eddsaP;
}

/** The Baby Jubjub public key of a 32-byte private key. */
export async function publicKeyOf(privateKey: Uint8Array): Promise<PublicKey> {
  const e = await eddsa();
  const [x, y] = e.prv2pub(privateKey);
  return { ax: e.F.toObject(x), ay: e.F.toObject(y) };
}

/** EdDSA-Poseidon signature of one field element, as circomlib's verifier checks it. */
export async function signMessage(privateKey: Uint8Array, message: bigint): Promise<EdDSASignature> {
  const e = await eddsa();
  const sig = e.signPoseidon(privateKey, e.F.e(message));
  return { R8x: e.F.toObject(sig.R8[0]), R8y: e.F.toObject(sig.R8[1]), S: sig.S };
}

/**
 * Why a provider key cannot sign in the circuit, or undefined when it can.
 *
 * circomlib's EdDSAPoseidonVerifier refuses a key A whose 8·A is the identity,
 * while circomlibjs's verifyPoseidon accepts one (with R8 = (0, 1), S = 0 it
 * verifies any message). The sequencer goes further and takes only keys of the
 * prime-order subgroup, the keys that `prv2pub` makes: l·A = identity, A ≠ identity.
 */
export async function keyProblem(key: PublicKey): Promise<string | undefined> {
  const id = `${key.ax}:${key.ay}`;
  if (keyProblems.has(id)) return keyProblems.get(id);
  const problem = await findKeyProblem(key);
  if (keyProblems.size >= 10_000) keyProblems.clear(); // keys come from deposits, each paid for on L1
  keyProblems.set(id, problem);
  return problem;
}

/** Memo of `keyProblem`: its scalar multiplications cost about as much as a signature check. */
const keyProblems = new Map<string, string | undefined>();

async function findKeyProblem(key: PublicKey): Promise<string | undefined> {
  if (key.ax === 0n && key.ay === 0n) return "the account has no signing key";
  if (key.ax >= FIELD_MODULUS || key.ay >= FIELD_MODULUS) return "the key's coordinates are not field elements";
  if (!onCurve(key.ax, key.ay)) return "the key is not a point of Baby Jubjub";
  const isIdentity = ([x, y]: [bigint, bigint]) => x === 0n && y === 1n;
  if (isIdentity(scalarMul(key.ax, key.ay, 8n))) return "the key is a point of small order (8·A is the identity)";
  if (!isIdentity(scalarMul(key.ax, key.ay, SUB_ORDER))) return "the key is not in Baby Jubjub's prime-order subgroup";
  return undefined;
}

/**
 * EdDSA-Poseidon verification as strict as the circuit: a key with a `keyProblem` never verifies.
 * The same check as circomlibjs's verifyPoseidon, in native BigInt (core/babyjub.ts, ~25× faster).
 */
export async function verifySignature(message: bigint, sig: EdDSASignature, key: PublicKey): Promise<boolean> {
  if (await keyProblem(key)) return false;
  await initCrypto();
  const m = (x: bigint) => ((x % FIELD_MODULUS) + FIELD_MODULUS) % FIELD_MODULUS;
  const hm = poseidon([m(sig.R8x), m(sig.R8y), m(key.ax), m(key.ay), m(message)]);
  return verifyWithHash(hm, sig.R8x, sig.R8y, sig.S, key.ax, key.ay);
}

/** circomlibjs's own verifyPoseidon (the reference the fast check is tested against). */
export async function verifySignatureReference(message: bigint, sig: EdDSASignature, key: PublicKey): Promise<boolean> {
  if (await keyProblem(key)) return false;
  const e = await eddsa();
  const F = e.F;
  return e.verifyPoseidon(F.e(message), { R8: [F.e(sig.R8x), F.e(sig.R8y)], S: sig.S }, [F.e(key.ax), F.e(key.ay)]);
}
