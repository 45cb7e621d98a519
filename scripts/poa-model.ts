// `poa model train|status|eval|publish|list|cancel|resume`: ModelFactory from
// the command line, over a sequencer's /v1/jobs and /v1/models. Publishing
// signs ModelRegistry.register with the owner's own key.
import { Command, InvalidArgumentError } from "commander";
import { JsonRpcProvider, Wallet, parseUnits } from "ethers";
import { devWallet } from "../artifacts/dev-wallets.js";
import { api } from "../ops/client.js";
import { readDeployment } from "../ops/local.js";
import { progressBar } from "../ops/progress.js";
import { modelRegistryAt, registerModel } from "../models/registry.js";
import { PROJECTIONS } from "../models/lm/transformer.js";

const positive = (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError("expected a positive number");
  return n;
};
const ids = (v: string) => v.split(",").map((x) => {
  const n = Number(x);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`datanet ids are positive integers, got ${x}`);
  return n;
});
const apiOption = (c: Command) => c.option("--api <url>", "sequencer API", process.env.POA_API ?? `http://127.0.0.1:${process.env.POA_PORT ?? 8080}`);
const fmt = (x: number | undefined, d = 3) => (x === undefined || x === null ? "–" : x.toFixed(d));

/** --private-key, or Hardhat dev account --account i on the local chain. */
function ownerWallet(o: { privateKey?: string; account?: string; rpc?: string }): Wallet {
  const rpc = o.rpc ?? readDeployment().rpcUrl;
  const provider = new JsonRpcProvider(rpc, undefined, { pollingInterval: 200, cacheTimeout: -1 });
  if (o.privateKey) return new Wallet(o.privateKey, provider);
  if (o.account === undefined) throw new Error("give the owner's key: --private-key <hex>, or --account <i> for a local dev account");
  return devWallet(Number(o.account), provider);
}

/** Follows a job until it ends, with a progress bar; returns the final job. */
async function follow(base: string, id: number): Promise<any> {
  const bar = progressBar(`job ${id}`);
  const t0 = Date.now();
  let state = "";
  for (;;) {
    const j = await api(base, "GET", `/v1/jobs/${id}`);
    if (j.state !== state) {
      if (state) console.log(`  ${state} → ${j.state}`);
      state = j.state;
    }
    if (j.steps) bar(Math.min(1, j.step / j.steps), Date.now() - t0);
    if (["done", "failed", "cancelled", "interrupted"].includes(j.state)) {
      if (j.error) console.log(`  error: ${j.error}`);
      return j;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function printEvaluation(j: any): void {
  const m = j.outcome?.metrics;
  if (!m) return void console.log(`job ${j.id} is ${j.state}: no evaluation yet`);
  if (m.baseLoss !== undefined) {
    console.log(`held-out (${m.heldOutContributions} contributions, ${m.heldOutTokens} tokens): loss ${fmt(m.loss)} nats/token (base ${fmt(m.baseLoss)}), perplexity ${fmt(m.perplexity, 2)} (base ${fmt(m.basePerplexity, 2)})`);
    for (const s of m.samples ?? []) console.log(`  "${s.prompt}"\n    base:  ${JSON.stringify(s.base)}\n    tuned: ${JSON.stringify(s.tuned)}`);
  } else {
    console.log(`held-out (${m.heldOutContributions} records): accuracy ${fmt(m.accuracy)} (majority class ${fmt(m.baselineAccuracy)}), loss ${fmt(m.loss)}`);
  }
  console.log(`artifact ${j.outcome.artifactHash ?? "(shown once the owner's ModelRegistry commitment is on L1)"}`);
}

export function modelCommands(): Command {
  const cmd = new Command("model").description("fine-tune models on datanets and register them on L1 (ModelFactory)");

  apiOption(cmd.command("train").description("start a fine-tuning job on datanets and follow it"))
    .requiredOption("--datanet <ids>", "datanet ids, comma-separated", ids)
    .option("--method <m>", "lora (text datanets) or classifier (json {text, label})", "lora")
    .option("--name <name>", "job name")
    .option("--owner <address>", "the model's owner (default: dev account --account)")
    .option("--account <i>", "local dev account as the owner", "0")
    .option("--base <preset>", "LoRA: base model preset", "small")
    .option("--rank <r>", "LoRA rank", positive)
    .option("--alpha <a>", "LoRA alpha", positive)
    .option("--targets <list>", `LoRA: adapted projections among ${PROJECTIONS.join(",")}`)
    .option("--lr <rate>", "learning rate", positive)
    .option("--batch-size <n>", "LoRA batch size", positive)
    .option("--epochs <n>", "epochs over the training split", positive)
    .option("--seq-len <n>", "LoRA sequence length in tokens", positive)
    .option("--seed <n>", "seed", Number)
    .option("--no-wait", "return once the job is queued")
    .action(async (o) => {
      const owner = o.owner ?? devWallet(Number(o.account)).address;
      const spec: Record<string, unknown> = { method: o.method, name: o.name ?? `${o.method}-datanet-${o.datanet.join("-")}`, owner, datanets: o.datanet, learningRate: o.lr, epochs: o.epochs, seed: o.seed };
      if (o.method === "lora") Object.assign(spec, { base: o.base, batchSize: o.batchSize, seqLen: o.seqLen, lora: o.rank || o.alpha || o.targets ? { rank: o.rank, alpha: o.alpha, targets: o.targets?.split(",") } : undefined });
      const job = await api(o.api, "POST", "/v1/jobs", JSON.parse(JSON.stringify(spec)));
      console.log(`job ${job.id} queued: ${job.trainingSet.train.length} training contributions, ${job.trainingSet.heldOut.length} held out, training set root ${job.trainingSet.root}`);
      if (job.trainingSet.slashedLeftOut.length) console.log(`  slashed, left out: ${job.trainingSet.slashedLeftOut.join(", ")}`);
      if (!o.wait) return;
      const done = await follow(o.api, job.id);
      printEvaluation(done);
      if (done.state === "done") console.log(`next: poa model publish ${job.id} --account ${o.account}`);
    });

  apiOption(cmd.command("status").description("a job's state and progress").argument("<job>", "job id"))
    .option("--follow", "follow it until it ends")
    .action(async (id, o) => {
      const j = o.follow ? await follow(o.api, Number(id)) : await api(o.api, "GET", `/v1/jobs/${id}`);
      const last = j.progress?.at(-1);
      console.log(`job ${j.id} "${j.name}" (${j.method}): ${j.state}, step ${j.step}/${j.steps ?? "?"}, checkpoint at step ${j.checkpointStep}${last?.loss !== null && last ? `, loss ${fmt(last.loss)}` : ""}${j.modelId ? `, published as model ${j.modelId}` : ""}`);
      if (j.state === "interrupted") console.log(`  resume it: poa model resume ${j.id}`);
      if (j.error) console.log(`  error: ${j.error}`);
    });

  apiOption(cmd.command("eval").description("a finished job's held-out evaluation; with --prompt, try it").argument("<job>", "job id"))
    .option("--prompt <text>", "a text to continue (adapter) or classify (classifier)")
    .option("--max-tokens <n>", "tokens to generate", positive, 120)
    .action(async (id, o) => {
      const j = await api(o.api, "GET", `/v1/jobs/${id}`);
      printEvaluation(j);
      if (o.prompt === undefined) return;
      const out = await api(o.api, "POST", `/v1/jobs/${id}/generate`, { prompt: o.prompt, maxTokens: o.maxTokens, compare: j.method === "lora" });
      if (j.method === "lora") console.log(`tuned: ${JSON.stringify(o.prompt + out.text)}\nbase:  ${JSON.stringify(o.prompt + out.base.text)}`);
      else console.log(`label ${out.label} ${JSON.stringify(out.probabilities)}`);
    });

  apiOption(cmd.command("publish").description("register a finished job's model on L1, signed with the owner's key").argument("<job>", "job id"))
    .option("--account <i>", "local dev account (the job's owner)")
    .option("--private-key <hex>", "the owner's L1 key", process.env.POA_PRIVATE_KEY)
    .option("--rpc <url>", "EVM JSON-RPC URL (default: the local deployment)", process.env.POA_RPC_URL)
    .option("--price <open>", "price per 1,000 output tokens, in OPEN", "0.001")
    .action(async (id, o) => {
      const owner = ownerWallet(o);
      const args = await api(o.api, "POST", `/v1/jobs/${id}/registration`);
      const job = await api(o.api, "GET", `/v1/jobs/${id}`);
      if (job.owner !== owner.address.toLowerCase()) throw new Error(`job ${id} belongs to ${job.owner}; this key is ${owner.address}`);
      const registry = modelRegistryAt(args.registry, owner);
      console.log(`registering ${args.kind} ${args.artifactHash} (${args.contributionIds.length} contributions, root ${args.trainingSetRoot}) …`);
      // Commit–reveal (contracts/ModelRegistry.sol): a copy of the registration in the mempool cannot take the weights.
      const { txHash } = await registerModel(registry, { kind: args.kind, parent: args.parent, artifactHash: args.artifactHash, configHash: args.configHash, metricsHash: args.metricsHash, pricePer1kTokens: parseUnits(o.price, 18), contributionIds: args.contributionIds }, args.salt ?? undefined);
      const r = await api(o.api, "POST", `/v1/jobs/${id}/publish`, { txHash });
      console.log(`model ${r.model.id} registered in ${txHash}\n  ${o.api}/app/#/models/${r.model.id}`);
      owner.provider?.destroy();
    });

  apiOption(cmd.command("list").description("registered models and local jobs")).action(async (o) => {
    const [{ models }, { jobs }] = await Promise.all([api(o.api, "GET", "/v1/models"), api(o.api, "GET", "/v1/jobs")]);
    console.log("models:");
    for (const m of models) console.log(`  #${m.id} ${m.kind.padEnd(10)} ${m.status.padEnd(7)} owner ${m.owner}${m.parent ? ` base #${m.parent}` : ""}${m.datanets.length ? ` datanets ${m.datanets.join(",")}` : ""}${m.job ? ` (job ${m.job.id} ${m.job.name})` : ""}`);
    console.log("jobs:");
    for (const j of jobs) console.log(`  ${String(j.id).padStart(3)} ${j.state.padEnd(11)} ${j.method.padEnd(10)} ${j.name}  step ${j.step}/${j.steps ?? "?"}${j.modelId ? `  → model ${j.modelId}` : ""}`);
  });

  apiOption(cmd.command("cancel").description("cancel a queued, running or interrupted job").argument("<job>", "job id")).action(async (id, o) => {
    console.log(`job ${id}: ${(await api(o.api, "POST", `/v1/jobs/${id}/cancel`)).state}`);
  });
  apiOption(cmd.command("resume").description("resume an interrupted job from its last checkpoint").argument("<job>", "job id"))
    .option("--follow", "follow it until it ends")
    .action(async (id, o) => {
      console.log(`job ${id}: ${(await api(o.api, "POST", `/v1/jobs/${id}/resume`)).state}`);
      if (o.follow) printEvaluation(await follow(o.api, Number(id)));
    });
  return cmd;
}
