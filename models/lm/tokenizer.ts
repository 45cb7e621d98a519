// Character-level vocabulary: newline, printable ASCII, an unknown mark and an
// end-of-text token. Text is folded to ASCII first (curly quotes, dashes and
// accented letters become their plain forms), so contributions in the datanets
// and the public-domain pretraining text share one small vocabulary, and every
// adapter fine-tuned on any datanet runs on the same base.

export const VOCAB: readonly string[] = ["\n", ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))];
export const UNK = VOCAB.length; // 96
export const EOT = VOCAB.length + 1; // 97: ends a document; generation stops on it
export const VOCAB_SIZE = VOCAB.length + 2;

const index = new Map<string, number>(VOCAB.map((c, i) => [c, i]));
const FOLD: Record<string, string> = {
  "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "--", "\u2026": "...",
  "\u00a0": " ", "\t": " ", "\r": "",
};

/** Fold to the vocabulary's ASCII (NFKD, accents dropped, typographic punctuation mapped). */
export function foldText(text: string): string {
  let out = "";
  for (const ch of text.normalize("NFKD")) {
    if (index.has(ch)) out += ch;
    else if (ch in FOLD) out += FOLD[ch];
    else if (/\p{M}/u.test(ch)) continue; // a combining accent left by NFKD
    else out += ch;
  }
  return out;
}

export function encode(text: string, endOfText = false): number[] {
  const ids: number[] = [];
  for (const ch of foldText(text)) ids.push(index.get(ch) ?? UNK);
  if (endOfText) ids.push(EOT);
  return ids;
}

export function decode(ids: Iterable<number>): string {
  let s = "";
  for (const id of ids) {
    if (id === EOT) break;
    s += id === UNK ? "\ufffd" : VOCAB[id] ?? "\ufffd";
  }
  return s;
}
