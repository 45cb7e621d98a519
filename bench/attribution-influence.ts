// npm run bench: the influence engines, quality and speed.
// Two text tasks on corpora that installed packages ship:
//   spam: Spam Assassin mail, ham vs spam (2 classes);
//   era:  State of the Union passages (~3 sentences), which of six 40-year
//         periods 1790–2017 they come from (6 classes, accuracy well below 100%).
// For each: mislabel detection (10% of training labels flipped, ranked by
// self-influence), leave-one-out correlation (200 examples, every one left
// out and the model retrained), and LDS over random halves (600 examples, 32
// halves), each beside the naive references: final loss (mislabels), the
// number / sign of same-label examples (LOO, LDS), and a model-free signed
// cosine similarity. LDS is measured on random halves (where label counts
// dominate) and on halves stratified by label (what decides which of the
// same-label contributions gets paid). Then query speed.
// Retraining keeps the visiting order (left-out examples get weight 0), so
// the differences measured are the data's, not SGD order noise.
import { pathToFileURL } from "node:url";
import { textFeatures } from "../attribution/influence/features.js";
import { INFLUENCE_DEFAULTS, InfluenceFunctionIndex } from "../attribution/influence/influence-function.js";
import { CLASSIFIER_TRAINING } from "../attribution/influence/classifier.js";
import { train, type Example, type TrainOptions } from "../attribution/influence/model.js";
import { TracInIndex } from "../attribution/influence/tracin.js";
import { mails, sampler, speeches } from "./lib/corpora.js";
import { auc, mean, pearson, quantile, spearman } from "./lib/stats.js";
import { runMeta, writeResults, writeSection } from "./results.js";

const { rand, shuffle } = sampler(20261125);
const DIM = 1 << 14;
const TRAIN = CLASSIFIER_TRAINING;
const DAMPINGS = [10, INFLUENCE_DEFAULTS.damping, 1000];
const ifName = (damping: number) => `influence function (K-FAC, rank ${INFLUENCE_DEFAULTS.rank}, damping ${damping})${damping === INFLUENCE_DEFAULTS.damping ? ", the default" : ""}`;
const SAME_LABEL = "reference: same label (+1) or not (−1), no model";
const COSINE = "reference: cosine similarity, signed by same label, no model";

interface Task { name: string; classes: number; labels: string[]; examples: Example[] }

export function spamTask(): Task {
  const all = mails();
  const ham = shuffle(all.filter((m) => !m.spam)).slice(0, 1000);
  const spam = shuffle(all.filter((m) => m.spam)).slice(0, 1000);
  const examples = shuffle([...ham, ...spam]).map((m) => ({ x: textFeatures(m.text, DIM), y: m.spam ? 1 : 0 }));
  return { name: "spam (Spam Assassin, 2 classes)", classes: 2, labels: ["ham", "spam"], examples };
}

export function eraTask(): Task {
  const labels = ["1790–1829", "1830–1869", "1870–1909", "1910–1949", "1950–1989", "1990–2017"];
  const byEra: string[][] = labels.map(() => []);
  for (const s of speeches()) {
    const sent = s.text.split(/(?<=[.!?])\s+/);
    for (let i = 0; i + 3 <= sent.length; i += 3) {
      const passage = sent.slice(i, i + 3).join(" ");
      if (passage.split(/\s+/).length >= 40) byEra[Math.min(5, Math.floor((s.year - 1790) / 40))].push(passage);
    }
  }
  const examples = shuffle(byEra.flatMap((ps, y) => shuffle(ps).slice(0, 334).map((text) => ({ x: textFeatures(text, DIM), y }))));
  return { name: "era (State of the Union passages, 6 periods)", classes: 6, labels, examples };
}

type Scorer = { name: string; scores: (trainSet: Example[], model: ReturnType<typeof train>, probe: Example) => ArrayLike<number> };

function scorers(classes: number): Scorer[] {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `e${i}`);
  // One index per trained model and method, built on first use.
  const built = new WeakMap<object, Map<string, { influence(q: Example): Float64Array }>>();
  const index = (m: ReturnType<typeof train>, key: string, make: () => { influence(q: Example): Float64Array }) => {
    let per = built.get(m.model);
    if (!per) built.set(m.model, (per = new Map()));
    if (!per.has(key)) per.set(key, make());
    return per.get(key)!;
  };
  return [
    ...DAMPINGS.map((damping): Scorer => ({
      name: ifName(damping),
      scores: (t, m, p) => index(m, `if-${damping}`, () => InfluenceFunctionIndex.build(ids(t.length), t, m.model, { damping })).influence(p),
    })),
    { name: "TracIn-CP (d = 128, every epoch's checkpoint)", scores: (t, m, p) => index(m, "tracin", () => TracInIndex.build(ids(t.length), t, m.checkpoints, classes, DIM + 1)).influence(p) },
    { name: SAME_LABEL, scores: (t, _m, p) => t.map((e) => (e.y === p.y ? 1 : -1)) },
    { name: COSINE, scores: (t, _m, p) => t.map((e) => (e.y === p.y ? 1 : -1) * cosine(e, p)) },
  ];
}

/** x·x' of two unit-norm text feature vectors (the bias feature left out). */
function cosine(a: Example, b: Example): number {
  const m = new Map<number, number>();
  for (let k = 0; k < a.x.idx.length - 1; k++) m.set(a.x.idx[k], a.x.val[k]);
  let s = 0;
  for (let k = 0; k < b.x.idx.length - 1; k++) s += (m.get(b.x.idx[k]) ?? 0) * b.x.val[k];
  return s;
}

function flipLabels(examples: Example[], classes: number, share: number) {
  const flipped = examples.map(() => false);
  for (const i of shuffle([...examples.keys()]).slice(0, Math.round(share * examples.length))) flipped[i] = true;
  const noisy = examples.map((e, i) => ({ x: e.x, y: flipped[i] ? (e.y + 1 + Math.floor(rand() * (classes - 1))) % classes : e.y }));
  return { noisy, flipped };
}

function mislabels(task: Task) {
  const trainSet = task.examples.slice(0, 1600), testSet = task.examples.slice(1600);
  const { noisy, flipped } = flipLabels(trainSet, task.classes, 0.1);
  const trained = train(noisy, { classes: task.classes, width: DIM + 1, ...TRAIN });
  const ids = noisy.map((_, i) => `m${i}`);
  const top = (scores: Iterable<number>) => {
    const k = Math.round(0.1 * [...scores].length);
    return [...scores].map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k).filter(([, i]) => flipped[i]).length / k;
  };
  const rank = (name: string, scores: Iterable<number>) => ({ name, auc: auc([...scores], flipped), top10: top(scores) });
  const rows = [
    ...DAMPINGS.map((damping) => rank(`${ifName(damping)}: leave-one-out loss`, InfluenceFunctionIndex.build(ids, noisy, trained.model, { damping }).leaveOneOutLoss())),
    rank(`${ifName(INFLUENCE_DEFAULTS.damping)}: self-influence alone`, InfluenceFunctionIndex.build(ids, noisy, trained.model).selfInfluence()),
    rank("TracIn-CP, self-influence", TracInIndex.build(ids, noisy, trained.checkpoints, task.classes, DIM + 1).selfInfluence()),
    rank("reference: loss at the final weights", noisy.map((e) => trained.model.loss(e))),
  ];
  const accuracy = testSet.filter((e) => { const p = trained.model.probabilities(e.x); return p.indexOf(Math.max(...p)) === e.y; }).length / testSet.length;
  return { accuracy, rows };
}

/** Pearson correlation, over the n training examples, of predicted and actual loss change when each is left out; mean over probes. */
function leaveOneOut(task: Task, n = 200, probes = 30) {
  const base = task.examples.slice(0, n);
  const probeSet = task.examples.slice(1600, 1600 + probes);
  const cfg: TrainOptions = { classes: task.classes, width: DIM + 1, ...TRAIN };
  const full = train(base, cfg);
  const fullLoss = probeSet.map((p) => full.model.loss(p));
  const without = base.map((_, i) => train(base, { ...cfg, exampleWeights: base.map((_, k) => (k === i ? 0 : 1)) }).model);
  const actual = probeSet.map((p, t) => without.map((m) => m.loss(p) - fullLoss[t]));
  return scorers(task.classes).map((s) => {
    const rs = probeSet.map((p, t) => pearson(s.scores(base, full, p), actual[t])).filter(Number.isFinite);
    return { name: s.name, r: mean(rs) };
  });
}

/**
 * LDS: Spearman correlation across halves of the predicted (−Σ influence over the half) and actual
 * loss; mean over probes. Halves are random, or `stratified`: half of each label's examples.
 */
function lds(task: Task, stratified: boolean, n = 600, halves = 32, probes = 100) {
  const base = task.examples.slice(0, n);
  const probeSet = task.examples.slice(1600, 1600 + probes);
  const cfg: TrainOptions = { classes: task.classes, width: DIM + 1, ...TRAIN };
  const full = train(base, cfg);
  const half = () => {
    if (!stratified) return new Set(shuffle([...base.keys()]).slice(0, n / 2));
    const keep = new Set<number>();
    for (let y = 0; y < task.classes; y++) {
      const mine = [...base.keys()].filter((i) => base[i].y === y);
      for (const i of shuffle(mine).slice(0, mine.length >> 1)) keep.add(i);
    }
    return keep;
  };
  const subsets = Array.from({ length: halves }, half);
  const actual = subsets.map((sub) => {
    const m = train(base, { ...cfg, exampleWeights: base.map((_, i) => (sub.has(i) ? 1 : 0)) }).model;
    return probeSet.map((p) => m.loss(p));
  });
  return scorers(task.classes).map((s) => {
    const rhos = probeSet.map((p, t) => {
      const infl = s.scores(base, full, p);
      return spearman(subsets.map((sub) => -[...sub].reduce((a, i) => a + infl[i], 0)), actual.map((l) => l[t]));
    });
    // A predictor constant across halves (same label, on stratified halves) has no rank correlation: 0.
    return { name: s.name, lds: mean(rhos.map((r) => (Number.isFinite(r) ? r : 0))) };
  });
}

function speed(task: Task) {
  const feats = task.examples;
  const trained = train(feats.slice(0, 1000), { classes: task.classes, width: DIM + 1, ...TRAIN });
  const rows = [];
  for (const n of [1_000, 10_000, 100_000]) {
    const examples = Array.from({ length: n }, (_, i) => feats[i % 1000]);
    const ids = examples.map((_, i) => `e${i}`);
    for (const method of ["influence function", "TracIn-CP"]) {
      const t0 = performance.now();
      const index = method === "TracIn-CP" ? TracInIndex.build(ids, examples, trained.checkpoints, task.classes, DIM + 1) : InfluenceFunctionIndex.build(ids, examples, trained.model);
      const buildS = (performance.now() - t0) / 1000;
      const ms = feats.slice(1000, 1100).map((q) => {
        const t = performance.now();
        index.influence(q);
        return performance.now() - t;
      });
      rows.push({ n, method, buildS, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) });
      console.log(rows.at(-1));
    }
  }
  return rows;
}

function main(): void {
  const meta = runMeta();
  const results = [eraTask(), spamTask()].map((task) => {
    const mis = mislabels(task);
    console.log(task.name, mis);
    const loo = leaveOneOut(task);
    console.log(loo);
    const l = lds(task, false);
    const within = lds(task, true);
    console.log(l, within);
    return { task, mis, loo, lds: l, within };
  });
  const speedRows = speed(results[0].task);

  const f = (x: number) => x.toFixed(3);
  const engine = ifName(INFLUENCE_DEFAULTS.damping);
  const era = results[0];
  const ldsOf = (name: string, rows = era.lds) => rows.find((r) => r.name === name)!.lds;
  const ldsGain = ldsOf(engine) - ldsOf(SAME_LABEL);
  const misEngine = era.mis.rows.find((r) => r.name === `${engine}: leave-one-out loss`)!;
  const misLoss = era.mis.rows.find((r) => r.name.startsWith("reference"))!;
  writeResults({
    attribution: {
      influence: {
        defaults: { method: "influence-function", ...INFLUENCE_DEFAULTS, training: TRAIN },
        tasks: Object.fromEntries(results.map((r) => [r.task.name.split(" ")[0], { accuracy: r.mis.accuracy, mislabels: r.mis.rows, loo: r.loo, lds: r.lds, ldsWithinLabel: r.within }])),
        eraLdsGainOverSameLabel: ldsGain,
        eraMislabelAucOverLoss: misEngine.auc - misLoss.auc,
        speed: speedRows,
        measured: meta.line,
      },
    },
  });
  const table = (rows: { name: string }[], cols: [string, (r: never) => number][]) =>
    `| method | ${cols.map(([c]) => c).join(" | ")} |\n|---|${cols.map(() => "---:").join("|")}|\n` + rows.map((r) => `| ${r.name} | ${cols.map(([, g]) => f(g(r as never))).join(" | ")} |`).join("\n");
  writeSection(
    "Influence attribution: quality and speed (npm run bench)",
    `${meta.line} Seeded; one run. Features: hashed unigrams and bigrams (2^14 buckets), the classifier's training defaults (SGD, ${TRAIN.epochs} epochs, lr ${TRAIN.lr}, decay ${TRAIN.decay}, L2 ${TRAIN.l2}). Retraining for the checks keeps the visiting order and gives left-out examples weight 0.

${results.map((r) => `**${r.task.name}.** ${r.task.examples.length.toLocaleString("en")} examples; 1,600 for training, the rest for testing. Test accuracy with 10% of the training labels flipped: ${(r.mis.accuracy * 100).toFixed(1)}%.

Mislabel detection (160 flipped labels among 1,600; random: AUC 0.500, top 10% 0.100):

${table(r.mis.rows, [["AUC", (x: { auc: number }) => x.auc], ["flipped share of the top 10%", (x: { top10: number }) => x.top10]])}

Leave-one-out: 200 training examples, each left out and the model retrained; Pearson correlation over the 200 of predicted and actual change of a test example's loss, mean over 30 test examples. LDS: 32 halves of 600 training examples, random or stratified by label (half of each label's examples); Spearman correlation across halves of −Σ influence over the half and the half-model's loss, mean over 100 test examples (a predictor constant across the halves counts 0).

| method | leave-one-out r | LDS, random halves | LDS, halves stratified by label |
|---|---:|---:|---:|
${r.loo.map((x, k) => `| ${x.name} | ${f(x.r)} | ${f(r.lds[k].lds)} | ${f(r.within[k].lds)} |`).join("\n")}`).join("\n\n")}

Targets (issue 11), on the six-class task: LDS at least 0.15 above the same-label reference: ${ldsGain >= 0.15 ? "met" : "not met"} (${f(ldsOf(engine))} against ${f(ldsOf(SAME_LABEL))}, ${ldsGain >= 0 ? "+" : ""}${f(ldsGain)}); mislabel AUC at least the final-loss baseline: ${misEngine.auc >= misLoss.auc ? "met" : "not met"} (${f(misEngine.auc)} against ${f(misLoss.auc)}).

**Query speed** (six-class model, one query against N training examples; 100 queries).

| training examples | method | index build | query p50 | query p99 |
|---:|---|---:|---:|---:|
${speedRows.map((r) => `| ${r.n.toLocaleString("en")} | ${r.method} | ${r.buildS.toFixed(1)} s | ${r.p50.toFixed(1)} ms | ${r.p99.toFixed(1)} ms |`).join("\n")}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main();
