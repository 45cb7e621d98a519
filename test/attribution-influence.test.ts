// Gradient influence: a trained softmax model, TracIn-CP against the exact sum
// of gradient dot products, and the signs of influence on a case known by hand.
import { expect } from "chai";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { denseFeatures, textFeatures } from "../attribution/influence/features.js";
import { loadCheckpoints, saveCheckpoints, SoftmaxModel, train, type Example } from "../attribution/influence/model.js";
import { positiveShares, TracInIndex } from "../attribution/influence/tracin.js";
import { classify, loadClassifier, saveClassifier, trainClassifier } from "../attribution/influence/classifier.js";
import { InfluenceFunctionIndex } from "../attribution/influence/influence-function.js";
import { fixedPointInfluence, quantizeExamples, quantizeQuery } from "../attribution/influence/proved-influence.js";

/** Exact TracIn-CP: Σ_k lr_k ⟨(p-e_y) xᵀ, (p'-e_y') x'ᵀ⟩ with full gradients. */
function exactTracIn(z: Example, q: Example, cps: { lr: number; weights: Float64Array }[], classes: number, width: number): number {
  let total = 0;
  for (const c of cps) {
    const m = new SoftmaxModel(classes, width, c.weights);
    const g = (e: Example) => {
      const full = new Float64Array(classes * width);
      const u = m.residual(e);
      for (let k = 0; k < classes; k++) for (let j = 0; j < e.x.idx.length; j++) full[k * width + e.x.idx[j]] += u[k] * e.x.val[j];
      return full;
    };
    const a = g(z), b = g(q);
    total += c.lr * a.reduce((s, v, i) => s + v * b[i], 0);
  }
  return total;
}

describe("TracIn-CP gradient influence", () => {
  // Two classes on a line: class 0 near x = -2, class 1 near x = +2.
  const pt = (x: number, y: number, label: number): Example => ({ x: denseFeatures([x, y]), y: label });
  const trainSet: Example[] = [
    pt(-2, 0, 0), pt(-2.2, 0.3, 0), pt(-1.8, -0.2, 0), pt(-2.1, 0.1, 0),
    pt(2, 0, 1), pt(2.1, -0.3, 1), pt(1.9, 0.2, 1), pt(2.2, 0.1, 1),
    pt(-2, 0.05, 1), // mislabeled: sits among class 0
  ];
  const ids = trainSet.map((_, i) => `z${i}`);
  const width = 3;
  const { model, checkpoints } = train(trainSet, { classes: 2, width, epochs: 4, lr: 0.3, seed: 3 });
  const query = pt(-2, 0.1, 0);

  it("trains: the model classifies the clean points", () => {
    const correct = trainSet.slice(0, 8).filter((e) => model.probabilities(e.x)[e.y] > 0.5).length;
    expect(correct).to.equal(8);
    expect(checkpoints.map((c) => c.lr)).to.deep.equal([0.3, 0.3 / 1.5, 0.3 / 2, 0.3 / 2.5]);
  });

  it("matches the exact gradient dot products within the projection's error", () => {
    const index = TracInIndex.build(ids, trainSet, checkpoints, 2, width, 4096, 11);
    const approx = index.influence(query);
    trainSet.forEach((z, i) => {
      const exact = exactTracIn(z, query, checkpoints, 2, width);
      expect(approx[i], ids[i]).to.be.closeTo(exact, 0.1 * Math.abs(exact) + 1e-9);
    });
  });

  it("signs: a correctly labeled neighbour is a proponent, the mislabeled one an opponent with the top self-influence", () => {
    const index = TracInIndex.build(ids, trainSet, checkpoints, 2, width, 256, 11);
    const infl = index.influence(query);
    expect(infl[0]).to.be.greaterThan(0);
    expect(infl[3]).to.be.greaterThan(0);
    expect(infl[8]).to.be.lessThan(0);
    const self = index.selfInfluence();
    expect(self.indexOf(Math.max(...self))).to.equal(8);
    // Only positive influence earns a share: the mislabeled example's contributor gets nothing.
    const owners = ["alice", "alice", "alice", "alice", "bob", "bob", "bob", "bob", "mallory"];
    const shares = positiveShares(infl, (i) => owners[i]);
    expect(shares.has("mallory")).to.equal(false);
    expect(shares.get("alice")).to.be.closeTo(infl.slice(0, 4).filter((v) => v > 0).reduce((a, b) => a + b, 0), 1e-12);
  });

  it("saves and reloads checkpoints and the index with identical scores", () => {
    const dir = mkdtempSync(join(tmpdir(), "poa-tracin-"));
    saveCheckpoints(join(dir, "model"), 2, width, checkpoints);
    const loaded = loadCheckpoints(join(dir, "model"));
    expect(loaded.checkpoints.map((c) => c.lr)).to.deep.equal(checkpoints.map((c) => c.lr));
    const index = TracInIndex.build(ids, trainSet, loaded.checkpoints, 2, width, 64, 5);
    index.save(join(dir, "index"), loaded.checkpoints.map((c) => c.weights));
    const again = TracInIndex.load(join(dir, "index"));
    expect([...again.influence(query)]).to.deep.equal([...index.influence(query)]);
  });

  it("classifies text and aggregates positive influence per contributor and per datanet; survives a save and load", () => {
    const rec = (i: number, text: string, label: string, contributor: string, datanet: number) => ({ id: `r${i}`, contributor, datanet, text, label });
    const records = [
      rec(0, "great battery and bright screen", "pos", "0xa", 1), rec(1, "excellent quality, works great", "pos", "0xa", 1),
      rec(2, "love the sound, great value", "pos", "0xb", 2), rec(3, "broke after a week, terrible", "neg", "0xc", 2),
      rec(4, "terrible battery, waste of money", "neg", "0xc", 2), rec(5, "cheap and broken, avoid", "neg", "0xa", 1),
    ];
    const c = trainClassifier(records, { epochs: 4, lr: 0.5, projection: 64 });
    const r = classify(c, "great screen and great battery");
    expect(r.label).to.equal("pos");
    const sum = (m: Map<unknown, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    expect(sum(r.datanets)).to.be.closeTo(sum(r.contributors), 1e-12);
    expect(r.datanets.get(1)).to.be.closeTo([0, 1, 5].reduce((a, i) => a + Math.max(0, r.influence[i]), 0), 1e-12);
    // Excluded (e.g. slashed) records earn nothing.
    const ex = classify(c, "great screen and great battery", new Set(["r0", "r1", "r5"]));
    expect(ex.contributors.has("0xa")).to.equal(false);
    const dir = mkdtempSync(join(tmpdir(), "poa-clf-"));
    saveClassifier(dir, c);
    const loaded = loadClassifier(dir);
    expect(loaded.method).to.equal("influence-function");
    expect([...classify(loaded, "great screen and great battery").influence]).to.deep.equal([...r.influence]);
    // TracIn-CP stays available, and a save that names no method is TracIn's (the format before).
    const t = trainClassifier(records, { epochs: 4, lr: 0.5, projection: 64, method: "tracin" });
    const tdir = mkdtempSync(join(tmpdir(), "poa-clf-tracin-"));
    saveClassifier(tdir, t);
    const meta = JSON.parse(readFileSync(join(tdir, "classifier.json"), "utf8"));
    writeFileSync(join(tdir, "classifier.json"), JSON.stringify({ ...meta, method: undefined }));
    const old = loadClassifier(tdir);
    expect(old.method).to.equal("tracin");
    expect([...classify(old, "great screen and great battery").influence]).to.deep.equal([...classify(t, "great screen and great battery").influence]);
    expect(() => trainClassifier(records.map((x) => ({ ...x, label: "pos" })))).to.throw("at least two labels");
  });

  it("hashes text into sparse unit-norm features with a bias, and refuses an unknown label", () => {
    const f = textFeatures("free money, free offer", 1024);
    expect(f.idx[f.idx.length - 1]).to.equal(1024);
    const norm = Math.hypot(...f.val.slice(0, -1));
    expect(norm).to.be.closeTo(1, 1e-6);
    expect(() => train([{ x: f, y: 2 }], { classes: 2, width: 1025 })).to.throw("label 2 is not a class in 0..1");
  });
});

describe("influence functions with Kronecker-factored curvature", () => {
  const pt = (x: number, y: number, label: number): Example => ({ x: denseFeatures([x, y]), y: label });
  const trainSet: Example[] = [
    pt(-2, 0, 0), pt(-2.2, 0.3, 0), pt(-1.8, -0.2, 0), pt(-2.1, 0.1, 0), pt(-0.5, 0.4, 0),
    pt(2, 0, 1), pt(2.1, -0.3, 1), pt(1.9, 0.2, 1), pt(2.2, 0.1, 1), pt(0.4, -0.5, 1),
    pt(-2, 0.05, 1), // mislabeled: sits among class 0
  ];
  const ids = trainSet.map((_, i) => `z${i}`);
  const width = 3, n = trainSet.length;
  // Near the optimum, where influence functions are a first-order model of retraining.
  const cfg = { classes: 2, width, epochs: 300, lr: 0.05, decay: 0, l2: 1e-2, seed: 3 };
  const { model, checkpoints } = train(trainSet, cfg);
  const query = pt(-0.8, 0.2, 0);

  /** (1/n) (u_iᵀ Ā⁺ u') x_iᵀ (S + δI)⁻¹ x', densely: Ā = a [[1, −1], [−1, 1]] has Ā⁺ = v vᵀ / (2a + 0.01 a) on v = (1, −1)/√2. */
  function denseKfac(damping: number): number[] {
    const a = trainSet.reduce((s, e) => { const p = model.probabilities(e.x); return s + p[0] * p[1]; }, 0) / n;
    const cls = (e: Example) => { const u = model.residual(e); return (u[0] - u[1]) / Math.SQRT2; };
    const trace = trainSet.reduce((s, e) => s + e.x.val.reduce((t, v) => t + v * v, 0), 0) / n;
    const delta = (damping * trace) / width;
    const S = Array.from({ length: width }, (_, r) => Array.from({ length: width }, (_, c) => (r === c ? delta : 0) + trainSet.reduce((s, e) => s + (e.x.val[r] * e.x.val[c]) / n, 0)));
    const A = S.map((row, r) => [...row, query.x.val[r]]);
    for (let c = 0; c < width; c++) {
      for (let r = 0; r < width; r++) {
        if (r === c) continue;
        const f = A[r][c] / A[c][c];
        for (let k = c; k <= width; k++) A[r][k] -= f * A[c][k];
      }
    }
    const sx = A.map((row, r) => row[width] / row[r]); // (S + δI)⁻¹ x'
    return trainSet.map((e) => (cls(e) * cls(query) / (2.01 * a)) * e.x.val.reduce((s, v, k) => s + v * sx[k], 0) / n);
  }

  it("equals the dense Kronecker-factored influence when the rank covers every feature", () => {
    const index = InfluenceFunctionIndex.build(ids, trainSet, model, { rank: 3, damping: 0.01 });
    const exact = denseKfac(0.01);
    const approx = [...index.influence(query)];
    const scale = Math.max(...exact.map(Math.abs));
    approx.forEach((v, i) => expect(v, ids[i]).to.be.closeTo(exact[i], 1e-6 * scale));
  });

  it("predicts leave-one-out retraining better than TracIn; the mislabeled point is the top opponent and self-influence", () => {
    const index = InfluenceFunctionIndex.build(ids, trainSet, model, { rank: 3, damping: 0.01 });
    const predicted = [...index.influence(query)];
    const base = model.loss(query);
    const actual = trainSet.map((_, i) => train(trainSet, { ...cfg, exampleWeights: trainSet.map((_, k) => (k === i ? 0 : 1)) }).model.loss(query) - base);
    const tracin = [...TracInIndex.build(ids, trainSet, checkpoints, 2, width, 256, 11).influence(query)];
    expect(pearson(predicted, actual)).to.be.greaterThan(0.9);
    expect(pearson(tracin, actual)).to.be.lessThan(pearson(predicted, actual));
    expect(actual.indexOf(Math.min(...actual))).to.equal(10);
    expect(predicted.indexOf(Math.min(...predicted))).to.equal(10);
    const self = index.selfInfluence();
    expect(self.indexOf(Math.max(...self))).to.equal(10);
  });

  it("discounts text that many examples share: each of ten copies earns less than one unique example", () => {
    const copy = "quarterly shipping manifest harbour cranes";
    const texts = [...Array.from({ length: 10 }, () => copy), "orchard frost damage survey results", "tram fares doubled council vote", "zeppelin mooring mast inspection"];
    const labels = [...Array.from({ length: 10 }, () => 0), 0, 1, 1];
    const ex = texts.map((t, i) => ({ x: textFeatures(t, 256), y: labels[i] }));
    const m = train(ex, { classes: 2, width: 257, epochs: 20, lr: 0.5, l2: 1e-2 }).model;
    const q = { x: textFeatures("harbour cranes and orchard frost damage", 256), y: 0 };
    const infl = InfluenceFunctionIndex.build(ex.map((_, i) => `t${i}`), ex, m).influence(q);
    // Retraining without one copy raises the query's loss by 0.003, without the unique example by 0.149,
    // without a label-1 example lowers it by 0.03: the estimates keep that order.
    const actual = [0, 10, 11].map((i) => train(ex, { classes: 2, width: 257, epochs: 20, lr: 0.5, l2: 1e-2, exampleWeights: ex.map((_, k) => (k === i ? 0 : 1)) }).model.loss(q) - m.loss(q));
    expect(actual[1]).to.be.greaterThan(actual[0]);
    expect(actual[0]).to.be.greaterThan(0);
    expect(actual[2]).to.be.lessThan(0);
    expect(infl[10]).to.be.greaterThan(infl[0]);
    expect(infl[0]).to.be.greaterThan(0);
    expect(infl[11]).to.be.lessThan(0);
  });

  it("saves and reloads with identical scores, and leaves out zero-weight examples exactly", () => {
    const index = InfluenceFunctionIndex.build(ids, trainSet, model, { rank: 2 });
    const dir = mkdtempSync(join(tmpdir(), "poa-if-"));
    index.save(dir);
    const again = InfluenceFunctionIndex.load(dir);
    expect([...again.influence(query)]).to.deep.equal([...index.influence(query)]);
    expect([...again.selfInfluence()]).to.deep.equal([...index.selfInfluence()]);
    const ones = train(trainSet, { ...cfg, epochs: 3, exampleWeights: trainSet.map(() => 1) }).model.weights;
    expect([...ones]).to.deep.equal([...train(trainSet, { ...cfg, epochs: 3 }).model.weights]);
    expect(() => train(trainSet, { ...cfg, exampleWeights: [1] })).to.throw("1 example weights for 11 examples");
  });
});

describe("influence scores in fixed point (the gradient route's arithmetic)", () => {
  const words = ["harbour", "cranes", "orchard", "frost", "tram", "fares", "zeppelin", "mast", "council", "survey", "shipping", "results"];
  const texts = Array.from({ length: 60 }, (_, i) => [0, 1, 2, 3].map((k) => words[(i * (k + 3) + k * k) % words.length]).join(" "));
  const ex = texts.map((t, i) => ({ x: textFeatures(t, 256), y: i % 3 }));
  const m = train(ex, { classes: 3, width: 257, epochs: 20, lr: 0.5, l2: 1e-2 }).model;
  const index = InfluenceFunctionIndex.build(ex.map((_, i) => `t${i}`), ex, m, { rank: 4 });
  const q = { x: textFeatures("harbour cranes and orchard frost", 256), y: 1 };

  it("the factors that a receipt and a training example commit give back the influence exactly", () => {
    const f = index.queryFactors(q);
    const float = [...index.influence(q)];
    ex.forEach((_, i) => {
      const e = index.exampleFactors(i);
      const au = e.a.reduce((s, v, c) => s + v * f.u[c], 0);
      let xx = 0;
      e.x.idx.forEach((j, k) => { const at = f.x.idx.indexOf(j); if (at >= 0) xx += e.x.val[k] * f.x.val[at]; });
      const pq = e.P.reduce((s, v, r) => s + v * f.q[r], 0);
      expect((au * (xx + pq)) / ex.length, `example ${i}`).to.be.closeTo(float[i], 1e-9 * (1 + Math.abs(float[i])));
    });
    expect(() => index.exampleFactors(60)).to.throw("training example 60 is not in this index (0..59)");
  });

  it("computes exact integers, and at 16 bits keeps the float scores' order (Spearman > 0.999)", () => {
    const e = { a: [3n, -2n], idx: [1, 4, 9], x: [5n, 7n, -1n], P: [2n, 0n] };
    const query = { u: [1n, 4n], idx: [0, 4, 9], x: [8n, 2n, 3n], q: [6n, -5n] };
    // (3·1 − 2·4) · (7·2 + (−1)·3 + 2·6 + 0) = −5 · 23
    expect(fixedPointInfluence(e, query)).to.equal(-115n);
    const float = [...index.influence(q)];
    const examples = quantizeExamples(index, 16), query16 = quantizeQuery(index, q, 16);
    const fixed = examples.map((x) => Number(fixedPointInfluence(x, query16)));
    expect(spearmanRank(fixed, float)).to.be.greaterThan(0.999);
    // The integers are the float scores times one positive constant, up to rounding.
    const k = fixed[float.indexOf(Math.max(...float))] / Math.max(...float);
    fixed.forEach((v, i) => expect(v / k).to.be.closeTo(float[i], 2e-3 * Math.max(...float.map(Math.abs))));
  });
});

function spearmanRank(a: number[], b: number[]): number {
  const ranks = (xs: number[]) => { const r = new Array<number>(xs.length); xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]).forEach(([, i], k) => (r[i] = k)); return r; };
  return pearson(ranks(a), ranks(b));
}

function pearson(a: number[], b: number[]): number {
  const ma = a.reduce((s, x) => s + x, 0) / a.length, mb = b.reduce((s, x) => s + x, 0) / b.length;
  let num = 0, da = 0, db = 0;
  a.forEach((x, i) => ((num += (x - ma) * (b[i] - mb)), (da += (x - ma) ** 2), (db += (b[i] - mb) ** 2)));
  return num / Math.sqrt(da * db);
}
