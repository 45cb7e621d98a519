// An on-disk suffix-array index over the tokens of a datanet's contributions.
//
// Files in the index directory:
//   tokens.u32  token ids, little-endian uint32: each document's tokens, then
//               the separator 0 (word ids start at 1)
//   sa.u32      the suffix array of tokens.u32 (SA-IS), uint32 positions
//   meta.json   vocabulary with counts, documents (id, contributor, first token)
// 8 bytes per token on disk (infini-gram packs 7); queries read tokens.u32 and
// sa.u32 through a page cache, never whole.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PagedU32File } from "./paged-file.js";
import { suffixArray } from "./sais.js";
import { tokenize } from "./tokenize.js";

export interface IndexedDocument {
  /** The contribution's content hash (or any unique id). */
  id: string;
  contributor: string;
  text: string;
}

export interface IndexMeta {
  version: 1;
  tokens: number;
  vocab: string[]; // vocab[id - 1]
  counts: number[]; // counts[id - 1]
  docs: { id: string; contributor: string; start: number }[];
}

export interface BuildStats {
  documents: number;
  tokens: number;
  vocabulary: number;
  bytes: number;
  seconds: number;
}

/** Tokenizes the documents, sorts all suffixes and writes the index files (atomically, by rename). */
export function buildIndex(dir: string, documents: Iterable<IndexedDocument>): BuildStats {
  const t0 = performance.now();
  mkdirSync(dir, { recursive: true });
  const ids = new Map<string, number>();
  const vocab: string[] = [];
  const counts: number[] = [];
  const docs: IndexMeta["docs"] = [];
  let tokens = new Uint32Array(1 << 16);
  let n = 0;
  const push = (id: number) => {
    if (n === tokens.length) {
      const grown = new Uint32Array(tokens.length * 2);
      grown.set(tokens);
      tokens = grown;
    }
    tokens[n++] = id;
  };
  const seen = new Set<string>();
  for (const d of documents) {
    if (seen.has(d.id)) throw new Error(`document ${d.id} appears twice`);
    seen.add(d.id);
    docs.push({ id: d.id, contributor: d.contributor, start: n });
    for (const t of tokenize(d.text)) {
      let id = ids.get(t.text);
      if (id === undefined) {
        id = vocab.push(t.text);
        ids.set(t.text, id);
        counts.push(0);
      }
      counts[id - 1]++;
      push(id);
    }
    push(0);
  }
  if (n >= 2 ** 32 - 1) throw new Error(`${n} tokens: this index format holds fewer than 2^32`);
  // SA-IS wants a unique smallest sentinel: shift ids by one and append 0.
  const T = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) T[i] = tokens[i] + 1;
  const sa = suffixArray(T, vocab.length + 2).subarray(1); // drop the sentinel's suffix
  const write = (name: string, data: Uint8Array | string) => {
    writeFileSync(join(dir, `${name}.tmp`), data);
    renameSync(join(dir, `${name}.tmp`), join(dir, name));
  };
  write("tokens.u32", new Uint8Array(tokens.buffer, 0, n * 4));
  write("sa.u32", new Uint8Array(sa.buffer, sa.byteOffset, n * 4)); // int32 positions < 2^31: the same bytes as uint32
  const meta: IndexMeta = { version: 1, tokens: n, vocab, counts, docs };
  write("meta.json", JSON.stringify(meta));
  return { documents: docs.length, tokens: n, vocabulary: vocab.length, bytes: 8 * n + Buffer.byteLength(JSON.stringify(meta)), seconds: (performance.now() - t0) / 1000 };
}

/** An index opened for queries: metadata in memory, tokens and suffix array on disk. */
export class SuffixIndex {
  readonly meta: IndexMeta;
  readonly tokens: PagedU32File;
  readonly sa: PagedU32File;
  readonly idOf: Map<string, number>;
  readonly docStarts: Uint32Array;
  /** Suffixes are sorted by first token id: those starting with id t are firstToken[t] .. firstToken[t + 1]. */
  private readonly firstToken: Float64Array;

  constructor(readonly dir: string) {
    this.meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
    if (this.meta.version !== 1) throw new Error(`${dir}: index version ${this.meta.version} is not supported`);
    // Up to 128 MiB of pages each; the OS page cache keeps the rest warm.
    this.tokens = new PagedU32File(join(dir, "tokens.u32"), 1 << 14, 2048);
    this.sa = new PagedU32File(join(dir, "sa.u32"), 1 << 14, 2048);
    if (this.tokens.length !== this.meta.tokens || this.sa.length !== this.meta.tokens) {
      throw new Error(`${dir}: tokens.u32 and sa.u32 must both hold ${this.meta.tokens} entries (found ${this.tokens.length}, ${this.sa.length})`);
    }
    this.idOf = new Map(this.meta.vocab.map((w, i) => [w, i + 1]));
    this.docStarts = Uint32Array.from(this.meta.docs.map((d) => d.start));
    this.firstToken = new Float64Array(this.meta.vocab.length + 2);
    this.firstToken[1] = this.meta.docs.length; // the separators (id 0) sort first
    for (let t = 1; t <= this.meta.vocab.length; t++) this.firstToken[t + 1] = this.firstToken[t] + this.meta.counts[t - 1];
  }

  /** The suffix-array range of the suffixes that start with token `id`, without a search. */
  rangeOf(id: number): [number, number] {
    return [this.firstToken[id], this.firstToken[id + 1]];
  }

  /** The document holding token position `pos` (binary search over document starts). */
  docAt(pos: number): number {
    let lo = 0, hi = this.docStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.docStarts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Narrows [lo, hi), the suffixes that start with some pattern of length `depth`,
   * to those whose next token is `token`: two binary searches on one token each.
   */
  narrow(lo: number, hi: number, depth: number, token: number): [number, number] {
    const at = (i: number) => {
      const p = this.sa.get(i) + depth;
      return p < this.meta.tokens ? this.tokens.get(p) : -1; // past the end sorts first
    };
    let a = lo, b = hi;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (at(mid) < token) a = mid + 1;
      else b = mid;
    }
    const first = a;
    b = hi;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (at(mid) <= token) a = mid + 1;
      else b = mid;
    }
    return [first, a];
  }

  close(): void {
    this.tokens.close();
    this.sa.close();
  }
}
