// A content-addressed store of contributions on the local filesystem:
// <dir>/<first 2 hex digits>/<64 hex digits>. Writes are atomic (temporary
// file, fsync, rename); every read is checked against its hash, so a file
// changed on disk is reported, never served.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { contributionHash } from "./content.js";

const HASH = /^0x[0-9a-f]{64}$/;

export class ContentMissingError extends Error {}
export class ContentCorruptedError extends Error {}

export class ContentStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private path(hash: string): string {
    if (!HASH.test(hash)) throw new Error(`a content hash is 0x and 64 lowercase hex digits, got ${hash}`);
    return join(this.dir, hash.slice(2, 4), hash.slice(2));
  }

  /** Stores canonical bytes; returns their hash. Storing the same bytes twice is a no-op. */
  put(bytes: Uint8Array): string {
    const hash = contributionHash(bytes);
    const path = this.path(hash);
    if (existsSync(path)) return hash;
    mkdirSync(join(this.dir, hash.slice(2, 4)), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    return hash;
  }

  has(hash: string): boolean {
    return existsSync(this.path(hash));
  }

  /** The bytes stored under `hash`, checked against it. */
  get(hash: string): Buffer {
    const path = this.path(hash);
    if (!existsSync(path)) throw new ContentMissingError(`no content ${hash} in ${this.dir}`);
    return this.checked(hash, readFileSync(path));
  }

  /** As get, without blocking the event loop on the read (serving loads adapters this way). */
  async read(hash: string): Promise<Buffer> {
    const path = this.path(hash);
    const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") throw new ContentMissingError(`no content ${hash} in ${this.dir}`);
      throw e;
    });
    return this.checked(hash, bytes);
  }

  private checked(hash: string, bytes: Buffer): Buffer {
    const actual = contributionHash(bytes);
    if (actual !== hash) throw new ContentCorruptedError(`content ${hash} is corrupted on disk: its bytes hash to ${actual}`);
    return bytes;
  }
}
