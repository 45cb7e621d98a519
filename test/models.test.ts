// The language model engine (gradients, LoRA, decoding, weights files), the
// base model's reproducibility, and fine-tuning jobs: exact resumption after
// kill -9, cancellation, evaluation, the classifier family.
import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { canonicalRecord, canonicalText } from "../attribution/datanet/content.js";
import { ContentStore } from "../attribution/datanet/store.js";
import { BASE_PRESETS, COMMITTED_DIR, ensureBaseModel, paramsHash, pretrain, pretrainingText, type BaseModelInfo } from "../models/base-model.js";
import { JobManager, type Job } from "../models/factory/jobs.js";
import { ATTRIBUTION_DIM, runLoraJob, type JobOutcome } from "../models/factory/lora-job.js";
import { runClassifierJob } from "../models/factory/classifier-job.js";
import { describeIssues } from "../sequencer/schemas.js";
import { jobSpecSchema, type LoraJobSpec, type ClassifierJobSpec } from "../models/factory/spec.js";
import { splitHeldOut, type SnapshotEntry, type TrainingSnapshot } from "../models/factory/training-set.js";
import { trainingSetRoot } from "../models/registry.js";
import { DecodeState, decodeBatch, decodeStep, generate, prefill } from "../models/lm/decode.js";
import { encode, decode, VOCAB_SIZE, EOT } from "../models/lm/tokenizer.js";
import { freshOptimizer, trainStep, type TrainSettings } from "../models/lm/train.js";
import { Adapter, Transformer, baseLayout, forwardBackward, initBase, initLora, loraLayout, mergeAdapter, PROJECTIONS, type LMConfig, type LoraConfig } from "../models/lm/transformer.js";
import { decodeWeights, encodeWeights, sha256Hex } from "../models/lm/weights.js";
import { REVIEWS } from "../ops/demo-data.js";
import { LOGBOOK } from "./lib/factory-world.js";

const cfg: LMConfig = { vocab: VOCAB_SIZE, context: 16, dim: 16, layers: 2, heads: 2, hidden: 24 };
const allTargets: LoraConfig = { rank: 3, alpha: 6, targets: [...PROJECTIONS] };
const tokens = (n: number, seed = 1) => Int32Array.from({ length: n }, (_, i) => (i * 31 + seed * 17 + ((i * i) % 7)) % VOCAB_SIZE);
/** A nonzero adapter (a fresh one has B = 0). */
const randomAdapter = (c: LMConfig, l: LoraConfig, seed: number) => {
  const p = initLora(c, l, seed);
  for (let i = 0; i < p.length; i++) p[i] = Math.sin(i * 1.7 + seed) * 0.3;
  return new Adapter(c, l, p);
};
/** Next-token logits at every position through the KV-cache decoder. */
const decodeLogits = (m: Transformer, a: Adapter | null, ids: ArrayLike<number>) => {
  const s = new DecodeState(m, a);
  return Array.from(ids, (t) => decodeStep(s, t));
};
const maxDiff = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((row, i) => Math.max(...row.map((v, j) => Math.abs(v - b[i][j])))));

describe("language model engine", () => {
  it("backward matches finite differences for every base tensor and every LoRA matrix", () => {
    const c = { ...cfg, layers: 1 };
    const m = new Transformer(c, initBase(c, 3));
    for (let i = 0; i < m.params.length; i++) m.params[i] *= 3; // larger weights: gradients well above float32 noise
    const a = randomAdapter(c, allTargets, 5);
    const B = 2, T = 5;
    const toks = tokens(B * (T + 1));
    const gb = new Float32Array(m.params.length), ga = new Float32Array(a.params.length);
    forwardBackward(m, a, toks, B, T, { base: baseLayout(c).views(gb), adapter: loraLayout(c, allTargets).views(ga) });
    const checked: string[] = [];
    for (const [layout, P, G] of [[baseLayout(c), m.params, gb], [loraLayout(c, allTargets), a.params, ga]] as const) {
      for (const s of layout.specs) {
        const { offset } = layout.offsets.get(s.name)!;
        // The entry of this tensor with the largest gradient: well above float32 noise.
        let i = offset;
        for (let j = offset; j < offset + s.rows * s.cols; j++) if (Math.abs(G[j]) > Math.abs(G[i])) i = j;
        const old = P[i], h = 1e-3;
        P[i] = old + h;
        const up = forwardBackward(m, a, toks, B, T).loss;
        P[i] = old - h;
        const down = forwardBackward(m, a, toks, B, T).loss;
        P[i] = old;
        const numeric = (up - down) / (2 * h);
        expect(Math.abs(numeric - G[i]), `${s.name}: numeric ${numeric} vs backward ${G[i]}`).to.be.lessThan(0.03 * Math.abs(numeric) + 1e-3);
        checked.push(s.name);
      }
    }
    expect(checked).to.include.members(["tok", "pos", "l0.q", "l0.norm1", "head", "l0.q.A", "l0.down.B"]);
  });

  it("a zero-initialized adapter equals the base exactly; a trained one, merged as W + s·A·B, matches the unmerged path", () => {
    const m = new Transformer(cfg, initBase(cfg, 7));
    const ids = encode("Call me Ishmael. Some years");
    const base = decodeLogits(m, null, ids);
    expect(maxDiff(decodeLogits(m, new Adapter(cfg, allTargets, initLora(cfg, allTargets, 9)), ids), base)).to.equal(0);
    const a = randomAdapter(cfg, allTargets, 11);
    const unmerged = decodeLogits(m, a, ids);
    expect(maxDiff(unmerged, base)).to.be.greaterThan(0.01); // the adapter does change the output
    expect(maxDiff(decodeLogits(mergeAdapter(m, a), null, ids), unmerged)).to.be.lessThan(1e-4);
  });

  it("heterogeneous batching (rows of different adapters in one step) gives each request's tokens as if served alone on its merged weights", () => {
    const m = new Transformer(cfg, initBase(cfg, 7));
    const a1 = randomAdapter(cfg, allTargets, 21);
    const a2 = randomAdapter(cfg, { rank: 2, alpha: 2, targets: ["q", "v", "down"] }, 22);
    const requests: [Adapter | null, string][] = [[a1, "Call me"], [a2, "Fellow citizens"], [null, "The whale"], [a1, "It was"]];
    const greedy = (logits: Float32Array) => logits.indexOf(Math.max(...logits));
    // Alone, on merged weights: the naive way.
    const alone = requests.map(([a, prompt]) => {
      const s = new DecodeState(a ? mergeAdapter(m, a) : m, null);
      let logits: Float32Array = new Float32Array(0);
      for (const t of encode(prompt)) logits = decodeStep(s, t);
      const out: number[] = [];
      for (let i = 0; i < 24; i++) out.push(greedy(logits)), (logits = decodeStep(s, out[i]));
      return out;
    });
    // Batched: prompts read one by one, then every row decodes in the same steps (24 > context: the window slides too).
    const states = requests.map(([a]) => new DecodeState(m, a));
    let rows = requests.map(([, prompt], r) => {
      let logits: Float32Array = new Float32Array(0);
      for (const t of encode(prompt)) logits = decodeStep(states[r], t);
      return logits;
    });
    const batched: number[][] = requests.map(() => []);
    for (let i = 0; i < 24; i++) {
      const next = rows.map(greedy);
      next.forEach((t, r) => batched[r].push(t));
      rows = decodeBatch(states, next);
    }
    expect(batched).to.deep.equal(alone);
    expect(new Set(batched.map((b) => b.join())).size).to.equal(4); // the adapters do make the rows differ
  });

  it("reading a prompt in one batched pass gives exactly the logits of feeding it token by token, past the context too", () => {
    const m = new Transformer(cfg, initBase(cfg, 7));
    const a = randomAdapter(cfg, allTargets, 31);
    const ids = Array.from(tokens(cfg.context + 7, 9)); // longer than the context: the window slides
    const one = new DecodeState(m, a);
    let byToken: Float32Array = new Float32Array(0);
    for (const t of ids) byToken = decodeStep(one, t);
    const batched = prefill(new DecodeState(m, a), ids);
    expect([...batched]).to.deep.equal([...byToken]);
  });

  it("the KV-cache decoder gives the training forward's loss", () => {
    const m = new Transformer(cfg, initBase(cfg, 7));
    const a = randomAdapter(cfg, { rank: 2, alpha: 4, targets: ["v", "up"] }, 3);
    const ids = tokens(cfg.context + 1, 4);
    const rows = decodeLogits(m, a, ids.subarray(0, cfg.context));
    let loss = 0;
    rows.forEach((logits, t) => {
      const max = Math.max(...logits);
      const z = logits.reduce((s, v) => s + Math.exp(v - max), 0);
      loss -= logits[ids[t + 1]] - max - Math.log(z);
    });
    expect(Math.abs(loss / cfg.context - forwardBackward(m, a, ids, 1, cfg.context).loss)).to.be.lessThan(1e-5);
  });

  it("fine-tuning an adapter changes only the adapter: the base stays bit-identical", () => {
    const m = new Transformer(cfg, initBase(cfg, 7));
    const before = paramsHash(m.params);
    const a = new Adapter(cfg, allTargets, initLora(cfg, allTargets, 1));
    const adapterBefore = paramsHash(a.params);
    const s: TrainSettings = { steps: 5, batchSize: 2, seqLen: 8, lr: 1e-2, warmup: 1, weightDecay: 0, clip: 1, seed: 2 };
    const state = freshOptimizer({ kind: "adapter", model: m, adapter: a });
    for (let i = 0; i < 5; i++) trainStep({ kind: "adapter", model: m, adapter: a }, state, tokens(400), s);
    expect(paramsHash(m.params)).to.equal(before);
    expect(paramsHash(a.params)).to.not.equal(adapterBefore);
  });

  it("weights files round-trip and refuse damage by name; an adapter at rank 8 on the small base is tens of KB", () => {
    const small = BASE_PRESETS.small.config;
    const a = new Adapter(small, { rank: 8, alpha: 16, targets: [...PROJECTIONS] }, initLora(small, { rank: 8, alpha: 16, targets: [...PROJECTIONS] }, 1));
    const bytes = encodeWeights({ format: "poa-lm/1", kind: "adapter", config: small, lora: a.lora, base: "0x" + "11".repeat(32) }, a.params);
    expect(bytes.length).to.be.within(20_000, 100_000);
    const back = decodeWeights(bytes);
    expect(paramsHash(back.params)).to.equal(paramsHash(a.params));
    expect(() => decodeWeights(Buffer.from("not a weights file"))).to.throw("bad magic");
    expect(() => decodeWeights(bytes.subarray(0, bytes.length - 4))).to.throw("needs 18432");
    expect(() => encodeWeights({ format: "poa-lm/1", kind: "base", config: small }, a.params)).to.throw("parameters for a base that needs");
  });

  it("the tokenizer folds typographic text to its ASCII vocabulary and ends documents", () => {
    expect(decode(encode("\u201cCaf\u00e9\u201d \u2014 na\u00efve\u2026"))).to.equal('"Cafe" -- naive...');
    expect(encode("a", true)).to.deep.equal([encode("a")[0], EOT]);
    expect(decode(encode("snow\u2603"))).to.equal("snow\ufffd");
  });
});

describe("base model", () => {
  it("pretraining is reproducible byte for byte from the seed, and learns", function () {
    const a = pretrain(BASE_PRESETS.tiny, { buildDir: mkdtempSync(join(tmpdir(), "poa-base-")), hashSteps: [5] });
    const b = pretrain(BASE_PRESETS.tiny, { buildDir: mkdtempSync(join(tmpdir(), "poa-base-")), hashSteps: [5] });
    expect(b.info.artifactHash).to.equal(a.info.artifactHash);
    expect(b.info.stepHashes).to.deep.equal(a.info.stepHashes);
    expect(a.info.heldOutLoss).to.be.lessThan(Math.log(VOCAB_SIZE) - 1); // well below a uniform guess
  });

  it("the committed small base matches its manifest, and its first 20 steps replay to the recorded hash", function () {
    const path = join(COMMITTED_DIR, "small.poalm");
    const info = JSON.parse(readFileSync(join(COMMITTED_DIR, "small.json"), "utf8")) as BaseModelInfo;
    expect(sha256Hex(readFileSync(path))).to.equal(info.artifactHash);
    const base = ensureBaseModel("small");
    expect(base.info.artifactHash).to.equal(info.artifactHash);
    expect(base.info.corpusHash).to.equal(pretrainingText(BASE_PRESETS.small.corpusChars).hash);
    const replay = pretrain({ ...BASE_PRESETS.small, train: { ...BASE_PRESETS.small.train, steps: 20 } }, { buildDir: mkdtempSync(join(tmpdir(), "poa-base-")), hashSteps: [20] });
    expect(replay.info.stepHashes["20"]).to.equal(info.stepHashes["20"]);
    const text = generate(base.model, null, "The whale", { maxTokens: 40, temperature: 0, topP: 1, seed: 1 }).text;
    expect(text.length).to.be.greaterThan(0);
  });
});

/** A content store holding the demo's recipes (text) and reviews (json), and snapshots over them. */
function fixtures() {
  const store = new ContentStore(mkdtempSync(join(tmpdir(), "poa-content-")));
  const people = ["0x00000000000000000000000000000000000000a1", "0x00000000000000000000000000000000000000a2"];
  const textEntries: SnapshotEntry[] = LOGBOOK.map((text, i) => [i % 2, text] as const).map(([who, text], i) => ({ id: i + 1, datanetId: 1, contentHash: store.put(canonicalText(text)), contributor: people[who] }));
  const jsonEntries: SnapshotEntry[] = REVIEWS.map(([who, text, label], i) => ({ id: 100 + i, datanetId: 2, contentHash: store.put(canonicalRecord({ text, label })), contributor: people[who] }));
  const snapshot = (entries: SnapshotEntry[], kind: "text" | "json"): TrainingSnapshot => {
    const { train, heldOut } = splitHeldOut(entries);
    return { datanets: [entries[0].datanetId], kind, train, heldOut, slashed: [], root: trainingSetRoot(train) };
  };
  return { store, text: snapshot(textEntries, "text"), json: snapshot(jsonEntries, "json") };
}

const loraSpec = (over: Partial<LoraJobSpec> = {}): LoraJobSpec =>
  jobSpecSchema.parse({ method: "lora", name: "recipes", owner: "0x00000000000000000000000000000000000000a1", datanets: [1], base: "tiny", seqLen: 32, epochs: 12, learningRate: 1e-2, ...over }) as LoraJobSpec;

describe("fine-tuning jobs", function () {
  const f = fixtures();
  const ctx = (dir: string, snapshot: TrainingSnapshot, cancelled = () => false) => ({ dir, snapshot, content: (h: string) => f.store.get(h), cancelled, report: () => {} });
  let uninterrupted: JobOutcome;

  it("a LoRA fine-tune lowers held-out loss against the base, and the same seed gives the same bytes", () => {
    const base = ensureBaseModel("tiny");
    const run = () => runLoraJob(loraSpec(), { model: base.model, hash: base.info.artifactHash }, ctx(mkdtempSync(join(tmpdir(), "poa-job-")), f.text));
    uninterrupted = run();
    const again = run();
    expect(again.artifactHash).to.equal(uninterrupted.artifactHash);
    const m = uninterrupted.metrics;
    expect(m.heldOutContributions).to.equal(f.text.heldOut.length);
    expect(m.loss).to.be.lessThan(m.baseLoss! - 0.05);
    expect(m.perplexity).to.be.closeTo(Math.exp(m.loss), 1e-9);
    expect(m.samples!.length).to.equal(f.text.heldOut.length);
    // LoRA-space attribution: projected gradients of every training contribution at each kept checkpoint.
    const dir = join(uninterrupted.artifactPath, "..", "attribution");
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
    expect(meta.ids).to.deep.equal(f.text.train.map((e) => e.id));
    for (let k = 0; k < meta.checkpoints.length; k++) expect(statSync(join(dir, `grads-${k}.f32`)).size).to.equal(f.text.train.length * ATTRIBUTION_DIM * 4);
  });

  it("kill -9 during training, restart: the job resumes from its checkpoint and ends with the uninterrupted run's bytes", async function () {
    const work = mkdtempSync(join(tmpdir(), "poa-jobs-"));
    const db = join(work, "jobs.db"), jobs = join(work, "jobs");
    const input = join(work, "job.json");
    const spec = loraSpec({ epochs: 60 });
    writeFileSync(input, JSON.stringify({ spec, snapshot: f.text }));
    const base = ensureBaseModel("tiny");
    const reference = runLoraJob(spec, { model: base.model, hash: base.info.artifactHash }, ctx(mkdtempSync(join(tmpdir(), "poa-job-")), f.text));
    const host = (args: string[], until?: (line: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>[]>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", "test/lib/job-host.ts", db, jobs, f.store.dir, ...args], { stdio: ["ignore", "pipe", "inherit"] });
        const lines: Record<string, unknown>[] = [];
        let buf = "";
        child.stdout.on("data", (d) => {
          buf += d;
          for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
            const line = JSON.parse(buf.slice(0, i));
            buf = buf.slice(i + 1);
            lines.push(line);
            if (until?.(line)) child.kill("SIGKILL");
          }
        });
        child.on("error", reject);
        child.on("exit", () => resolve(lines));
      });
    // Kill once a checkpoint past step 0 is on disk and training has gone on beyond it.
    let checkpoint = 0;
    const first = await host(["create", input], (l) => {
      if (typeof l.checkpointStep === "number") checkpoint = l.checkpointStep;
      return checkpoint > 0 && typeof l.progress === "number" && l.progress > checkpoint + 1;
    });
    expect(first.some((l) => l.outcome), JSON.stringify(first.filter((l) => !('progress' in l)))).to.equal(false); // it really died mid-run
    const interruptedAt = new JobManager(new Database(db), { dir: jobs, contentDir: f.store.dir }).get(1)!;
    expect(interruptedAt.state).to.equal("interrupted");
    expect(interruptedAt.checkpointStep).to.be.greaterThan(0);
    const second = await host(["resume"]);
    const resumedFrom = second.find((l) => l.state === "running");
    expect(resumedFrom?.checkpointStep).to.equal(interruptedAt.checkpointStep);
    const outcome = second.find((l) => l.outcome)!.outcome as JobOutcome;
    expect(outcome.artifactHash).to.equal(reference.artifactHash);
    // The stored curve has every step once, and the resumed steps equal the first run's.
    const curve = new JobManager(new Database(db), { dir: jobs, contentDir: f.store.dir }).progress(1);
    expect(curve.map((p) => p.step)).to.deep.equal(Array.from({ length: curve.length }, (_, i) => i + 1));
  });

  it("cancel stops a running job between steps; cancelling a finished job is refused", async () => {
    const work = mkdtempSync(join(tmpdir(), "poa-jobs-"));
    const manager = new JobManager(new Database(join(work, "jobs.db")), { dir: join(work, "jobs"), contentDir: f.store.dir });
    const job = manager.create(loraSpec({ epochs: 100 }), f.text);
    const final = await new Promise<Job>((resolve) => {
      manager.on("progress", (id: number, p: { step: number }) => p.step === 3 && manager.cancel(id));
      manager.on("update", (j: Job) => ["cancelled", "done", "failed"].includes(j.state) && resolve(j));
    });
    expect(final.state).to.equal("cancelled");
    // The worker sees the flag at its next step boundary; how many steps it ran meanwhile depends on
    // when the main thread handled step 3's message, so the test bounds it by the run, not by a clock.
    expect(final.step).to.be.at.least(3);
    expect(final.step).to.be.below(final.steps!);
    expect(final.outcome).to.equal(null);
    expect(manager.progress(job.id).at(-1)!.step).to.equal(final.step);
    expect(() => manager.cancel(job.id)).to.throw(`job ${job.id} is cancelled; only a queued, running or interrupted job can be cancelled`);
    expect(() => manager.resume(job.id)).to.throw("only an interrupted or failed job can be resumed");
    expect(() => manager.cancel(99)).to.throw("job 99 does not exist");
    await manager.close();
  });

  it("a classifier job trains the specialized model in full and reports held-out accuracy against the majority class", () => {
    const spec = jobSpecSchema.parse({ method: "classifier", name: "reviews", owner: "0x00000000000000000000000000000000000000a1", datanets: [2] }) as ClassifierJobSpec;
    const dir = mkdtempSync(join(tmpdir(), "poa-job-"));
    const out = runClassifierJob(spec, ctx(dir, f.json));
    expect(out.metrics.heldOutContributions).to.equal(f.json.heldOut.length);
    expect(out.metrics.accuracy).to.equal(1);
    expect(out.artifactHash).to.equal(sha256Hex(readFileSync(out.artifactPath)));
    expect(existsSync(join(dir, "tracin", "meta.json")) || existsSync(join(dir, "tracin"))).to.equal(true);
  });

  it("refuses bad job settings by field", () => {
    const bad = (over: Record<string, unknown>) => {
      const r = jobSpecSchema.safeParse({ method: "lora", name: "x", owner: "0x00000000000000000000000000000000000000a1", datanets: [1], ...over });
      return r.success ? "accepted" : describeIssues(r.error).map((i) => `${i.field}: ${i.reason}`).join("; ");
    };
    expect(bad({})).to.equal("accepted");
    expect(bad({ learningRate: 0 })).to.equal("learningRate: the learning rate must be positive");
    expect(bad({ lora: { rank: 0 } })).to.equal("lora.rank: rank is at least 1");
    expect(bad({ lora: { targets: ["q", "gate"] } })).to.contain("lora.targets.1");
    expect(bad({ datanets: [] })).to.equal("datanets: pick at least one datanet");
    expect(bad({ datanets: [1, 1] })).to.equal("datanets: a datanet is listed twice");
    expect(bad({ batchSize: 65 })).to.equal("batchSize: batch size is at most 64");
    expect(bad({ owner: "0x12" })).to.equal("owner: an address is 0x and 40 hex digits");
    expect(bad({ method: "qlora" })).to.contain("method");
    expect(bad({ epochs: 1, extra: 1 })).to.contain("extra");
  });
});
