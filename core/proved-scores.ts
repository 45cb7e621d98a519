// Proved token scores of one receipt (docs/PROTOCOL.md §11.1), mirrored by
// circuits/lib/proved_scores.circom ProvedTokenScores: entry i's score is the
// number of answer tokens that span slots credit to it. The model refuses, by
// name, every receipt the circuit refuses, and builds the circuit's input.
import { TokenCommitment } from "./token-commitment.js";
import { checkSpan, spanInput, type SpanShape, type TokenSpanClaim } from "./token-span.js";

export interface ScoreShape extends SpanShape {
  /** Entries per receipt (K) and span slots per receipt (S). */
  entries: number;
  slots: number;
  /** Depths of an answer's and of a contribution's token commitment (DA, DC). */
  answerDepth: number;
  sourceDepth: number;
}

/** One slot: a span of the answer found in contribution `contributionId` (its committed tokens `source`), credited to entry `entry`. */
export interface CreditedSpan extends TokenSpanClaim {
  entry: number;
  contributionId: number;
  /** The contribution's contributor on L1: it must be the entry's. */
  contributor: bigint;
  source: TokenCommitment;
}

export interface ScoredEntry {
  contributor: bigint;
  score: bigint;
}

/** The scores the spans prove, per entry. */
export function provedScores(spans: readonly CreditedSpan[], entries: number): bigint[] {
  const scores = Array<bigint>(entries).fill(0n);
  for (const s of spans) scores[s.entry] += BigInt(s.len);
  return scores;
}

/** Throws naming the first rule a proved receipt breaks (answer: its token commitment; spans in slot order). */
export function checkProvedScores(answer: TokenCommitment, entries: readonly ScoredEntry[], spans: readonly CreditedSpan[], shape: ScoreShape): void {
  if (answer.depth !== shape.answerDepth) throw new Error(`the answer's token commitment has depth ${answer.depth}; this instance's answers have depth ${shape.answerDepth}`);
  if (entries.length > shape.entries) throw new Error(`${entries.length} entries: a receipt holds at most ${shape.entries}`);
  if (spans.length > shape.slots) throw new Error(`${spans.length} token spans: a receipt proves at most ${shape.slots}`);
  spans.forEach((s, k) => {
    if (!Number.isInteger(s.entry) || s.entry < 0 || s.entry >= entries.length) throw new Error(`token span ${k} credits entry ${s.entry}, which the receipt does not have`);
    if (s.contributor !== entries[s.entry].contributor) throw new Error(`token span ${k} is in a contribution of 0x${s.contributor.toString(16)}, not of entry ${s.entry}'s contributor`);
    if (s.source.depth !== shape.sourceDepth) throw new Error(`token span ${k}: the contribution's commitment has depth ${s.source.depth}, not ${shape.sourceDepth}`);
    checkSpan(answer, s.source, s, shape);
    if (k > 0 && s.answerStart < spans[k - 1].answerStart + spans[k - 1].len) {
      throw new Error(`token span ${k} starts at answer token ${s.answerStart}, inside span ${k - 1} (which ends at ${spans[k - 1].answerStart + spans[k - 1].len}): spans are disjoint and in answer order`);
    }
  });
  const proved = provedScores(spans, entries.length);
  entries.forEach((e, i) => {
    if (e.score !== proved[i]) throw new Error(`entry ${i} claims score ${e.score}, but its token spans prove ${proved[i]} tokens`);
  });
}

/** The circuit input of ProvedTokenScores: `answer` undefined for a receipt with declared scores (no slot used). */
export function provedScoresInput(answer: TokenCommitment | undefined, entries: readonly ScoredEntry[], spans: readonly CreditedSpan[], shape: ScoreShape): Record<string, unknown> {
  if (answer) checkProvedScores(answer, entries, spans, shape);
  else if (spans.length > 0) throw new Error("a receipt with declared scores (no answer commitment) proves no token spans");
  const padded = [...entries, ...Array.from({ length: shape.entries - entries.length }, () => ({ contributor: 0n, score: 0n }))];
  const emptyAnswer = answer ?? new TokenCommitment([], shape.answerDepth);
  const emptySource = new TokenCommitment([], shape.sourceDepth);
  const slots = Array.from({ length: shape.slots }, (_, k) => {
    const s = spans[k];
    const span = spanInput(emptyAnswer, s?.source ?? emptySource, s, shape);
    return { ...span, entry: BigInt(s?.entry ?? 0), contributionId: BigInt(s?.contributionId ?? 0) };
  });
  const col = (key: string) => slots.map((x) => (x as Record<string, unknown>)[key]);
  return {
    answerRoot: answer?.root ?? 0n,
    contributor: padded.map((e) => e.contributor),
    score: padded.map((e) => e.score),
    entry: col("entry"),
    contributionId: col("contributionId"),
    sourceRoot: col("sourceRoot"),
    answerChunk: col("answerChunk"),
    answerOffset: col("answerOffset"),
    answerTokens: col("answerTokens"),
    answerSiblings: col("answerSiblings"),
    sourceChunk: col("sourceChunk"),
    sourceOffset: col("sourceOffset"),
    sourceTokens: col("sourceTokens"),
    sourceSiblings: col("sourceSiblings"),
    active: col("active"),
    inverse: col("inverse"),
  };
}
