// The BN254 (bn128) curve arithmetic that snarkjs itself runs: the wasmcurves
// WebAssembly module, instantiated directly so that a worker thread can keep
// fixed-base tables and whole batches in its own linear memory and call the
// curve functions by pointer, with no copying per operation.
//
// Representation (the same one snarkjs writes to .ptau files, "LEM"):
//   Fr / Fq elements: 32 bytes, little-endian, Montgomery form;
//   affine G1: x, y (64 bytes); affine G2: x.c0, x.c1, y.c0, y.c1 (128 bytes);
//   Jacobian points add a z coordinate (96 / 192 bytes).
import { ModuleBuilder } from "wasmbuilder";
import wasmcurves from "wasmcurves";

export const N8 = 32;
export type Group = "G1" | "G2";
export const affineSize = (g: Group) => (g === "G1" ? 2 : 4) * N8;
export const jacobianSize = (g: Group) => (g === "G1" ? 3 : 6) * N8;

export interface Bn128Code {
  code: Uint8Array<ArrayBuffer>;
  pG1gen: number;
  pG2gen: number;
}

/** Builds the module exactly as ffjavascript's buildBn128 does (same wasmcurves version). */
export function buildBn128Code(): Bn128Code {
  const mb = new ModuleBuilder();
  mb.setMemory(25);
  wasmcurves.buildBn128(mb);
  return { code: mb.build(), pG1gen: mb.modules.bn128.pG1gen, pG2gen: mb.modules.bn128.pG2gen };
}

const PAGE = 1 << 16;
const MAX_PAGES = 32767; // the wasm32 limit snarkjs uses (2 GiB)
const SCRATCH = 20 << 20; // batchToAffine of 2^16 G2 points: 2 × 2^16 × 64 bytes, plus room

/** One instance of the curve module with a bump allocator (word 0 of memory holds the free pointer). */
export class Bn128 {
  readonly fn: Record<string, (...a: number[]) => number>;
  private readonly memory: WebAssembly.Memory;

  private constructor(instance: WebAssembly.Instance, memory: WebAssembly.Memory, readonly pG1gen: number, readonly pG2gen: number) {
    this.fn = instance.exports as unknown as Record<string, (...a: number[]) => number>;
    this.memory = memory;
  }

  static async create(c: Bn128Code): Promise<Bn128> {
    const memory = new WebAssembly.Memory({ initial: 25, maximum: MAX_PAGES });
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(c.code), { env: { memory } });
    return new Bn128(instance, memory, c.pG1gen, c.pG2gen);
  }

  /**
   * Allocates n bytes (4-aligned). The module's batch functions take their
   * scratch space above the free pointer (n field elements for a batch of n),
   * so memory always extends SCRATCH bytes beyond it.
   */
  alloc(n: number): number {
    const word = new Uint32Array(this.memory.buffer, 0, 1);
    while (word[0] & 3) word[0]++;
    const p = word[0];
    word[0] = p + n;
    const need = Math.ceil((p + n + SCRATCH) / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (need > MAX_PAGES) throw new Error(`dev-ptau: needs ${need * 64} KiB of wasm memory, more than the 2 GiB limit`);
    if (need > have) this.memory.grow(need - have);
    return p;
  }

  /** A fresh view (views die when memory grows). */
  bytes(p: number, n: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, p, n);
  }

  u16(p: number, n: number): Uint16Array {
    return new Uint16Array(this.memory.buffer, p, n);
  }

  /** Writes a canonical field element (bigint < r) into memory, in Montgomery form. */
  setFr(p: number, x: bigint): void {
    const b = this.bytes(p, N8);
    for (let i = 0; i < N8; i++, x >>= 8n) b[i] = Number(x & 0xffn);
    this.fn.frm_toMontgomery(p, p);
  }
}
