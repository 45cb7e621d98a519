// `poa attribution index|query|influence`: the attribution engines from the
// command line, over datanets served by a sequencer's /v1/datanets.
import { Command, InvalidArgumentError, Option } from "commander";
import { readFileSync } from "node:fs";
import { fetchDatanet, labeledRecords } from "../attribution/datanet/source.js";
import { CLASSIFIER_TRAINING, classify, loadClassifier, saveClassifier, trainClassifier } from "../attribution/influence/classifier.js";
import { receiptEntries } from "../attribution/receipts.js";
import { attributeTokens, TOKEN_DEFAULTS } from "../attribution/tokens/attribute.js";
import { buildIndex, SuffixIndex } from "../attribution/tokens/suffix-index.js";

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
};
const nonNegative = (v: string) => {
  const n = Number(v);
  if (Number.isNaN(n) || n < 0) throw new InvalidArgumentError("expected a non-negative number");
  return n;
};
const apiOption = (c: Command) => c.option("--api <url>", "sequencer API", process.env.POA_API ?? "http://127.0.0.1:8080");
const textOf = (o: { text?: string; file?: string }) => {
  if (o.text !== undefined) return o.text;
  if (o.file) return readFileSync(o.file, "utf8");
  throw new Error("give the output as --text <string> or --file <path>");
};
const printScores = (scores: Map<string, number>, entries: number) => {
  for (const [a, s] of [...scores.entries()].sort((x, y) => y[1] - x[1])) console.log(`  ${a}  ${s.toFixed(4)}`);
  const kept = receiptEntries(new Map([...scores].filter(([a]) => /^0x[0-9a-fA-F]{40}$/.test(a))), { entries, scoreBits: 32 });
  console.log(`receipt entries (K = ${entries}): ${JSON.stringify(kept.map((e) => [`0x${e.contributor.toString(16).padStart(40, "0")}`, Number(e.score)]))}`);
};

export function attributionCommands(): Command {
  const cmd = new Command("attribution").description("score how datanet contributions shaped an inference");

  apiOption(cmd.command("index").description("build the on-disk suffix-array index of a datanet's text (token attribution)"))
    .requiredOption("--datanet <id>", "datanet id", int)
    .requiredOption("--out <dir>", "index directory")
    .option("--field <name>", "for a json datanet: the record field holding the text", "text")
    .action(async (o) => {
      const d = await fetchDatanet(o.api, o.datanet);
      const docs = d.documents.map((x) => ({ id: x.id, contributor: x.contributor, text: d.kind === "text" ? x.content : String(JSON.parse(x.content)[o.field] ?? "") }));
      const s = buildIndex(o.out, docs);
      console.log(`indexed datanet ${o.datanet} "${d.name}": ${s.documents} contributions, ${s.tokens} tokens, ${s.vocabulary} distinct, ${(s.bytes / 2 ** 20).toFixed(2)} MiB, ${s.seconds.toFixed(2)} s → ${o.out}`);
    });

  cmd
    .command("query")
    .description("attribute a model output to indexed contributions by matching token spans")
    .requiredOption("--index <dir>", "index directory (from `poa attribution index`)")
    .option("--text <output>", "the model output")
    .option("--file <path>", "read the model output from a file")
    .option("--min-tokens <n>", "shortest run that counts", int, TOKEN_DEFAULTS.minTokens)
    .option("--max-documents <n>", "skip runs found in more documents than this", int, TOKEN_DEFAULTS.maxDocuments)
    .option("--min-bits <n>", "skip runs with less information per matching contribution (set phrases, boilerplate); lower it for tiny corpora", nonNegative, TOKEN_DEFAULTS.minBits)
    .option("--context-prior <k>", "κ: how much other copies of a text discount it (larger: less; Infinity: unigram information)", nonNegative, TOKEN_DEFAULTS.contextPrior)
    .option("--entries <K>", "receipt entries to show", int, 8)
    .option("--json", "print JSON")
    .action((o) => {
      const index = new SuffixIndex(o.index);
      const r = attributeTokens(index, textOf(o), { minTokens: o.minTokens, maxDocuments: o.maxDocuments, minBits: o.minBits, contextPrior: o.contextPrior });
      index.close();
      if (o.json) return console.log(JSON.stringify({ spans: r.spans, contributors: Object.fromEntries(r.contributors) }, null, 2));
      for (const s of r.spans) console.log(`span [${s.start}, ${s.end}) ${s.bits.toFixed(1)} bits, ${s.occurrences}× in ${s.documents.length} contribution(s): "${s.text}"`);
      console.log(`${r.spans.length} span(s) over ${r.outputTokens} output tokens; scores by contributor (bits):`);
      printScores(r.contributors, o.entries);
    });

  apiOption(cmd.command("influence").description("train a classifier on a json datanet and index it (--out), or attribute a prediction (--model)"))
    .option("--datanet <id>", "json datanet of labeled records (to train)", int)
    .option("--out <dir>", "where to save the model, checkpoints and TracIn index (to train)")
    .option("--text-field <name>", "record field with the text", "text")
    .option("--label-field <name>", "record field with the label", "label")
    .option("--epochs <n>", "SGD epochs (one checkpoint each)", int, CLASSIFIER_TRAINING.epochs)
    .addOption(new Option("--method <m>", "influence estimator").choices(["influence-function", "tracin"]).default("influence-function"))
    .option("--model <dir>", "a saved model (to query)")
    .option("--text <input>", "the inference input to classify and attribute")
    .option("--file <path>", "read the inference input from a file")
    .option("--entries <K>", "receipt entries to show", int, 8)
    .action(async (o) => {
      if (o.model) {
        const c = loadClassifier(o.model);
        const r = classify(c, textOf(o));
        console.log(`prediction: ${r.label} (${Object.entries(r.probabilities).map(([l, p]) => `${l} ${(p as number).toFixed(3)}`).join(", ")})`);
        const top = [...r.influence.keys()].sort((a, b) => r.influence[b] - r.influence[a]).slice(0, 5);
        for (const i of top) console.log(`  proponent ${c.records[i].id.slice(0, 18)}… by ${c.records[i].contributor}: ${r.influence[i].toExponential(3)}`);
        console.log("positive influence by contributor:");
        return printScores(r.contributors, o.entries);
      }
      if (!o.datanet || !o.out) throw new Error("to train give --datanet and --out; to query give --model and --text");
      const d = await fetchDatanet(o.api, o.datanet);
      if (d.kind !== "json") throw new Error(`datanet ${o.datanet} holds text; the classifier trains on json records with "${o.textField}" and "${o.labelField}"`);
      const records = labeledRecords(d.documents, o.textField, o.labelField);
      const t0 = performance.now();
      const c = trainClassifier(records, { epochs: o.epochs, method: o.method });
      saveClassifier(o.out, c);
      console.log(`trained on ${records.length} records (${c.labels.join(", ")}), ${o.epochs} epochs, ${o.method} index in ${((performance.now() - t0) / 1000).toFixed(2)} s → ${o.out}`);
    });
  return cmd;
}
