// The native Poseidon (prover/native/addon/poseidon.cpp), loaded when
// `npm run build:native` built it. It computes circomlibjs's Poseidon exactly
// (test/poseidon-native.test.ts compares every width), 10–25× faster: the
// ticket and receipt hashes that every bundle check and every signed ticket
// needs are most of a provider's and the sequencer's CPU at inference scale.
//
// POA_POSEIDON=js keeps circomlibjs (for comparisons and benchmarks).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { findNativeProver } from "../prover/native/build.js";

export interface NativePoseidon {
  /** Poseidon of 1..16 canonical field elements; throws RangeError for a value outside [0, r). */
  hash(inputs: bigint[]): bigint;
  /** flat.length / width hashes of `width` inputs each. */
  hashMany(flat: bigint[], width: number): bigint[];
  /** Where the addon was loaded from. */
  path: string;
}

interface Addon {
  setConstants(t: number, roundsP: number, C: bigint[], S: bigint[], M: bigint[], P: bigint[]): void;
  hash(inputs: bigint[]): bigint;
  hashMany(flat: bigint[], width: number): bigint[];
}

// circomlib's partial-round counts for t = 2..17 (poseidon_opt.js).
const ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

interface OptConstants {
  C: string[][];
  S: string[][];
  M: string[][][];
  P: string[][][];
}

/** circomlibjs's own round constants, so the two implementations share one table. */
function circomlibConstants(): OptConstants {
  const require = createRequire(import.meta.url);
  const main = require.resolve("circomlibjs"); // …/circomlibjs/build/main.cjs
  return JSON.parse(readFileSync(join(dirname(main), "..", "src", "poseidon_constants_opt.json"), "utf8")) as OptConstants;
}

/** The addon with every width's constants set, or why there is none. */
export function loadNativePoseidon(): NativePoseidon | { missing: string } {
  if (process.env.POA_POSEIDON === "js") return { missing: "POA_POSEIDON=js" };
  const build = findNativeProver();
  if ("missing" in build) return build;
  if (!build.poseidon) return { missing: `the Poseidon addon was not built (see ${join(build.dir, "poseidon-failed.txt")})` };
  return loadPoseidonAddon(build.poseidon);
}

/** Loads an addon file and sets every width's constants (each load is its own instance). */
export function loadPoseidonAddon(path: string): NativePoseidon {
  const addon = createRequire(import.meta.url)(path) as Addon;
  const k = circomlibConstants();
  const big = (xs: string[]) => xs.map((x) => BigInt(x));
  for (let i = 0; i < ROUNDS_P.length; i++) {
    addon.setConstants(i + 2, ROUNDS_P[i], big(k.C[i]), big(k.S[i]), big(k.M[i].flat()), big(k.P[i].flat()));
  }
  return { hash: (xs) => addon.hash(xs), hashMany: (flat, width) => addon.hashMany(flat, width), path };
}
