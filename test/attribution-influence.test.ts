// Gradient influence: a trained softmax model, TracIn-CP against the exact sum
// of gradient dot products, and the signs of influence on a case known by hand.
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { denseFeatures, textFeatures } from "../attribution/influence/features.js";
import { loadCheckpoints, saveCheckpoints, SoftmaxModel, train, type Example } from "../attribution/influence/model.js";
import { positiveShares, TracInIndex } from "../attribution/influence/tracin.js";
import { classify, loadClassifier, saveClassifier, trainClassifier } from "../attribution/influence/classifier.js";

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
    const again = classify(loadClassifier(dir), "great screen and great battery");
    expect([...again.influence]).to.deep.equal([...r.influence]);
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
