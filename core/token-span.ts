// A proved token span (docs/PROTOCOL.md §11.1), mirrored by
// circuits/lib/token_span.circom TokenSpan: tokens [a, a + len) of an answer
// equal tokens [b, b + len) of a contribution, both read from their token
// commitments (core/token-commitment.ts). The model refuses what the circuit
// refuses, naming the reason, and builds the circuit's input.
import { fieldInverse } from "./field.js";
import { TOKEN_CHUNK, type TokenCommitment } from "./token-commitment.js";
import { ARITY } from "./tree.js";

export interface TokenSpanClaim {
  /** First token of the span in the answer, and in the contribution. */
  answerStart: number;
  sourceStart: number;
  len: number;
}

export interface SpanShape {
  /** Longest span one slot proves (the circuit's L), and the shortest (LMIN). */
  maxLen: number;
  minLen: number;
}

/** The window (chunks c, c + 1) holding a span from `start`, and the span's offset in it. */
function windowFor(c: TokenCommitment, start: number): { chunk: number; offset: number } {
  const last = ARITY ** c.depth - 1;
  const chunk = Math.min(Math.floor(start / TOKEN_CHUNK), last - 1); // a span in the last chunk reads the window before it
  return { chunk, offset: start - chunk * TOKEN_CHUNK };
}

/** Throws naming the first rule the claim breaks; the circuit refuses exactly these. */
export function checkSpan(answer: TokenCommitment, source: TokenCommitment, claim: TokenSpanClaim, shape: SpanShape): void {
  const { answerStart: a, sourceStart: b, len } = claim;
  if (!Number.isInteger(len) || len < shape.minLen || len > shape.maxLen) throw new Error(`token span length ${len} is not in [${shape.minLen}, ${shape.maxLen}]`);
  for (const [what, c, s] of [["answer", answer, a], ["contribution", source, b]] as const) {
    if (!Number.isInteger(s) || s < 0 || s + len > c.length) throw new Error(`token span [${s}, ${s + len}) is not inside the ${what}'s ${c.length} committed tokens`);
  }
  for (let j = 0; j < len; j++) {
    if (answer.values[a + j] !== source.values[b + j]) throw new Error(`token span: answer token ${a + j} differs from contribution token ${b + j}`);
  }
}

/** The circuit input of one TokenSpan slot: a checked claim, or an unused slot when `claim` is undefined. */
export function spanInput(answer: TokenCommitment, source: TokenCommitment, claim: TokenSpanClaim | undefined, shape: SpanShape): Record<string, unknown> {
  const zeros = (n: number) => Array<bigint>(n).fill(0n);
  const noPath = (depth: number) => [0, 1].map(() => Array.from({ length: depth }, () => zeros(3)));
  if (!claim) {
    return {
      answerRoot: answer.root, answerChunk: 0n, answerOffset: 0n, answerTokens: zeros(32), answerSiblings: noPath(answer.depth),
      sourceRoot: source.root, sourceChunk: 0n, sourceOffset: 0n, sourceTokens: zeros(32), sourceSiblings: noPath(source.depth),
      active: zeros(shape.maxLen), inverse: zeros(shape.maxLen),
    };
  }
  checkSpan(answer, source, claim, shape);
  const aw = windowFor(answer, claim.answerStart), sw = windowFor(source, claim.sourceStart);
  const aWin = answer.window(aw.chunk), sWin = source.window(sw.chunk);
  const inverse = Array.from({ length: shape.maxLen }, (_, j) => (j < claim.len ? fieldInverse(aWin.tokens[aw.offset + j]) : 0n));
  return {
    answerRoot: answer.root, answerChunk: BigInt(aw.chunk), answerOffset: BigInt(aw.offset), answerTokens: aWin.tokens, answerSiblings: aWin.siblings,
    sourceRoot: source.root, sourceChunk: BigInt(sw.chunk), sourceOffset: BigInt(sw.offset), sourceTokens: sWin.tokens, sourceSiblings: sWin.siblings,
    active: Array.from({ length: shape.maxLen }, (_, j) => (j < claim.len ? 1n : 0n)),
    inverse,
  };
}
