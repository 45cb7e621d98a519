// Choosing and checking the powers-of-tau file for phase 2.
import { existsSync, openSync, readFileSync, readSync, closeSync, statSync, mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileHash, ROOT } from "../artifacts/paths.js";
import { writeDevPtau } from "./dev-ptau/generate.js";
import { progressBar, step } from "./progress.js";

export interface PtauChoice {
  path: string;
  blake2b: string;
  power: number;
  source: "flag" | "shared" | "generated";
  insecure: boolean;
}

/** Walks a .ptau file's sections; returns the first 4+ bytes of section `id`'s data (or undefined). */
function readSectionStart(path: string, id: number, bytes: number): Buffer | undefined {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(12);
    readSync(fd, head, 0, 12, 0);
    if (head.toString("ascii", 0, 4) !== "ptau") throw new Error(`${path} is not a .ptau file`);
    const nSections = head.readUInt32LE(8);
    let pos = 12;
    for (let i = 0; i < nSections; i++) {
      const sh = Buffer.alloc(12);
      readSync(fd, sh, 0, 12, pos);
      const size = Number(sh.readBigUInt64LE(4));
      if (sh.readUInt32LE(0) === id) {
        const data = Buffer.alloc(Math.min(bytes, size));
        readSync(fd, data, 0, data.length, pos + 12);
        return data;
      }
      pos += 12 + size;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The `power` field of a .ptau header (section 1: n8, q, power, ceremonyPower). */
export function ptauPower(path: string): number {
  const h = readSectionStart(path, 1, 64);
  if (!h) throw new Error(`${path} has no header section`);
  return h.readUInt32LE(4 + h.readUInt32LE(0));
}

/** Contribution records in section 7: a ceremony has at least one; scripts/dev-ptau writes none. */
export function ptauContributions(path: string): number {
  const s = readSectionStart(path, 7, 4);
  return s && s.length === 4 ? s.readUInt32LE(0) : 0;
}

/** Hashes for ../shared/ptau/ files, from its B2SUMS (b2sum format). */
function sharedHashes(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  const f = join(dir, "B2SUMS");
  if (!existsSync(f)) return m;
  for (const line of readFileSync(f, "utf8").split("\n")) {
    const [hash, name] = line.trim().split(/\s+/);
    if (hash && name) m.set(name, hash.toLowerCase());
  }
  return m;
}

async function checked(path: string, expected: string, cache?: { path: string; blake2b: string; size: number; mtimeMs: number }): Promise<string> {
  const st = statSync(path);
  const cached = cache && cache.path === path && cache.size === st.size && cache.mtimeMs === st.mtimeMs ? cache.blake2b : undefined;
  const actual = cached ?? (await step(`blake2b of ${basename(path)}`, () => fileHash(path, "blake2b512")));
  if (actual !== expected.toLowerCase()) {
    throw new Error(`${path}: blake2b is ${actual}, but the published hash is ${expected}; refusing an unverified powers-of-tau file`);
  }
  return actual;
}

/**
 * A ceremony file given by flag (checked against its published blake2b), else
 * ../shared/ptau/ (checked against its B2SUMS), else a freshly generated
 * development file, which is insecure.
 */
export async function choosePtau(
  needPower: number,
  opts: { ptau?: string; ptauHash?: string },
  cache?: { path: string; blake2b: string; size: number; mtimeMs: number },
): Promise<PtauChoice> {
  if (opts.ptau) {
    if (!opts.ptauHash) throw new Error("--ptau needs --ptau-blake2b <published hash> (the Hermez ceremony publishes blake2b-512 hashes)");
    const path = resolve(opts.ptau);
    if (!existsSync(path)) throw new Error(`--ptau ${path} does not exist`);
    const blake2b = await checked(path, opts.ptauHash, cache);
    // A development file passed by flag stays insecure: it names itself, or it records no contribution.
    const insecure = basename(path).includes("INSECURE") || ptauContributions(path) === 0;
    if (insecure) console.log(`⚠ ${basename(path)} is a development powers-of-tau (no ceremony contributions): artifacts stay marked insecure`);
    return fit({ path, blake2b, power: ptauPower(path), source: "flag", insecure }, needPower);
  }
  const sharedDir = resolve(ROOT, "..", "shared", "ptau");
  const hashes = sharedHashes(sharedDir);
  const candidates = [...hashes.keys()].map((n) => join(sharedDir, n)).filter(existsSync);
  for (const path of candidates) {
    const power = ptauPower(path);
    if (power < needPower) continue;
    const blake2b = await checked(path, hashes.get(basename(path))!, cache);
    // The shared files are development files with a known contributor.
    return { path, blake2b, power, source: "shared", insecure: true };
  }
  return generateDevPtau(needPower);
}

function fit(c: PtauChoice, needPower: number): PtauChoice {
  if (c.power < needPower) throw new Error(`${c.path} holds 2^${c.power} constraints; this circuit needs 2^${needPower}`);
  return c;
}

/** The default location of the generated development file for a power. */
export function devPtauPath(power: number): string {
  return join(ROOT, "build", "ptau", `pot${power}_INSECURE_dev.ptau`);
}

/** An INSECURE prepared powers-of-tau from scripts/dev-ptau (its secrets were known while it was made). */
async function generateDevPtau(power: number): Promise<PtauChoice> {
  const path = devPtauPath(power);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    console.log(`No ceremony file given and none in ../shared/ptau/: generating an INSECURE development powers-of-tau (2^${power}).`);
    await step(`dev powers-of-tau 2^${power}`, () => writeDevPtau(path, power, { onProgress: progressBar(`2^${power}`) }), { heartbeat: false });
  }
  const blake2b = await fileHash(path, "blake2b512");
  return { path, blake2b, power, source: "generated", insecure: true };
}
