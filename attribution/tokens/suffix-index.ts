// An on-disk suffix-array index over the tokens of a datanet's contributions.
//
// Files in the index directory (format version 3: tokenize.ts folds dashes and quotes):
//   tokens.bin     token ids, `tokenBytes` each (little-endian): each document's
//                  tokens, then the separator 0 (word ids start at 1)
//   sa.bin         the suffix array of tokens.bin (SA-IS), `posBytes` each
//   documents.bin  per document: its first token position and its contributor's
//                  number, uint32 each
//   documents.json the documents' ids, in order
//   meta.json      widths, vocabulary with counts, contributors
// tokenBytes + posBytes is 7 for a 100 MB corpus (3 + 4; infini-gram: 2 + 5).
// Nothing a query reads grows with the number of documents except the
// document table, which answers "which document holds position p" by binary
// search and "whose is it" by lookup.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import { PackedUintFile, widthFor, writePacked } from "./packed-file.js";
import { suffixArray } from "./sais.js";
import { tokenize } from "./tokenize.js";

export interface IndexedDocument {
  /** The contribution's content hash (or any unique id). */
  id: string;
  contributor: string;
  text: string;
}

/** The format this version writes and reads: 3 folds dashes and quotes (tokenize.ts). */
export const INDEX_FORMAT = 3;

export interface IndexMeta {
  version: typeof INDEX_FORMAT;
  /** Token positions, separators included. */
  tokens: number;
  documents: number;
  tokenBytes: number;
  posBytes: number;
  vocab: string[]; // vocab[id - 1]
  counts: number[]; // counts[id - 1]
  contributors: string[];
}

export interface BuildStats {
  documents: number;
  tokens: number;
  vocabulary: number;
  /** All files of the index. */
  bytes: number;
  /** tokens.bin + sa.bin per token: what queries search. */
  bytesPerToken: number;
  seconds: number;
}

export interface OpenOptions {
  /** Files up to this size are read into memory; larger ones through a page cache (default 2 GiB). */
  residentBytes?: number;
}

/** Tokenizes the documents, sorts all suffixes and writes the index files (each atomically, by rename). */
export function buildIndex(dir: string, documents: Iterable<IndexedDocument>): BuildStats {
  const t0 = performance.now();
  mkdirSync(dir, { recursive: true });
  const ids = new Map<string, number>();
  const vocab: string[] = [];
  const counts: number[] = [];
  const docIds: string[] = [];
  const contributorNo = new Map<string, number>();
  let docTable = new Uint32Array(1 << 12);
  let tokens = new Uint32Array(1 << 16);
  let n = 0;
  const grow = (a: Uint32Array) => {
    const grown = new Uint32Array(a.length * 2);
    grown.set(a);
    return grown;
  };
  const push = (id: number) => {
    if (n === tokens.length) tokens = grow(tokens);
    tokens[n++] = id;
  };
  const seen = new Set<string>();
  for (const d of documents) {
    if (seen.has(d.id)) throw new Error(`document ${d.id} appears twice`);
    seen.add(d.id);
    let c = contributorNo.get(d.contributor);
    if (c === undefined) contributorNo.set(d.contributor, (c = contributorNo.size));
    if (2 * docIds.length + 2 > docTable.length) docTable = grow(docTable);
    docTable[2 * docIds.length] = n;
    docTable[2 * docIds.length + 1] = c;
    docIds.push(d.id);
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
  const tokenBytes = widthFor(vocab.length);
  const posBytes = widthFor(Math.max(0, n - 1));
  // Two builders of one index (threads that need it at once) each write their own temporary files.
  const tmp = `${process.pid}-${threadId}-${Math.random().toString(36).slice(2)}.tmp`;
  const atomically = (name: string, write: (path: string) => void) => {
    write(join(dir, `${name}.${tmp}`));
    renameSync(join(dir, `${name}.${tmp}`), join(dir, name));
  };
  atomically("tokens.bin", (p) => writePacked(p, tokens.subarray(0, n), tokenBytes));
  atomically("sa.bin", (p) => writePacked(p, sa, posBytes));
  atomically("documents.bin", (p) => writeFileSync(p, new Uint8Array(docTable.buffer, 0, docIds.length * 8)));
  const idsJson = JSON.stringify(docIds);
  atomically("documents.json", (p) => writeFileSync(p, idsJson));
  const meta: IndexMeta = { version: INDEX_FORMAT, tokens: n, documents: docIds.length, tokenBytes, posBytes, vocab, counts, contributors: [...contributorNo.keys()] };
  const metaJson = JSON.stringify(meta);
  atomically("meta.json", (p) => writeFileSync(p, metaJson)); // last: an index without it is incomplete
  const searched = n * (tokenBytes + posBytes);
  return {
    documents: docIds.length, tokens: n, vocabulary: vocab.length,
    bytes: searched + docIds.length * 8 + Buffer.byteLength(idsJson) + Buffer.byteLength(metaJson),
    bytesPerToken: n ? searched / n : 0,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** An index opened for queries: metadata and the document table in memory, tokens and suffix array resident or paged. */
/** The format of the index in `dir`, or undefined when none is complete there. */
export function indexFormat(dir: string): number | undefined {
  return existsSync(join(dir, "meta.json")) ? JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")).version : undefined;
}

export class SuffixIndex {
  readonly meta: IndexMeta;
  readonly tokens: PackedUintFile;
  readonly sa: PackedUintFile;
  readonly idOf: Map<string, number>;
  /** Word tokens (separators excluded): the denominator of unigram frequencies. */
  readonly wordTokens: number;
  private readonly docTable: Uint32Array;
  private readonly docIds: string[];
  /** Suffixes are sorted by first token id: those starting with id t are firstToken[t] .. firstToken[t + 1]. */
  private readonly firstToken: Float64Array;

  constructor(readonly dir: string, opts: OpenOptions = {}) {
    this.meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
    if (this.meta.version !== INDEX_FORMAT) throw new Error(`${dir}: index format ${this.meta.version} is not supported (this version reads ${INDEX_FORMAT}, which folds dashes and quotes): rebuild it with \`poa attribution index\``);
    const resident = opts.residentBytes ?? 2 ** 31;
    this.tokens = new PackedUintFile(join(dir, "tokens.bin"), this.meta.tokenBytes, resident);
    this.sa = new PackedUintFile(join(dir, "sa.bin"), this.meta.posBytes, resident);
    if (this.tokens.length !== this.meta.tokens || this.sa.length !== this.meta.tokens) {
      this.close();
      throw new Error(`${dir}: tokens.bin and sa.bin must both hold ${this.meta.tokens} entries (found ${this.tokens.length}, ${this.sa.length})`);
    }
    const table = readFileSync(join(dir, "documents.bin"));
    this.docIds = JSON.parse(readFileSync(join(dir, "documents.json"), "utf8"));
    if (table.length !== this.meta.documents * 8 || this.docIds.length !== this.meta.documents) {
      this.close();
      throw new Error(`${dir}: documents.bin and documents.json must describe ${this.meta.documents} documents`);
    }
    this.docTable = new Uint32Array(table.buffer.slice(table.byteOffset, table.byteOffset + table.length));
    this.wordTokens = this.meta.tokens - this.meta.documents;
    this.idOf = new Map(this.meta.vocab.map((w, i) => [w, i + 1]));
    this.firstToken = new Float64Array(this.meta.vocab.length + 2);
    this.firstToken[1] = this.meta.documents; // the separators (id 0) sort first
    for (let t = 1; t <= this.meta.vocab.length; t++) this.firstToken[t + 1] = this.firstToken[t] + this.meta.counts[t - 1];
  }

  /** Document number d's id and contributor. */
  docId(d: number): string {
    return this.docIds[d];
  }

  contributorOf(d: number): string {
    return this.meta.contributors[this.docTable[2 * d + 1]];
  }

  /** The suffix-array range of the suffixes that start with token `id`, without a search. */
  rangeOf(id: number): [number, number] {
    return [this.firstToken[id], this.firstToken[id + 1]];
  }

  /** The document holding token position `pos` (binary search over document starts). */
  docAt(pos: number): number {
    let lo = 0, hi = this.meta.documents - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.docTable[2 * mid] <= pos) lo = mid;
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
