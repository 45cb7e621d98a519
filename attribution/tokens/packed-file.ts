// Fixed-width little-endian unsigned integers (1–4 bytes each) in a file.
//
// The token index stores token ids in as few bytes as the vocabulary needs and
// suffix-array positions in as few as the corpus length needs (infini-gram's
// trick: 2 + 5 bytes there, typically 3 + 4 here), so an index costs ~7 bytes
// per token instead of 8. A file that fits the resident budget is read into
// memory once (queries then cost no system calls); a larger one is read through
// a small LRU cache of 4 KiB-aligned pages, leaving the rest to the OS cache.
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";

/** Bytes needed to store every value in [0, max]. */
export function widthFor(max: number): number {
  if (max < 0 || max >= 2 ** 32) throw new Error(`${max} does not fit 4 bytes`);
  return max < 2 ** 8 ? 1 : max < 2 ** 16 ? 2 : max < 2 ** 24 ? 3 : 4;
}

/** Writes `values` (each < 256^width) to `path`, `width` bytes each, in 1 MiB chunks. */
export function writePacked(path: string, values: ArrayLike<number>, width: number): void {
  const fd = openSync(path, "w");
  try {
    const chunk = Buffer.alloc((1 << 20) * width);
    for (let start = 0; start < values.length; start += 1 << 20) {
      const end = Math.min(values.length, start + (1 << 20));
      for (let i = start, o = 0; i < end; i++, o += width) chunk.writeUIntLE(values[i], o, width);
      writeSync(fd, chunk, 0, (end - start) * width);
    }
  } finally {
    closeSync(fd);
  }
}

const PAGE_BYTES = 1 << 12;

export class PackedUintFile {
  readonly length: number;
  private readonly fd: number;
  /** The whole file, when it fits the resident budget. */
  private readonly whole?: Buffer;
  private readonly pages = new Map<number, Buffer>();

  constructor(path: string, readonly width: number, residentBytes: number, private readonly maxPages = 1 << 15) {
    if (!(width >= 1 && width <= 4)) throw new Error(`${path}: width ${width} must be 1–4 bytes`);
    this.fd = openSync(path, "r");
    const size = fstatSync(this.fd).size;
    if (size % width !== 0) throw new Error(`${path}: ${size} bytes is not a whole number of ${width}-byte values`);
    this.length = size / width;
    if (size <= residentBytes) {
      this.whole = Buffer.alloc(size);
      for (let off = 0; off < size; ) off += readSync(this.fd, this.whole, off, Math.min(1 << 26, size - off), off);
    }
  }

  get(i: number): number {
    const off = i * this.width;
    const w = this.width;
    let buf = this.whole;
    let at = off;
    if (!buf) {
      const p = Math.floor(off / PAGE_BYTES);
      buf = this.page(p);
      at = off - p * PAGE_BYTES;
      if (at + w > buf.length) return this.straddling(off); // a value across two pages
    }
    return w === 4 ? buf.readUInt32LE(at) : w === 3 ? buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) : w === 2 ? buf[at] | (buf[at + 1] << 8) : buf[at];
  }

  private straddling(off: number): number {
    let v = 0;
    for (let k = 0; k < this.width; k++) {
      const p = Math.floor((off + k) / PAGE_BYTES);
      v += this.page(p)[off + k - p * PAGE_BYTES] * 2 ** (8 * k);
    }
    return v;
  }

  private page(p: number): Buffer {
    let page = this.pages.get(p);
    if (page) {
      this.pages.delete(p); // re-insert: Map order is the LRU order
    } else {
      page = Buffer.alloc(PAGE_BYTES);
      const n = readSync(this.fd, page, 0, PAGE_BYTES, p * PAGE_BYTES);
      page = page.subarray(0, n);
      if (this.pages.size >= this.maxPages) this.pages.delete(this.pages.keys().next().value!);
    }
    this.pages.set(p, page);
    return page;
  }

  close(): void {
    closeSync(this.fd);
  }
}
