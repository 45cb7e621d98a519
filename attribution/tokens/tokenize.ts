// Tokens for attribution: words (letters, with inner apostrophes), digit runs
// and single punctuation marks, case-folded after Unicode NFC. Each token keeps
// its character range in the text, so matched spans can be shown in place.
//
// Typography is not content: a typist's "--" is a typesetter's "—" or "–", and
// "don't" is "don’t". So a run of dashes (any \p{Pd}) is one token "-", curly
// and angle quotes fold to ' and ", and both the index and every query see the
// folded text (index format 3).
const TOKEN = /\p{L}+(?:['’‘ʼ]\p{L}+)*|\p{N}+|\p{Pd}+|[^\s\p{L}\p{N}]/gu;
const FOLD: Record<string, string> = { "’": "'", "‘": "'", "ʼ": "'", "‛": "'", "`": "'", "´": "'", "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"' };
const FOLDED = /[’‘ʼ‛`´“”„‟«»″]/g;
const DASHES = /^\p{Pd}+$/u;

export interface Token {
  text: string;
  start: number;
  end: number;
}

export function tokenize(text: string): Token[] {
  const norm = text.normalize("NFC");
  const out: Token[] = [];
  for (const m of norm.matchAll(TOKEN)) {
    const word = DASHES.test(m[0]) ? "-" : m[0].replace(FOLDED, (c) => FOLD[c]).toLowerCase();
    out.push({ text: word, start: m.index!, end: m.index! + m[0].length });
  }
  return out;
}
