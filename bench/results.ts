// bench/RESULTS.md is made of sections ("# Title"); each benchmark rewrites
// only its own section, so the parts of `npm run bench` can run separately.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../scripts/lib/artifacts.js";

const FILE = join(ROOT, "bench", "RESULTS.md");

export function writeSection(title: string, body: string): void {
  const text = existsSync(FILE) ? readFileSync(FILE, "utf8") : "";
  const sections = text.split(/^(?=# )/m).filter((s) => s.trim());
  const fresh = `# ${title}\n\n${body.trim()}\n`;
  const i = sections.findIndex((s) => s.startsWith(`# ${title}\n`));
  if (i >= 0) sections[i] = fresh;
  else sections.push(fresh);
  writeFileSync(FILE, sections.map((s) => s.trimEnd()).join("\n\n") + "\n");
}
