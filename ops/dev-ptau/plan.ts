// The layout of a prepared .ptau file (snarkjs's binary "ptau" format,
// version 1) and the work that fills it.
//
//   "ptau" u32 version=1 u32 nSections, then per section: u32 id, u64 size, data
//   1  header        u32 n8=32, q (32 bytes LE), u32 power, u32 ceremonyPower
//   2  tauG1         tau^i·G1           i < 2N-1            (N = 2^power)
//   3  tauG2         tau^i·G2           i < N
//   4  alphaTauG1    alpha·tau^i·G1     i < N
//   5  betaTauG1     beta·tau^i·G1      i < N
//   6  betaG2        beta·G2
//   7  contributions u32 count (+ records; see generate.ts)
//   12 Lagrange tauG1: for M = 2^0 … 2^(power+1), L_i^M(tau)·G1, i < M
//   13 Lagrange tauG2, 14 alpha·…G1, 15 beta·…G1: for M = 2^0 … 2^power
//
// L_i^M is the Lagrange basis of the size-M domain {w^i}; snarkjs's
// `prepare phase2` obtains these points by an IFFT over curve points of the
// powers, which is exactly L_i^M(tau) = (tau^M - 1)/M · w^i/(tau - w^i). Its
// last block (M = 2N) is the IFFT of tau^0 … tau^(2N-2) followed by a zero
// (section 2 has no tau^(2N-1)), i.e. L_i(tau) - tau^(2N-1)/M · w^i.
import { affineSize, N8, type Group } from "./bn128.js";
import { inv, mod, pow, rootsOfUnity, type ScalarSpec } from "./scalars.js";

/** The BN254 base field order q (the header names the curve by it). */
export const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

export interface Secrets {
  tau: bigint;
  alpha: bigint;
  beta: bigint;
}

export interface PlannedJob {
  group: Group;
  n: number;
  scalars: ScalarSpec;
  /** File offset of the first point. */
  offset: number;
}

export interface Plan {
  power: number;
  /** Everything that is not a point: file header, section headers, sections 1 and 7. */
  fixed: { offset: number; bytes: Uint8Array }[];
  jobs: PlannedJob[];
  size: number;
}

export const CHUNK = { G1: 1 << 13, G2: 1 << 12 } as const;

export function planPtau(power: number, s: Secrets, contributions: Uint8Array): Plan {
  if (!Number.isInteger(power) || power < 1 || power > 27) throw new Error(`dev-ptau: power must be an integer in 1..27, got ${power}`);
  const N = 2 ** power;
  const fixed: Plan["fixed"] = [];
  const jobs: PlannedJob[] = [];
  let pos = 12;

  const fileHeader = new DataView(new ArrayBuffer(12));
  new Uint8Array(fileHeader.buffer).set(new TextEncoder().encode("ptau"));
  fileHeader.setUint32(4, 1, true);
  fileHeader.setUint32(8, 11, true);
  fixed.push({ offset: 0, bytes: new Uint8Array(fileHeader.buffer) });

  const section = (id: number, size: number) => {
    const h = new DataView(new ArrayBuffer(12));
    h.setUint32(0, id, true);
    h.setBigUint64(4, BigInt(size), true);
    fixed.push({ offset: pos, bytes: new Uint8Array(h.buffer) });
    const start = pos + 12;
    pos = start + size;
    return start;
  };

  /** Points first·ratio^i·G for i < n, chunked. */
  const geometric = (group: Group, start: number, n: number, first: bigint, ratio: bigint) => {
    for (let a = 0; a < n; a += CHUNK[group]) {
      const m = Math.min(CHUNK[group], n - a);
      jobs.push({ group, n: m, offset: start + a * affineSize(group), scalars: { kind: "geometric", first: mod(first * pow(ratio, BigInt(a))), ratio } });
    }
  };

  /** f·L_i^M(tau)·G for the size-M = 2^p domain, minus f·e·w^i·G (see above). */
  const lagrange = (group: Group, start: number, p: number, f: bigint, e: bigint) => {
    const M = 2 ** p;
    const w = rootsOfUnity[p];
    const c = mod(f * mod(pow(s.tau, BigInt(M)) - 1n) * inv(BigInt(M)));
    for (let a = 0; a < M; a += CHUNK[group]) {
      const m = Math.min(CHUNK[group], M - a);
      jobs.push({ group, n: m, offset: start + a * affineSize(group), scalars: { kind: "lagrange", root: pow(w, BigInt(a)), w, tau: s.tau, c, e } });
    }
  };

  const header = new DataView(new ArrayBuffer(44));
  header.setUint32(0, N8, true);
  let q = Q;
  for (let i = 0; i < N8; i++, q >>= 8n) header.setUint8(4 + i, Number(q & 0xffn));
  header.setUint32(36, power, true);
  header.setUint32(40, power, true);
  fixed.push({ offset: section(1, 44), bytes: new Uint8Array(header.buffer) });

  const sz = (g: Group, n: number) => n * affineSize(g);
  geometric("G1", section(2, sz("G1", 2 * N - 1)), 2 * N - 1, 1n, s.tau);
  geometric("G2", section(3, sz("G2", N)), N, 1n, s.tau);
  geometric("G1", section(4, sz("G1", N)), N, s.alpha, s.tau);
  geometric("G1", section(5, sz("G1", N)), N, s.beta, s.tau);
  geometric("G2", section(6, sz("G2", 1)), 1, s.beta, s.tau);
  fixed.push({ offset: section(7, contributions.length), bytes: contributions });

  const lagrangeSection = (id: number, group: Group, f: bigint, maxP: number) => {
    let start = section(id, sz(group, 2 ** (maxP + 1) - 1));
    for (let p = 0; p <= maxP; p++) {
      const M = 2 ** p;
      const e = p === power + 1 ? mod(pow(s.tau, BigInt(M - 1)) * inv(BigInt(M))) : 0n;
      lagrange(group, start, p, f, e);
      start += sz(group, M);
    }
  };
  lagrangeSection(12, "G1", 1n, power + 1);
  lagrangeSection(13, "G2", 1n, power);
  lagrangeSection(14, "G1", s.alpha, power);
  lagrangeSection(15, "G1", s.beta, power);

  return { power, fixed, jobs, size: pos };
}
