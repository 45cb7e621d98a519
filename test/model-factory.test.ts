// ModelFactory end to end over real HTTP against a real Hardhat node: jobs on
// datanets (LoRA and classifier), live events, evaluation, trying the result,
// publishing on the ModelRegistry (signed by a dev account, or by the owner's
// own key), every refusal by name, and a job resumed after a restart.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { Contract, Wallet, parseEther } from "ethers";
import { contributionHash } from "../attribution/datanet/content.js";
import { ensureBaseModel } from "../models/base-model.js";
import { modelRegistryAt, readModel, registerModel, trainingSetRoot } from "../models/registry.js";
import { startService, type Service } from "../sequencer/service.js";
import { startFactoryWorld, type FactoryWorld } from "./lib/factory-world.js";
import { http, waitFor } from "./lib/http.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { expectReject } from "./helpers.js";

const OWNER = "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65"; // dev account 4 (a contributor), lowercase as the API returns it


describe("ModelFactory over HTTP", function () {
  let w: FactoryWorld;
  let svc: Service;
  const api = (method: string, path: string, body?: unknown) => http(svc.url, method, path, body);
  const lora = (over: Record<string, unknown> = {}) => ({ method: "lora", name: "logbook-adapter", owner: OWNER, datanets: [1], base: "tiny", seqLen: 32, epochs: 6, learningRate: 0.01, ...over });
  const finished = (id: number) => waitFor(`job ${id} to finish`, async () => {
    const j = (await api("GET", `/v1/jobs/${id}`)).json;
    return ["done", "failed", "cancelled"].includes(j.state) && j;
  });

  before(async () => {
    w = await startFactoryWorld(20545 + (process.pid % 1000));
    svc = w.svc;
    // Slash one logbook contribution: jobs must leave it out, and the registry refuses it.
    await (await (w.d.registry.connect(w.curator) as Contract).slash(3, 0)).wait();
  });
  after(async () => {
    await svc?.close();
    await w?.chain.stop();
  });

  it("lists the base models: the committed small one and the tests' tiny one", async () => {
    ensureBaseModel("tiny");
    const r = await api("GET", "/v1/base-models");
    expect(r.status).to.equal(200);
    const small = r.json.bases.find((b: { preset: string }) => b.preset === "small");
    expect(small).to.include({ available: true, parameters: 119360, modelId: null });
    expect(r.json.bases.find((b: { preset: string }) => b.preset === "tiny").available).to.equal(true);
    expect((await api("GET", "/v1/dev-accounts")).json.accounts).to.have.length(20);
  });

  it("refuses a job it cannot run, naming the problem", async () => {
    const refusal = async (body: unknown) => {
      const r = await api("POST", "/v1/jobs", body);
      return [r.status, r.json.error?.code, r.json.error?.message];
    };
    expect(await refusal(lora({ datanets: [9] }))).to.deep.equal([404, "unknown_datanet", "datanet 9 does not exist (the registry has 2)"]);
    expect(await refusal(lora({ datanets: [2] }))).to.deep.equal([400, "wrong_datanet_kind", "datanet 2 (reviews) holds json contributions; this method trains on text datanets"]);
    expect(await refusal({ method: "classifier", name: "c", owner: OWNER, datanets: [1] })).to.deep.equal([400, "wrong_datanet_kind", "datanet 1 (logbook) holds text contributions; this method trains on json datanets"]);
    expect(await refusal(lora({ learningRate: 5 }))).to.deep.equal([400, "invalid_body", "learningRate: a learning rate above 0.1 diverges"]);
    expect(await refusal(lora({ lora: { rank: 100 } }))).to.deep.equal([400, "invalid_body", "lora.rank: rank is at most 64"]);
    expect(await refusal(lora({ seqLen: 64 }))).to.deep.equal([400, "invalid_body", "seqLen: the tiny base reads at most 32 tokens"]);
    expect((await refusal(lora({ epochs: 100, batchSize: 1, seqLen: 8 })))[1]).to.equal("too_many_steps");
    expect((await refusal(lora({ base: "huge" })))[2]).to.contain("base must be one of small, tiny");
    expect(await refusal({ ...lora(), owner: undefined })).to.deep.equal([400, "invalid_body", "owner: an address is 0x and 40 hex digits"]);
    expect(await refusal(lora({ owner: `0x${"0".repeat(40)}` }))).to.deep.equal([400, "invalid_body", "owner: the owner must not be the zero address (no one could publish or be paid)"]);
    expect((await api("GET", "/v1/jobs/77")).json.error).to.deep.equal({ code: "unknown_job", message: "job 77 does not exist" });
    expect((await api("POST", "/v1/jobs/abc/cancel")).status).to.equal(404);
    expect((await api("GET", "/v1/models/5")).json.error.code).to.equal("unknown_model");
  });

  let adapterJob: number;

  it("fine-tunes a LoRA adapter: live events, the slashed contribution left out, held-out loss below the base's", async () => {
    const created = await api("POST", "/v1/jobs", lora());
    expect(created.status, JSON.stringify(created.json)).to.equal(201);
    adapterJob = created.json.id;
    const set = created.json.trainingSet;
    expect(set.slashedLeftOut).to.deep.equal([3]);
    expect([...set.train, ...set.heldOut].map((c: { id: number }) => c.id).sort((a: number, b: number) => a - b)).to.deep.equal([1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(set.heldOut).to.have.length(1);
    expect(set.root).to.equal(trainingSetRoot(set.train));
    // Server-sent events: the job, then progress points, then the state changes to done.
    const res = await fetch(`${svc.url}/v1/jobs/${adapterJob}/events`);
    expect(res.headers.get("content-type")).to.equal("text/event-stream");
    const reader = res.body!.getReader();
    const events: { event: string; data: any }[] = [];
    let buf = "";
    while (!events.some((e) => e.event === "job" && e.data.state === "done")) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += new TextDecoder().decode(value);
      for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
    await reader.cancel();
    const progress = events.filter((e) => e.event === "progress").map((e) => e.data);
    expect(progress.length).to.be.greaterThan(0);
    expect(progress.map((p) => p.step)).to.deep.equal([...progress.map((p) => p.step)].sort((a, b) => a - b));
    expect(events.map((e) => e.data.state).filter(Boolean)).to.include.members(["evaluating", "done"]);
    const job = (await api("GET", `/v1/jobs/${adapterJob}`)).json;
    expect(job.state).to.equal("done");
    expect(job.progress.map((p: { step: number }) => p.step)).to.deep.equal(Array.from({ length: job.steps }, (_, i) => i + 1));
    expect(job.outcome.metrics.loss).to.be.lessThan(job.outcome.metrics.baseLoss);
    expect(job.outcome.metrics.heldOutContributions).to.equal(1);
  });

  it("tries the adapter: a completion (and the base's, to compare); a classifier job labels text", async () => {
    const g = await api("POST", `/v1/jobs/${adapterJob}/generate`, { prompt: "Day 13. Wind", maxTokens: 40, temperature: 0, compare: true });
    expect(g.status, JSON.stringify(g.json)).to.equal(200);
    expect(g.json.tokens).to.be.within(1, 40);
    expect(g.json.base.text).to.be.a("string");
    expect((await api("POST", `/v1/jobs/${adapterJob}/generate`, { maxTokens: 9999 })).json.error.message).to.equal("maxTokens: at most 256 tokens");
    const c = await api("POST", "/v1/jobs", { method: "classifier", name: "reviews", owner: OWNER, datanets: [2] });
    expect(c.status, JSON.stringify(c.json)).to.equal(201);
    const done = await finished(c.json.id);
    expect(done.state).to.equal("done");
    expect(done.outcome.metrics.accuracy).to.be.a("number");
    const label = await api("POST", `/v1/jobs/${c.json.id}/generate`, { prompt: "terrible, broke after a day, avoid" });
    expect(label.json.label).to.equal("negative");
    expect(Object.keys(label.json.contributors).length).to.be.greaterThan(0);
  });

  it("publishes the adapter on L1 signed by its owner's dev account; the base is registered first; the weights are served by hash", async () => {
    const reg = await api("POST", `/v1/jobs/${adapterJob}/registration`);
    expect(reg.status, JSON.stringify(reg.json)).to.equal(200);
    expect(reg.json).to.include({ kind: "adapter", parent: 1 });
    const base = await readModel(modelRegistryAt(await w.d.modelRegistry.getAddress(), w.chain.provider), 1);
    expect(base).to.include({ kind: "base", artifactHash: ensureBaseModel("tiny").info.artifactHash, contributionCount: 0 });
    const pub = await api("POST", `/v1/jobs/${adapterJob}/publish`, { pricePer1kTokens: "2000000000000000" });
    expect(pub.status, JSON.stringify(pub.json)).to.equal(201);
    const job = (await api("GET", `/v1/jobs/${adapterJob}`)).json;
    expect(pub.json.model).to.include({ id: 2, kind: "adapter", parent: 1, owner: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", pricePer1kTokens: "2000000000000000", trainingSetRoot: job.trainingSet.root, artifactHash: job.outcome.artifactHash, contributionCount: job.trainingSet.train.length });
    expect(pub.json.model.datanets).to.deep.equal([1]);
    expect(job.modelId).to.equal(2);
    const model = (await api("GET", "/v1/models/2")).json;
    expect(model.contributionIds).to.deep.equal(job.trainingSet.train.map((c: { id: number }) => c.id));
    expect(model.job).to.include({ id: adapterJob });
    const artifact = await fetch(`${svc.url}/v1/models/2/artifact`);
    expect(contributionHash(new Uint8Array(await artifact.arrayBuffer()))).to.equal(job.outcome.artifactHash);
    expect((await api("GET", "/v1/models")).json.models.map((m: { id: number; kind: string }) => [m.id, m.kind])).to.deep.equal([[1, "base"], [2, "adapter"]]);
    const again = await api("POST", `/v1/jobs/${adapterJob}/publish`, {});
    expect([again.status, again.json.error.code]).to.deep.equal([409, "job_state"]);
  });

  it("an owner without a dev key publishes with its own signature; the service checks the transaction", async () => {
    const owner = Wallet.createRandom().connect(w.chain.provider);
    await (await w.contributors[0].sendTransaction({ to: owner.address, value: parseEther("1") })).wait();
    const c = await api("POST", "/v1/jobs", lora({ owner: owner.address, epochs: 2, name: "own-key" }));
    const done = await finished(c.json.id);
    expect(done.state).to.equal("done");
    const refused = await api("POST", `/v1/jobs/${c.json.id}/publish`, {});
    expect([refused.status, refused.json.error.code]).to.deep.equal([403, "owner_must_sign"]);
    const args = (await api("POST", `/v1/jobs/${c.json.id}/registration`)).json;
    const registry = modelRegistryAt(args.registry, owner);
    // Someone else's transaction is not this job's publication.
    const wrong = await api("POST", `/v1/jobs/${c.json.id}/publish`, { txHash: (await api("GET", `/v1/jobs/${adapterJob}`)).json.publishTx });
    expect(wrong.json.error.code).to.equal("not_this_model");
    // The service committed for the owner when the job finished, before the artifact hash was shown to anyone.
    expect(args.salt).to.match(/^0x[0-9a-f]{64}$/);
    expect(Number(await registry.commitmentBlock(await registry.commitmentOf(args.artifactHash, owner.address, args.salt)))).to.equal(args.commitmentBlock);
    // Someone who read the hash from the API afterwards registers the weights first, as theirs, at their price...
    const thief = modelRegistryAt(args.registry, devWallet(9, w.chain.provider));
    const stolen = await registerModel(thief, { kind: "adapter", parent: args.parent, artifactHash: args.artifactHash, configHash: args.configHash, metricsHash: args.metricsHash, pricePer1kTokens: 10n ** 24n, contributionIds: args.contributionIds });
    expect((await readModel(registry, stolen.id)).owner).to.equal(devWallet(9).address);
    // ...and the owner's reveal of the earlier commitment takes the entry over.
    const { txHash, id: ownedId } = await registerModel(registry, { kind: "adapter", parent: args.parent, artifactHash: args.artifactHash, configHash: args.configHash, metricsHash: args.metricsHash, pricePer1kTokens: 5n, contributionIds: args.contributionIds }, args.salt);
    expect(ownedId).to.equal(stolen.id);
    const pub = await api("POST", `/v1/jobs/${c.json.id}/publish`, { txHash });
    expect(pub.status, JSON.stringify(pub.json)).to.equal(201);
    expect(pub.json.model).to.include({ owner: owner.address, kind: "adapter", pricePer1kTokens: "5" });
  });

  it("the CLI trains, evaluates and publishes with the owner's own key", async () => {
    const poa = (...args: string[]) => new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ["--import", "tsx", "scripts/poa.ts", "model", ...args, "--api", svc.url], { timeout: 300_000 }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stdout}${stderr}`)) : resolve(stdout)));
    });
    const trained = await poa("train", "--datanet", "1", "--base", "tiny", "--seq-len", "32", "--epochs", "2", "--lr", "0.01", "--account", "5", "--name", "from-cli");
    const id = Number(/job (\d+) queued/.exec(trained)![1]);
    expect(trained).to.match(/held-out \(1 contributions, \d+ tokens\): loss \d\.\d{3} nats\/token \(base \d\.\d{3}\)/);
    expect(trained).to.contain(`next: poa model publish ${id} --account 5`);
    const evaluated = await poa("eval", String(id), "--prompt", "Day 14.", "--max-tokens", "20");
    expect(evaluated).to.match(/tuned: "Day 14\./);
    await expectReject(poa("publish", String(id), "--account", "6", "--rpc", w.chain.url), `job ${id} belongs to 0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc`);
    const published = await poa("publish", String(id), "--account", "5", "--rpc", w.chain.url, "--price", "0.002");
    const modelId = Number(/model (\d+) registered/.exec(published)![1]);
    const m = (await api("GET", `/v1/models/${modelId}`)).json;
    expect(m).to.include({ owner: "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", pricePer1kTokens: "2000000000000000", kind: "adapter" });
    expect(await poa("status", String(id))).to.contain(`done, step`).and.contain(`published as model ${modelId}`);
    expect(await poa("list")).to.contain(`#${modelId} adapter`);
  });

  it("a job running when the service stops is interrupted, offered for resumption, and finishes after it", async () => {
    const c = await api("POST", "/v1/jobs", lora({ epochs: 60, name: "long" }));
    await waitFor("a checkpoint", async () => (await api("GET", `/v1/jobs/${c.json.id}`)).json.checkpointStep > 0);
    await svc.close();
    svc = await startService({ ...w.cfg, port: 0 });
    const stopped = (await api("GET", `/v1/jobs/${c.json.id}`)).json;
    expect(stopped.state).to.equal("interrupted");
    expect((await api("POST", `/v1/jobs/${c.json.id}/cancel`)).json.state).to.equal("cancelled");
    expect((await api("POST", `/v1/jobs/${c.json.id}/resume`)).json.error.message).to.equal(`job ${c.json.id} is cancelled; only an interrupted or failed job can be resumed`);
    // Another one, resumed this time.
    const d = await api("POST", "/v1/jobs", lora({ epochs: 60, name: "long-2" }));
    await waitFor("a checkpoint", async () => (await api("GET", `/v1/jobs/${d.json.id}`)).json.checkpointStep > 0);
    await svc.close();
    svc = await startService({ ...w.cfg, port: 0 });
    const interrupted = (await api("GET", `/v1/jobs/${d.json.id}`)).json;
    expect(interrupted.state).to.equal("interrupted");
    const resumed = await api("POST", `/v1/jobs/${d.json.id}/resume`);
    expect(resumed.json.state).to.be.oneOf(["queued", "running"]);
    const done = await finished(d.json.id);
    expect(done.state).to.equal("done");
    expect(done.progress.map((p: { step: number }) => p.step)).to.deep.equal(Array.from({ length: done.steps }, (_, i) => i + 1));
  });
});
