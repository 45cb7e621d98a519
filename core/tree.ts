// The account tree: a binary Poseidon Merkle tree of fixed depth whose empty
// leaves are 0. Only non-empty nodes are stored; empty subtrees use the
// precomputed zero hashes, so a depth-24 tree costs memory per used leaf only.
// An update rehashes one path (depth Poseidon calls), never the whole tree.
import { poseidon } from "./crypto.js";

export class MerkleTree {
  readonly depth: number;
  private readonly zeros: bigint[];
  private readonly levels: Map<number, bigint>[];

  constructor(depth: number) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 32) throw new Error(`tree depth must be 1..32, got ${depth}`);
    this.depth = depth;
    this.zeros = [0n];
    for (let l = 0; l < depth; l++) this.zeros.push(poseidon([this.zeros[l], this.zeros[l]]));
    this.levels = Array.from({ length: depth + 1 }, () => new Map<number, bigint>());
  }

  get capacity(): number {
    return 2 ** this.depth;
  }

  get root(): bigint {
    return this.node(this.depth, 0);
  }

  leaf(index: number): bigint {
    this.checkIndex(index);
    return this.node(0, index);
  }

  /** Sibling hashes from the leaf up, as the circuits' `siblings` input wants them. */
  siblings(index: number): bigint[] {
    this.checkIndex(index);
    const path: bigint[] = [];
    for (let l = 0, i = index; l < this.depth; l++, i >>= 1) path.push(this.node(l, i ^ 1));
    return path;
  }

  set(index: number, value: bigint): void {
    this.checkIndex(index);
    this.store(0, index, value);
    for (let l = 0, i = index; l < this.depth; l++, i >>= 1) {
      const left = this.node(l, i & ~1);
      const right = this.node(l, i | 1);
      this.store(l + 1, i >> 1, poseidon([left, right]));
    }
  }

  /** An independent copy (node maps copied; zero hashes shared). */
  clone(): MerkleTree {
    const c = Object.create(MerkleTree.prototype) as MerkleTree;
    Object.assign(c, this, { levels: this.levels.map((m) => new Map(m)) });
    return c;
  }

  /** The root that `leaf` at `index` with path `siblings` commits to. */
  static rootFrom(leaf: bigint, index: number, siblings: bigint[]): bigint {
    let node = leaf;
    siblings.forEach((s, l) => {
      node = (index >> l) & 1 ? poseidon([s, node]) : poseidon([node, s]);
    });
    return node;
  }

  private node(level: number, index: number): bigint {
    return this.levels[level].get(index) ?? this.zeros[level];
  }

  private store(level: number, index: number, value: bigint): void {
    if (value === this.zeros[level]) this.levels[level].delete(index);
    else this.levels[level].set(index, value);
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.capacity) {
      throw new Error(`leaf index ${index} is outside a depth-${this.depth} tree (0..${this.capacity - 1})`);
    }
  }
}
