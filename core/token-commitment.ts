// Token commitments (docs/PROTOCOL.md §11.1), mirrored by
// circuits/lib/token_span.circom: what lets a proof show that a run of an
// answer's tokens is a run of a contribution's tokens.
//
// A text's tokens (attribution/tokens/tokenize.ts, typography folded) become
// field elements, tokenValue = the first 31 bytes of SHA-256 of the token's
// UTF-8, never 0. They are cut into chunks of TOKEN_CHUNK = 16 (the last one
// padded with 0), each chunk is hashed by Poseidon(16), and the chunk hashes
// are the leaves of a 4-ary Poseidon tree (core/tree.ts) of fixed depth:
//     commitment = root of the chunk tree of depth D over Poseidon(16)(chunk)
// where every chunk past the end is 16 zeros (its leaf Poseidon(16)(0, …, 0)).
// A depth-D commitment holds the first 16 · 4^D tokens; a text's commitment
// at depth D is the same bytes to anyone who tokenizes it, so a curator can
// recompute a contribution's commitment from its content and slash a
// mismatch. Padding tokens are 0 and no token value is, so a span can never
// match past the end of a text.
import { poseidon } from "./crypto.js";
import { contentHash } from "./receipt.js";
import { ARITY, MerkleTree } from "./tree.js";
import { tokenize } from "../attribution/tokens/tokenize.js";

export const TOKEN_CHUNK = 16;
/** Depth of a contribution's commitment on L1 (DatanetRegistry.tokenRootOf): 16 · 4^6 = 65,536 tokens. */
export const CONTRIBUTION_TOKEN_DEPTH = 6;

/** A token as a field element: the first 31 bytes of SHA-256 of its (folded, lower-case) text; 1 in the 2^-248 case of a zero digest. */
export function tokenValue(token: string): bigint {
  return contentHash(token) || 1n;
}

/** The token values of a text, as the commitment and the proofs see them. */
export function tokenValues(text: string): bigint[] {
  return tokenize(text).map((t) => tokenValue(t.text));
}

/** The chunks of TOKEN_CHUNK values, the last padded with 0. */
export function tokenChunks(values: readonly bigint[]): bigint[][] {
  const chunks: bigint[][] = [];
  for (let i = 0; i < values.length; i += TOKEN_CHUNK) {
    const chunk = values.slice(i, i + TOKEN_CHUNK);
    while (chunk.length < TOKEN_CHUNK) chunk.push(0n);
    chunks.push(chunk);
  }
  return chunks;
}

let emptyLeaf: bigint | undefined;
/** The leaf of a chunk past the end: Poseidon of 16 zeros, as the circuit hashes any window it opens. */
export const emptyChunkLeaf = () => (emptyLeaf ??= poseidon(Array(TOKEN_CHUNK).fill(0n)));

/** Tokens a commitment of `depth` levels holds. */
export const tokenCapacity = (depth: number) => TOKEN_CHUNK * ARITY ** depth;

/** A text's token commitment: its chunk tree, the root and the values, with openings of any two consecutive chunks. */
export class TokenCommitment {
  readonly tree: MerkleTree;
  readonly chunks: bigint[][];

  /** Commits the first tokenCapacity(depth) of `values` (a longer text's tail cannot be proved). */
  constructor(readonly values: readonly bigint[], readonly depth: number) {
    this.tree = new MerkleTree(depth, emptyChunkLeaf());
    this.chunks = tokenChunks(values.slice(0, tokenCapacity(depth)));
    this.chunks.forEach((c, i) => this.tree.set(i, poseidon(c)));
  }

  static ofText(text: string, depth: number): TokenCommitment {
    return new TokenCommitment(tokenValues(text), depth);
  }

  get root(): bigint {
    return this.tree.root;
  }

  /** Tokens the commitment holds (the rest of a longer text is not committed). */
  get length(): number {
    return Math.min(this.values.length, tokenCapacity(this.depth));
  }

  /**
   * The window of chunks c and c + 1 (2 · TOKEN_CHUNK values; a chunk past the
   * end is zeros) and both paths: what a span check opens.
   */
  window(c: number): { chunk: number; tokens: bigint[]; siblings: [bigint[][], bigint[][]] } {
    const capacity = ARITY ** this.depth;
    if (!Number.isInteger(c) || c < 0 || c + 1 >= capacity) throw new Error(`token window at chunk ${c}: a depth-${this.depth} commitment has chunks 0..${capacity - 1} and a window needs two`);
    const zeros = Array<bigint>(TOKEN_CHUNK).fill(0n);
    return {
      chunk: c,
      tokens: [...(this.chunks[c] ?? zeros), ...(this.chunks[c + 1] ?? zeros)],
      siblings: [this.tree.siblings(c), this.tree.siblings(c + 1)],
    };
  }
}
