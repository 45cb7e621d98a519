// /v1/jobs and /v1/models: ModelFactory over HTTP.
//
//   GET  /v1/base-models                 base models this service can fine-tune
//   POST /v1/jobs                        create a fine-tuning job (snapshots its training set)
//   GET  /v1/jobs                        list;  GET /v1/jobs/:id  one job with its loss curve
//   GET  /v1/jobs/:id/events             server-sent events: progress, state changes
//   POST /v1/jobs/:id/cancel | /resume   stop a job; continue an interrupted one from its checkpoint
//   POST /v1/jobs/:id/generate           try the result: a completion (adapter) or a label (classifier)
//   POST /v1/jobs/:id/registration       the exact ModelRegistry.register arguments (registers the base first if needed)
//   POST /v1/jobs/:id/publish            register on L1: signed here by a local dev account, or report a txHash the owner sent
//   GET  /v1/models | /v1/models/:id     ModelRegistry entries, joined with the jobs that made them
//   GET  /v1/models/:id/artifact         the weights file, from the content-addressed store
import type { Express, Request, Response } from "express";
import { hexlify, randomBytes, type Contract, type Wallet } from "ethers";
import { z } from "zod";
import { classify, loadClassifier, type Classifier } from "../attribution/influence/classifier.js";
import { ContentMissingError } from "../attribution/datanet/store.js";
import { BASE_PRESETS, availableBase, ensureBaseModel, type BaseModel } from "../models/base-model.js";
import { JobManager, JobNotFoundError, JobStateError, type Job } from "../models/factory/jobs.js";
import { loraSettings, tokenStream } from "../models/factory/lora-job.js";
import { jobSpecSchema } from "../models/factory/spec.js";
import { snapshotTrainingSet, TrainingSetError } from "../models/factory/training-set.js";
import { generate } from "../models/lm/decode.js";
import { loadAdapter } from "../models/lm/weights.js";
import type { Adapter } from "../models/lm/transformer.js";
import { listModels, readModel, registerModel, MODEL_KINDS, type RegisteredModel } from "../models/registry.js";
import { describeRevert } from "../attribution/datanet/registry.js";
import { serializer, type DatanetDeps } from "./datanets.js";
import { describeIssues } from "./schemas.js";
import { join } from "node:path";

export interface ModelDeps {
  jobs: JobManager;
  /** ModelRegistry connected to the operator's wallet (the relayer): it registers base models. */
  registry: Contract;
  datanets: DatanetDeps;
  /** Local chain only: dev accounts whose publications this service may sign (the page has no wallet). */
  devSigners?: Map<string, Wallet>;
}

type Refuse = (res: Response, status: number, code: string, message: string, extra?: object) => void;

/** Longest completion the try panel generates (it runs on the service's thread). */
export const MAX_TRY_TOKENS = 256;

const generateSchema = z.strictObject({
  prompt: z.string().max(2000, "a prompt is at most 2000 characters").default(""),
  maxTokens: z.number().int().min(1).max(MAX_TRY_TOKENS, `at most ${MAX_TRY_TOKENS} tokens`).default(120),
  temperature: z.number().min(0).max(2).default(0.7),
  topP: z.number().gt(0).max(1).default(0.95),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  compare: z.boolean().default(false),
});

const publishSchema = z.strictObject({
  pricePer1kTokens: z.string().regex(/^(0|[1-9][0-9]{0,40})$/, "a price is OPEN base units per 1,000 output tokens, in decimal").default("0"),
  txHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "a transaction hash is 0x and 64 hex digits").optional(),
});

export function jobView(j: Job, progress?: ReturnType<JobManager["progress"]>): Record<string, unknown> {
  return {
    id: j.id,
    name: j.name,
    method: j.method,
    owner: j.owner,
    state: j.state,
    step: j.step,
    steps: j.steps,
    checkpointStep: j.checkpointStep,
    error: j.error,
    spec: j.spec,
    trainingSet: { datanets: j.snapshot.datanets, kind: j.snapshot.kind, train: j.snapshot.train, heldOut: j.snapshot.heldOut, slashedLeftOut: j.snapshot.slashed, root: j.snapshot.root },
    // The artifact hash is shown once the owner's ModelRegistry commitment is on L1 (or the model is registered):
    // whoever learns it first could otherwise commit to it first and win the registration (commit–reveal).
    outcome: j.outcome && { artifactHash: j.commitment || j.modelId ? j.outcome.artifactHash : null, configHash: j.outcome.configHash, metricsHash: j.outcome.metricsHash, metrics: j.outcome.metrics },
    commitment: j.commitment && { block: j.commitment.block },
    modelId: j.modelId,
    publishTx: j.publishTx,
    createdAt: new Date(j.createdAt).toISOString(),
    updatedAt: new Date(j.updatedAt).toISOString(),
    ...(progress ? { progress: progress.map((p) => ({ step: p.step, loss: Number.isFinite(p.loss) ? p.loss : null, lr: p.lr })) } : {}),
  };
}

export function modelView(m: RegisteredModel, job?: Job): Record<string, unknown> {
  return { ...m, pricePer1kTokens: m.pricePer1kTokens.toString(), job: job ? { id: job.id, name: job.name, metrics: job.outcome?.metrics ?? null } : null };
}

export function registerModelRoutes(app: Express, deps: ModelDeps | undefined, refuse: Refuse): void {
  const bases = new Map<string, BaseModel>();
  const base = (preset: string) => {
    let b = bases.get(preset);
    if (!b) bases.set(preset, (b = ensureBaseModel(preset)));
    return b;
  };
  const adapters = new Map<number, Adapter | Classifier>();
  const tuned = (j: Job): Adapter | Classifier => {
    let a = adapters.get(j.id);
    if (!a) {
      a = j.spec.method === "lora" ? loadAdapter(deps!.jobs.artifact(j), base(j.spec.base).model, base(j.spec.base).info.artifactHash) : loadClassifier(join(deps!.jobs.dirOf(j.id), "classifier"));
      if (adapters.size >= 16) adapters.delete(adapters.keys().next().value!);
      adapters.set(j.id, a);
    }
    return a;
  };

  const handler = (fn: (d: ModelDeps, req: Request, res: Response) => Promise<void> | void) => async (req: Request, res: Response) => {
    if (!deps) return refuse(res, 503, "models_unavailable", "this service runs without a ModelRegistry and DatanetRegistry (start it with --model-registry and --registry)");
    try {
      await fn(deps, req, res);
    } catch (e) {
      if (e instanceof JobNotFoundError) return refuse(res, 404, "unknown_job", e.message);
      if (e instanceof JobStateError) return refuse(res, 409, "job_state", e.message);
      if (e instanceof TrainingSetError) return refuse(res, e.code === "unknown_datanet" ? 404 : 400, e.code, e.message);
      const reason = describeRevert(deps.registry, e);
      const name = /^([A-Z]\w*)\(/.exec(reason)?.[1];
      if (!name || res.headersSent) throw e;
      refuse(res, 422, name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase(), `the ModelRegistry refused the registration: ${reason}`);
    }
  };

  const jobOf = (d: ModelDeps, req: Request): Job => {
    const raw = String(req.params.id);
    if (!/^[1-9][0-9]{0,9}$/.test(raw)) throw new JobNotFoundError(`a job id is a positive integer, got ${raw}`);
    const j = d.jobs.get(Number(raw));
    if (!j) throw new JobNotFoundError(`job ${raw} does not exist`);
    return j;
  };

  const invalid = (res: Response, e: z.ZodError) => {
    const issues = describeIssues(e);
    refuse(res, 400, "invalid_body", issues.map((i) => `${i.field}: ${i.reason}`).join("; "), { issues });
  };

  /** The base's id in ModelRegistry, registered by the operator on first use. */
  const baseModelId = async (d: ModelDeps, preset: string): Promise<number> => {
    const b = base(preset);
    const known = Number(await d.registry.modelIdOf(b.info.artifactHash));
    if (known) return known;
    d.datanets.store.put(b.bytes); // the weights are fetchable by hash, as every artifact is
    const configHash = `0x${b.info.inputHash}`;
    return (await serialize(d, () => registerModel(d.registry, { kind: "base", parent: 0, artifactHash: b.info.artifactHash, configHash, metricsHash: `0x${"00".repeat(32)}`, pricePer1kTokens: 0n, contributionIds: [] }))).id;
  };
  const serialize = <T>(d: ModelDeps, fn: () => Promise<T>) => (d.datanets.serialize ? d.datanets.serialize(fn) : fn());

  /**
   * Commits, for a finished job's owner, to registering its weights (ModelRegistry.commit, sent by the operator's
   * key): the commitment is on L1 before the artifact hash is shown to anyone, so the owner's is the earliest.
   * Idempotent; the salt is kept with the job and given to the owner for the reveal.
   */
  const committing = new Map<number, Promise<Job>>();
  const commitFor = (d: ModelDeps, j: Job): Promise<Job> => {
    if (j.commitment || j.modelId || j.state !== "done" || !j.outcome) return Promise.resolve(j);
    let p = committing.get(j.id);
    if (!p) {
      const salt = hexlify(randomBytes(32));
      p = serialize(d, async () => {
        const tx = await d.registry.commit(await d.registry.commitmentOf(j.outcome!.artifactHash, j.owner, salt));
        const receipt = await tx.wait();
        return d.jobs.setCommitment(j.id, salt, receipt.blockNumber);
      }).finally(() => committing.delete(j.id));
      committing.set(j.id, p);
    }
    return p;
  };
  if (deps) {
    deps.jobs.on("update", (j: Job) => void commitFor(deps, j).catch((e: Error) => console.error(`ModelRegistry commitment for job ${j.id}: ${e.message}`)));
    for (const j of deps.jobs.list()) void commitFor(deps, j).catch((e: Error) => console.error(`ModelRegistry commitment for job ${j.id}: ${e.message}`));
  }

  const registration = async (d: ModelDeps, job: Job) => {
    if (job.state !== "done" || !job.outcome) throw new JobStateError(`job ${job.id} is ${job.state}; only a finished job can be published`);
    const j = await commitFor(d, job);
    return {
      kind: j.spec.method === "lora" ? "adapter" : "classifier",
      parent: j.spec.method === "lora" ? await baseModelId(d, j.spec.base) : 0,
      artifactHash: job.outcome.artifactHash,
      configHash: job.outcome.configHash,
      metricsHash: job.outcome.metricsHash,
      contributionIds: j.snapshot.train.map((e) => e.id),
      trainingSetRoot: j.snapshot.root,
      datanets: j.snapshot.datanets,
      // The owner reveals the commitment made for it: register(..., salt) from the owner's key.
      salt: j.commitment?.salt ?? null,
      commitmentBlock: j.commitment?.block ?? null,
    } as const;
  };

  app.get("/v1/dev-accounts", (_req, res) => {
    // Local chain only: the accounts whose publications this service signs (none elsewhere).
    res.json({ accounts: [...(deps?.devSigners ?? new Map()).values()].map((w, i) => ({ address: w.address.toLowerCase(), label: `dev account ${devIndex(w, i)}` })) });
  });
  const devIndex = (w: Wallet & { devIndex?: number }, i: number) => w.devIndex ?? i;

  app.get("/v1/base-models", handler(async (d, _req, res) => {
    const list = [];
    for (const name of Object.keys(BASE_PRESETS)) {
      const info = availableBase(name);
      const preset = BASE_PRESETS[name];
      list.push({ preset: name, config: preset.config, available: info !== null, artifactHash: info?.artifactHash ?? null, parameters: info?.parameters ?? null, heldOutLoss: info?.heldOutLoss ?? null, modelId: info ? Number(await d.registry.modelIdOf(info.artifactHash)) || null : null });
    }
    res.json({ bases: list });
  }));

  app.post("/v1/jobs", handler(async (d, req, res) => {
    const parsed = jobSpecSchema.safeParse(req.body);
    if (!parsed.success) return invalid(res, parsed.error);
    const spec = parsed.data;
    if (spec.method === "lora" && spec.seqLen > BASE_PRESETS[spec.base].config.context)
      return refuse(res, 400, "invalid_body", `seqLen: the ${spec.base} base reads at most ${BASE_PRESETS[spec.base].config.context} tokens`);
    const snapshot = await snapshotTrainingSet(d.datanets.registry, d.datanets.store, d.datanets.fromBlock, spec.datanets, spec.method === "lora" ? "text" : "json");
    if (spec.method === "lora") {
      const tokens = tokenStream(snapshot.train, (h) => d.datanets.store.get(h)).length;
      if (tokens < spec.seqLen + 1) return refuse(res, 400, "training_set_too_short", `the training split holds ${tokens} tokens, fewer than one sequence of ${spec.seqLen + 1}: lower seqLen or add contributions`);
      try {
        loraSettings(spec, tokens);
      } catch (e) {
        return refuse(res, 400, "too_many_steps", (e as Error).message);
      }
    }
    const job = d.jobs.create(spec, snapshot);
    res.status(201).json(jobView(job, []));
  }));

  app.get("/v1/jobs", handler((d, _req, res) => void res.json({ jobs: d.jobs.list().map((j) => jobView(j)) })));
  app.get("/v1/jobs/:id", handler((d, req, res) => {
    const j = jobOf(d, req);
    res.json(jobView(j, d.jobs.progress(j.id)));
  }));

  app.get("/v1/jobs/:id/events", handler((d, req, res) => {
    const j = jobOf(d, req);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send("job", jobView(j, d.jobs.progress(j.id)));
    const onProgress = (id: number, p: unknown) => id === j.id && send("progress", p);
    const onUpdate = (u: Job) => u.id === j.id && send("job", jobView(u));
    d.jobs.on("progress", onProgress);
    d.jobs.on("update", onUpdate);
    const beat = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
    req.on("close", () => {
      clearInterval(beat);
      d.jobs.off("progress", onProgress);
      d.jobs.off("update", onUpdate);
    });
  }));

  app.post("/v1/jobs/:id/cancel", handler((d, req, res) => void res.json(jobView(d.jobs.cancel(jobOf(d, req).id)))));
  app.post("/v1/jobs/:id/resume", handler((d, req, res) => void res.json(jobView(d.jobs.resume(jobOf(d, req).id)))));

  app.post("/v1/jobs/:id/generate", handler((d, req, res) => {
    const j = jobOf(d, req);
    if (j.state !== "done") throw new JobStateError(`job ${j.id} is ${j.state}; try it once it is done`);
    const parsed = generateSchema.safeParse(req.body ?? {});
    if (!parsed.success) return invalid(res, parsed.error);
    const o = parsed.data;
    const model = tuned(j);
    if (j.spec.method === "classifier") {
      if (!o.prompt.trim()) return refuse(res, 400, "invalid_body", "prompt: give a text to classify");
      const out = classify(model as Classifier, o.prompt);
      return void res.json({ label: out.label, probabilities: out.probabilities, contributors: Object.fromEntries([...out.contributors].sort((a, b) => b[1] - a[1]).slice(0, 8)) });
    }
    const b = base(j.spec.base).model;
    const opts = { maxTokens: o.maxTokens, temperature: o.temperature, topP: o.topP, seed: o.seed };
    const t0 = performance.now();
    const out = generate(b, model as Adapter, o.prompt, opts);
    const ms = performance.now() - t0;
    res.json({ ...out, ms: Math.round(ms), ...(o.compare ? { base: generate(b, null, o.prompt, opts) } : {}) });
  }));

  app.post("/v1/jobs/:id/registration", handler(async (d, req, res) => {
    const r = await registration(d, jobOf(d, req));
    res.json({ ...r, registry: await d.registry.getAddress() });
  }));

  app.post("/v1/jobs/:id/publish", handler(async (d, req, res) => {
    const j = jobOf(d, req);
    const parsed = publishSchema.safeParse(req.body ?? {});
    if (!parsed.success) return invalid(res, parsed.error);
    if (j.modelId) throw new JobStateError(`job ${j.id} is published already as model ${j.modelId}`);
    const r = await registration(d, j);
    let id: number, txHash: string;
    if (parsed.data.txHash) {
      // The owner sent register() with its own key (poa model publish): check what the chain holds.
      const receipt = await d.registry.runner!.provider!.getTransactionReceipt(parsed.data.txHash);
      if (!receipt || receipt.status !== 1) return refuse(res, 400, "transaction_not_found", `no successful transaction ${parsed.data.txHash} on L1`);
      const ev = receipt.logs.map((l) => { try { return d.registry.interface.parseLog(l); } catch { return null; } }).find((l) => l?.name === "ModelRegistered");
      if (!ev || ev.args.artifactHash !== r.artifactHash) return refuse(res, 400, "not_this_model", `transaction ${parsed.data.txHash} did not register artifact ${r.artifactHash}`);
      if (String(ev.args.owner).toLowerCase() !== j.owner) return refuse(res, 400, "not_the_owner", `the model was registered by ${ev.args.owner}, not the job's owner ${j.owner}`);
      [id, txHash] = [Number(ev.args.modelId), parsed.data.txHash];
    } else {
      const signer = d.devSigners?.get(j.owner);
      if (!signer) return refuse(res, 403, "owner_must_sign", `${j.owner} must sign the registration: run poa model publish ${j.id} with the owner's key (this service signs only for the local chain's dev accounts)`);
      const registry = d.registry.connect(signer) as Contract;
      ({ id, txHash } = await serializeFor(signer.address, () => registerModel(registry, { kind: r.kind, parent: r.parent, artifactHash: r.artifactHash, configHash: r.configHash, metricsHash: r.metricsHash, pricePer1kTokens: BigInt(parsed.data.pricePer1kTokens), contributionIds: [...r.contributionIds] }, r.salt ?? undefined)));
    }
    const updated = d.jobs.setPublished(j.id, id, txHash);
    res.status(201).json({ job: jobView(updated), model: modelView(await readModel(d.registry, id), updated) });
  }));
  const perSigner = new Map<string, ReturnType<typeof serializer>>();
  const serializeFor = <T>(who: string, fn: () => Promise<T>): Promise<T> => {
    if (!perSigner.has(who)) perSigner.set(who, serializer());
    return perSigner.get(who)!(fn);
  };

  const jobsByArtifact = (d: ModelDeps) => new Map(d.jobs.list().filter((j) => j.outcome).map((j) => [j.outcome!.artifactHash, j]));

  app.get("/v1/models", handler(async (d, _req, res) => {
    const byArtifact = jobsByArtifact(d);
    res.json({ models: (await listModels(d.registry)).map((m) => modelView(m, byArtifact.get(m.artifactHash))) });
  }));

  const modelOf = async (d: ModelDeps, req: Request, res: Response): Promise<RegisteredModel | undefined> => {
    const raw = String(req.params.id);
    if (!/^[1-9][0-9]{0,9}$/.test(raw) || Number(raw) > Number(await d.registry.modelCount())) return void refuse(res, 404, "unknown_model", `no model ${raw} in the ModelRegistry`);
    return readModel(d.registry, Number(raw));
  };

  app.get("/v1/models/:id", handler(async (d, req, res) => {
    const m = await modelOf(d, req, res);
    if (!m) return;
    const job = jobsByArtifact(d).get(m.artifactHash);
    // The last TrainingSet: an entry taken over by an earlier commitment (ModelReassigned) is its new owner's.
    const last = (await d.registry.queryFilter(d.registry.filters.TrainingSet(m.id))).at(-1);
    const set = last && "args" in last ? (last.args.contributionIds as bigint[]).map(Number) : [];
    res.json({ ...modelView(m, job), kindIndex: MODEL_KINDS.indexOf(m.kind), contributionIds: set, registeredTx: last?.transactionHash ?? null });
  }));

  // The canonical JSON whose SHA-256 is the registered configHash: settings and training-set root (a serving node
  // retrains a classifier from it and checks the result against the artifact hash).
  app.get("/v1/models/:id/config", handler(async (d, req, res) => {
    const m = await modelOf(d, req, res);
    if (!m) return;
    try {
      res.set("x-config-hash", m.configHash).type("application/json").send(d.datanets.store.get(m.configHash));
    } catch (e) {
      if (e instanceof ContentMissingError) return refuse(res, 404, "config_not_stored", `model ${m.id}'s configuration ${m.configHash} is not in this service's store`);
      throw e;
    }
  }));

  app.get("/v1/models/:id/artifact", handler(async (d, req, res) => {
    const m = await modelOf(d, req, res);
    if (!m) return;
    try {
      const bytes = d.datanets.store.get(m.artifactHash);
      res.set("x-artifact-hash", m.artifactHash).type("application/octet-stream").send(bytes);
    } catch (e) {
      if (e instanceof ContentMissingError) return refuse(res, 404, "artifact_not_stored", `model ${m.id}'s weights ${m.artifactHash} are not in this service's store`);
      throw e;
    }
  }));
}
