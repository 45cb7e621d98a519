// The account tree: a 4-ary Poseidon Merkle tree of fixed depth (levels) whose
// empty leaves are 0; node = Poseidon(child0, child1, child2, child3).
// Only non-empty nodes are stored; empty subtrees use the precomputed zero
// hashes, so a 12-level tree (16.7M leaves) costs memory per used leaf only.
// An update rehashes one path (depth Poseidon calls), never the whole tree.
import { poseidon } from "./crypto.js";

export const ARITY = 4;

export class MerkleTree {
  readonly depth: number;
  private readonly zeros: bigint[];
  private readonly levels: Map<number, bigint>[];

  /** `emptyLeaf`: the value of a leaf never set (0 for accounts; token commitments use the hash of an empty chunk). */
  constructor(depth: number, emptyLeaf = 0n) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 16) throw new Error(`tree depth must be 1..16 levels, got ${depth}`);
    this.depth = depth;
    this.zeros = [emptyLeaf];
    for (let l = 0; l < depth; l++) this.zeros.push(poseidon(Array(ARITY).fill(this.zeros[l])));
    this.levels = Array.from({ length: depth + 1 }, () => new Map<number, bigint>());
  }

  get capacity(): number {
    return ARITY ** this.depth;
  }

  get root(): bigint {
    return this.node(this.depth, 0);
  }

  leaf(index: number): bigint {
    this.checkIndex(index);
    return this.node(0, index);
  }

  /** Per level from the leaf up, the three other children of the parent in position order, as the circuits' `siblings` input wants them. */
  siblings(index: number): bigint[][] {
    this.checkIndex(index);
    const path: bigint[][] = [];
    for (let l = 0, i = index; l < this.depth; l++, i = Math.floor(i / ARITY)) {
      const first = i - (i % ARITY);
      const others: bigint[] = [];
      for (let c = first; c < first + ARITY; c++) if (c !== i) others.push(this.node(l, c));
      path.push(others);
    }
    return path;
  }

  set(index: number, value: bigint): void {
    this.checkIndex(index);
    this.store(0, index, value);
    for (let l = 0, i = index; l < this.depth; l++, i = Math.floor(i / ARITY)) {
      const first = i - (i % ARITY);
      const children: bigint[] = [];
      for (let c = first; c < first + ARITY; c++) children.push(this.node(l, c));
      this.store(l + 1, first / ARITY, poseidon(children));
    }
  }

  /** An independent copy (node maps copied; zero hashes shared). */
  clone(): MerkleTree {
    const c = Object.create(MerkleTree.prototype) as MerkleTree;
    Object.assign(c, this, { levels: this.levels.map((m) => new Map(m)) });
    return c;
  }

  /** The root that `leaf` at `index` with path `siblings` commits to. */
  static rootFrom(leaf: bigint, index: number, siblings: bigint[][]): bigint {
    let node = leaf;
    let i = index;
    for (const others of siblings) {
      const children = [...others];
      children.splice(i % ARITY, 0, node);
      node = poseidon(children);
      i = Math.floor(i / ARITY);
    }
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
      throw new Error(`leaf index ${index} is outside a ${this.depth}-level 4-ary tree (0..${this.capacity - 1})`);
    }
  }
}
