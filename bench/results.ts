// bench/RESULTS.md is made of sections ("# Title"); each benchmark rewrites
// only its own section, so the parts of `npm run bench` can run separately.
// bench/results.json holds the same figures for scripts, merged key by key.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { ROOT } from "../artifacts/paths.js";

const FILE = join(ROOT, "bench", "RESULTS.md");
const JSON_FILE = join(ROOT, "bench", "results.json");

export function writeSection(title: string, body: string): void {
  const text = existsSync(FILE) ? readFileSync(FILE, "utf8") : "";
  const sections = text.split(/^(?=# )/m).filter((s) => s.trim());
  const fresh = `# ${title}\n\n${body.trim()}\n`;
  const i = sections.findIndex((s) => s.startsWith(`# ${title}\n`));
  if (i >= 0) sections[i] = fresh;
  else sections.push(fresh);
  writeFileSync(FILE, sections.map((s) => s.trimEnd()).join("\n\n") + "\n");
}

type Json = { [key: string]: unknown };

/** Merges `patch` into bench/results.json: objects key by key, anything else replaced. */
/** What bench/results.json holds now (other benches' figures). */
export function readResults(): Json {
  return existsSync(JSON_FILE) ? (JSON.parse(readFileSync(JSON_FILE, "utf8")) as Json) : {};
}

export function writeResults(patch: Json): void {
  const merge = (into: Json, from: Json): Json => {
    for (const [k, v] of Object.entries(from)) {
      const old = into[k];
      into[k] = v && typeof v === "object" && !Array.isArray(v) && old && typeof old === "object" && !Array.isArray(old) ? merge(old as Json, v as Json) : v;
    }
    return into;
  };
  const current = existsSync(JSON_FILE) ? (JSON.parse(readFileSync(JSON_FILE, "utf8")) as Json) : {};
  writeFileSync(JSON_FILE, JSON.stringify(merge(current, patch), null, 2) + "\n");
}

/** Where and when a figure was measured: the machine, the date and the commit (with "+dirty" for uncommitted changes). */
export function runMeta(): { machine: string; date: string; commit: string; line: string } {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform} ${process.arch}, node ${process.version}`;
  const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
  let commit = "unknown";
  try {
    commit = git("rev-parse", "--short", "HEAD") + (git("status", "--porcelain", "--untracked-files=no") ? "+dirty" : "");
  } catch {
    // not a git checkout
  }
  const date = new Date().toISOString().slice(0, 10);
  return { machine, date, commit, line: `Measured on ${machine}; ${date}; commit ${commit}.` };
}
