// Reads little-endian uint32 arrays from a file on disk through a small LRU
// cache of pages, so an index far larger than memory can be queried without
// loading it: a binary search touches ~log2(n) pages, mostly cached after the
// first queries (the OS page cache holds the rest).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

export class PagedU32File {
  readonly length: number;
  private readonly fd: number;
  private readonly pages = new Map<number, Uint32Array>();

  constructor(path: string, private readonly pageWords = 1 << 14, private readonly maxPages = 512) {
    this.fd = openSync(path, "r");
    const size = fstatSync(this.fd).size;
    if (size % 4 !== 0) throw new Error(`${path}: ${size} bytes is not a whole number of uint32 words`);
    this.length = size / 4;
  }

  get(i: number): number {
    const p = Math.floor(i / this.pageWords);
    let page = this.pages.get(p);
    if (page) {
      this.pages.delete(p); // re-insert: Map order is the LRU order
    } else {
      const words = Math.min(this.pageWords, this.length - p * this.pageWords);
      const buf = Buffer.alloc(words * 4);
      readSync(this.fd, buf, 0, buf.length, p * this.pageWords * 4);
      page = new Uint32Array(buf.buffer, buf.byteOffset, words);
      if (this.pages.size >= this.maxPages) this.pages.delete(this.pages.keys().next().value!);
    }
    this.pages.set(p, page);
    return page[i - p * this.pageWords];
  }

  close(): void {
    closeSync(this.fd);
  }
}
