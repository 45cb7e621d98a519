// Tokens for attribution: words (letters, with inner apostrophes), digit runs
// and single punctuation marks, case-folded after Unicode NFC. Each token keeps
// its character range in the text, so matched spans can be shown in place.
const TOKEN = /\p{L}+(?:['’]\p{L}+)*|\p{N}+|[^\s\p{L}\p{N}]/gu;

export interface Token {
  text: string;
  start: number;
  end: number;
}

export function tokenize(text: string): Token[] {
  const norm = text.normalize("NFC");
  const out: Token[] = [];
  for (const m of norm.matchAll(TOKEN)) out.push({ text: m[0].toLowerCase(), start: m.index!, end: m.index! + m[0].length });
  return out;
}
