// From the token engine's spans to the claims a proof checks (docs/PROTOCOL.md
// §11.1, core/proved-scores.ts): each accepted span is credited, in answer
// order and without overlap, to its longest-matching contribution, cut into
// slots of at most `maxLen` tokens (none shorter than `minLen`); an entry's
// proved score is the tokens its slots cover. The K contributors with the most
// tokens keep their slots, at most S slots in all (the longest first).
import { TokenCommitment } from "../../core/token-commitment.js";
import type { CreditedSpan, ScoreShape, ScoredEntry } from "../../core/proved-scores.js";
import type { TokenAttribution } from "./attribute.js";

export interface CommittedContribution {
  contributionId: number;
  /** The L1 address, as a number (the receipt's entry). */
  contributor: bigint;
  text: string;
}

export interface ProvedTokenClaims {
  entries: ScoredEntry[];
  spans: CreditedSpan[];
  /** The answer's commitment (its root goes in the receipt). */
  answer: TokenCommitment;
}

/** Where the run `needle` first occurs in `hay`, or −1. */
function find(hay: readonly bigint[], needle: readonly bigint[]): number {
  outer: for (let j = 0; j + needle.length <= hay.length; j++) {
    for (let k = 0; k < needle.length; k++) if (hay[j + k] !== needle[k]) continue outer;
    return j;
  }
  return -1;
}

/**
 * The proved-score claims for `output`, from its token attribution and the
 * attributed documents (by the index's document id). Documents not given, or
 * whose text does not hold the span (the index is stale), credit nothing.
 */
export function provedTokenClaims(output: string, attribution: TokenAttribution, documents: ReadonlyMap<string, CommittedContribution>, shape: ScoreShape): ProvedTokenClaims {
  const answer = TokenCommitment.ofText(output, shape.answerDepth);
  const values = answer.values;
  const sources = new Map<string, { doc: CommittedContribution; commitment: TokenCommitment }>();
  const slots: (Omit<CreditedSpan, "entry">)[] = [];
  let cursor = 0; // answer tokens before it are credited
  for (const span of attribution.spans) {
    const from = Math.max(span.start, cursor);
    const end = Math.min(span.end, answer.length);
    if (end - from < shape.minLen) continue;
    const docId = span.documents[0];
    const doc = documents.get(docId);
    if (!doc) continue;
    let source = sources.get(docId);
    if (!source) sources.set(docId, (source = { doc, commitment: TokenCommitment.ofText(doc.text, shape.sourceDepth) }));
    const at = find(source.commitment.values.slice(0, source.commitment.length), values.slice(from, end));
    if (at < 0) continue;
    // Cut into slots of at most maxLen tokens, none shorter than minLen (a short tail joins no slot).
    for (let a = from; end - a >= shape.minLen; ) {
      const len = Math.min(shape.maxLen, end - a);
      slots.push({ contributionId: doc.contributionId, contributor: doc.contributor, source: source.commitment, answerStart: a, sourceStart: at + (a - from), len });
      a += len;
    }
    cursor = end;
  }
  // The K contributors with the most tokens, then at most S slots, the longest first, back in answer order.
  const tokensOf = new Map<bigint, number>();
  for (const s of slots) tokensOf.set(s.contributor, (tokensOf.get(s.contributor) ?? 0) + s.len);
  const top = [...tokensOf].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, shape.entries).map(([c]) => c);
  const kept = slots.filter((s) => top.includes(s.contributor)).sort((x, y) => y.len - x.len || x.answerStart - y.answerStart).slice(0, shape.slots).sort((x, y) => x.answerStart - y.answerStart);
  const contributors = top.filter((c) => kept.some((s) => s.contributor === c));
  const spans = kept.map((s) => ({ ...s, entry: contributors.indexOf(s.contributor) }));
  const entries = contributors.map((contributor, i) => ({ contributor, score: spans.filter((s) => s.entry === i).reduce((t, s) => t + BigInt(s.len), 0n) }));
  return { entries, spans, answer };
}

