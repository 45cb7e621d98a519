// The ticket tree of a ticket bundle (docs/PROTOCOL.md §16): a 4-ary Poseidon
// Merkle *sum* tree, mirrored by circuits/lib/ticket.circom's TicketPath.
//
// A leaf is (ticketHash, ev), where ev is the ticket's expected value; an
// empty slot is (0, 0). A node is
//   hash = Poseidon(h0, s0, h1, s1, h2, s2, h3, s3),  sum = s0 + s1 + s2 + s3
// so the root's hash commits to every ticket and to the sums at every level.
// The provider signs (root hash, root sum) and pays the root sum into the
// ticket pool when the bundle is committed. A winner's path is checked level
// by level (each sum < 2^96, each parent's sum the children's), so the
// tickets that can ever be paid have expected values that add up to at most
// what the provider paid: the circuit never needs to open a losing ticket.
import { poseidon } from "./crypto.js";
import { BALANCE_BITS } from "./params.js";

export const TICKET_ARITY = 4;

export interface SumNode {
  hash: bigint;
  sum: bigint;
}

const EMPTY: SumNode = { hash: 0n, sum: 0n };

export function sumParent(children: SumNode[]): SumNode {
  if (children.length !== TICKET_ARITY) throw new Error(`a ticket-tree node has ${TICKET_ARITY} children, got ${children.length}`);
  return { hash: poseidon(children.flatMap((c) => [c.hash, c.sum])), sum: children.reduce((a, c) => a + c.sum, 0n) };
}

/** Ticket slots in a tree of `depth` 4-ary levels. */
export function ticketCapacity(depth: number): number {
  return TICKET_ARITY ** depth;
}

/** A whole ticket tree, built once from a bundle's leaves (bundles are never edited). */
export class TicketTree {
  readonly depth: number;
  /** levels[0] are the leaves, levels[depth] = [root]; empty subtrees are filled in. */
  private readonly levels: SumNode[][];
  /** zeros[l]: the node of an empty subtree of l levels. */
  private readonly zeros: SumNode[] = [EMPTY];

  constructor(depth: number, leaves: SumNode[]) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 8) throw new Error(`ticket tree depth must be 1..8 levels, got ${depth}`);
    if (leaves.length > ticketCapacity(depth)) throw new Error(`a ${depth}-level ticket tree holds at most ${ticketCapacity(depth)} tickets, got ${leaves.length}`);
    leaves.forEach((l, i) => {
      if (l.sum < 0n || l.sum >= 1n << BigInt(BALANCE_BITS)) throw new Error(`ticket ${i}'s expected value must be in [0, 2^${BALANCE_BITS}), got ${l.sum}`);
    });
    this.depth = depth;
    this.levels = [leaves.map((l) => ({ ...l }))];
    let zero = EMPTY;
    for (let l = 0; l < depth; l++) {
      const below = this.levels[l];
      const width = Math.max(1, Math.ceil(below.length / TICKET_ARITY));
      const level: SumNode[] = [];
      for (let i = 0; i < width; i++) {
        level.push(sumParent([0, 1, 2, 3].map((c) => below[i * TICKET_ARITY + c] ?? zero)));
      }
      zero = sumParent([zero, zero, zero, zero]);
      this.levels.push(level);
      this.zeros.push(zero);
    }
  }

  get root(): SumNode {
    return this.levels[this.depth][0];
  }

  get size(): number {
    return this.levels[0].length;
  }

  /** Per level from the leaf up, the parent's three other children in position order. */
  siblings(index: number): SumNode[][] {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new Error(`ticket index ${index} is not in this bundle (0..${this.size - 1})`);
    const path: SumNode[][] = [];
    for (let l = 0, i = index; l < this.depth; l++, i = Math.floor(i / TICKET_ARITY)) {
      const first = i - (i % TICKET_ARITY);
      const others: SumNode[] = [];
      for (let c = first; c < first + TICKET_ARITY; c++) if (c !== i) others.push(this.levels[l][c] ?? this.zeros[l]);
      path.push(others);
    }
    return path;
  }

  /** The root a leaf at `index` with path `siblings` commits to. */
  static rootFrom(leaf: SumNode, index: number, siblings: SumNode[][]): SumNode {
    let node = leaf;
    let i = index;
    for (const others of siblings) {
      const children = [...others];
      children.splice(i % TICKET_ARITY, 0, node);
      node = sumParent(children);
      i = Math.floor(i / TICKET_ARITY);
    }
    return node;
  }
}
