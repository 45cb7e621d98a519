// Baby Jubjub in native BigInt, for verifying EdDSA-Poseidon signatures fast:
// extended twisted Edwards coordinates (no inversion until the end), a 4-bit
// window for a variable base, and precomputed tables for the fixed base B8 and
// for the public keys that sign again and again.
// circomlibjs computes the same check in affine coordinates with an inversion
// per addition, about 25 times slower here; test/babyjub.test.ts compares the
// two on valid, tampered and random signatures.
//
//   curve:  a·x² + y² = 1 + d·x²·y²  over F_p (p: BN254's scalar field), a = 168700, d = 168696
//   B8:     the generator of the prime-order subgroup (order l = subOrder)
//   verify: S < l, R8 on the curve, and S·B8 = R8 + (8·H(R8, A, m))·A
import { FIELD_MODULUS as P } from "./field.js";

const A = 168700n;
const D = 168696n;
/** The order of B8's subgroup (circomlibjs `subOrder`). */
export const SUB_ORDER = 2736030358979909402780800718157159386076813972158567259200215660948447373041n;
const B8: readonly [bigint, bigint] = [
  5299619240641551281634865583518297030282874472190772894086521144482721001553n,
  16950150798460657717958625567821834550301663161624707787222815936182638968203n,
];

/** (X : Y : Z : T) with x = X/Z, y = Y/Z, x·y = T/Z. */
type Point = [bigint, bigint, bigint, bigint];

const mod = (x: bigint) => {
  const r = x % P;
  return r < 0n ? r + P : r;
};

const IDENTITY: Point = [0n, 1n, 1n, 0n];
const fromAffine = (x: bigint, y: bigint): Point => [x, y, 1n, mod(x * y)];

/** Unified addition (add-2008-hwcd): complete on Baby Jubjub (a square, d not), so it also doubles. */
function add(p: Point, q: Point): Point {
  const a = mod(p[0] * q[0]);
  const b = mod(p[1] * q[1]);
  const c = mod(mod(p[3] * D) * q[3]);
  const d = mod(p[2] * q[2]);
  const e = mod((p[0] + p[1]) * (q[0] + q[1]) - a - b);
  const f = d - c;
  const g = d + c;
  const h = b - A * a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

/** Doubling (dbl-2008-hwcd). */
function double(p: Point): Point {
  const a = mod(p[0] * p[0]);
  const b = mod(p[1] * p[1]);
  const c = mod(2n * p[2] * p[2]);
  const d = mod(A * a);
  const e = mod((p[0] + p[1]) * (p[0] + p[1]) - a - b);
  const g = d + b;
  const f = g - c;
  const h = d - b;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

/** k·p, 4 bits at a time from the top. */
function multiply(p: Point, k: bigint): Point {
  const table: Point[] = [IDENTITY, p];
  for (let i = 2; i < 16; i++) table.push(add(table[i - 1], p));
  let r = IDENTITY;
  const bits = k.toString(2);
  const pad = (4 - (bits.length % 4)) % 4;
  const padded = "0".repeat(pad) + bits;
  for (let i = 0; i < padded.length; i += 4) {
    if (i > 0) r = double(double(double(double(r))));
    const w = parseInt(padded.slice(i, i + 4), 2);
    if (w) r = add(r, table[w]);
  }
  return r;
}

/** A fixed base's table: for each 4-bit window j, w·16^j·base for w = 0..15 (64 windows cover 256 bits). */
function fixedBaseTable(p: Point): Point[][] {
  const out: Point[][] = [];
  let base = p;
  for (let j = 0; j < 64; j++) {
    const row: Point[] = [IDENTITY, base];
    for (let w = 2; w < 16; w++) row.push(add(row[w - 1], base));
    out.push(row);
    base = double(double(double(double(base))));
  }
  return out;
}

/** k·base from its table: one addition per nonzero window, no doubling. */
function multiplyFixed(table: Point[][], k: bigint): Point {
  let r = IDENTITY;
  for (let j = 0; k > 0n; j++, k >>= 4n) {
    const w = Number(k & 15n);
    if (w) r = add(r, table[j][w]);
  }
  return r;
}

const B8_TABLE = fixedBaseTable(fromAffine(B8[0], B8[1]));

/**
 * Tables of the public keys that verified lately. A provider signs every bundle with the same key,
 * so its table (about 3 verifications' work to build, ~200 KB) turns the variable-base product
 * (8·hm)·A, 251 doublings and 63 additions, into ≤ 64 additions: the check costs about a third.
 * Keys come from deposits paid for on L1; the least recently used table goes past KEY_TABLES.
 */
const KEY_TABLES = 128;
const keyTables = new Map<string, Point[][]>();
function keyTable(x: bigint, y: bigint): Point[][] {
  const id = `${x}:${y}`;
  let t = keyTables.get(id);
  if (t) keyTables.delete(id); // re-inserted below: the Map's order is the recency
  else {
    t = fixedBaseTable(fromAffine(x, y));
    if (keyTables.size >= KEY_TABLES) keyTables.delete(keyTables.keys().next().value!);
  }
  keyTables.set(id, t);
  return t;
}

const samePoint = (p: Point, q: Point) => mod(p[0] * q[2] - q[0] * p[2]) === 0n && mod(p[1] * q[2] - q[1] * p[2]) === 0n;

export function onCurve(x: bigint, y: bigint): boolean {
  const x2 = mod(x * x), y2 = mod(y * y);
  return mod(A * x2 + y2 - 1n - mod(D * x2) * y2) === 0n;
}

/** k·(x, y) in affine coordinates (for tests and key checks). */
export function scalarMul(x: bigint, y: bigint, k: bigint): [bigint, bigint] {
  const r = multiply(fromAffine(mod(x), mod(y)), k);
  const zi = inverse(r[2]);
  return [mod(r[0] * zi), mod(r[1] * zi)];
}

function inverse(x: bigint): bigint {
  // Fermat: x^(p−2); p is prime.
  let r = 1n, b = mod(x), e = P - 2n;
  while (e > 0n) {
    if (e & 1n) r = mod(r * b);
    b = mod(b * b);
    e >>= 1n;
  }
  return r;
}

/**
 * circomlibjs's verifyPoseidon, exactly, for a key of the prime-order subgroup (the caller checks
 * that: `keyProblem`), given hm = Poseidon(R8x, R8y, Ax, Ay, m). Coordinates are taken mod p, as
 * circomlibjs's F.e takes them.
 */
export function verifyWithHash(hm: bigint, r8x: bigint, r8y: bigint, s: bigint, ax: bigint, ay: bigint): boolean {
  const [rx, ry, kx, ky] = [mod(r8x), mod(r8y), mod(ax), mod(ay)];
  if (!onCurve(rx, ry) || !onCurve(kx, ky) || s >= SUB_ORDER || s < 0n) return false;
  // A has order l, so (8·hm)·A = ((8·hm) mod l)·A.
  const right = add(fromAffine(rx, ry), multiplyFixed(keyTable(kx, ky), (8n * hm) % SUB_ORDER));
  return samePoint(multiplyFixed(B8_TABLE, s), right);
}
