// Quotations with attribution lines ("-- Mark Twain, \"Pudd'nhead Wilson's
// Calendar\""): Debian's `fortunes` package, /usr/share/games/fortunes (about
// 8,000 fortunes in 40 files). The in-domain token-attribution evaluation draws
// its contributions, its reference text and its novel text from it.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tokenize } from "../../attribution/tokens/tokenize.js";

export const FORTUNES_DIR = "/usr/share/games/fortunes";

export interface Fortune { file: string; text: string }

/** Every fortune, in file order; throws naming the package when it is not installed. */
export function fortunes(dir = FORTUNES_DIR): Fortune[] {
  if (!existsSync(dir)) throw new Error(`${dir} is missing: install Debian's fortunes package (apt-get install -y fortunes)`);
  const out: Fortune[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (file.includes(".") || file.includes("art")) continue; // .dat indexes, .u8 links, ASCII art
    for (const text of readFileSync(join(dir, file), "utf8").split(/\n%\n/)) if (text.trim()) out.push({ file, text: text.trim() });
  }
  return out;
}

/** The tokens of a quotation's attribution line (its last line starting with "--"), if it has one. */
export function attributionLine(text: string): string[] | undefined {
  const line = text.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("--")).at(-1);
  return line === undefined ? undefined : tokenize(line).map((t) => t.text);
}
