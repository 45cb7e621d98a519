// The OpenLoRA serving node over real HTTP, on a real chain: an adapter
// fine-tuned and published through ModelFactory, served by its ModelRegistry
// id through the OpenAI-compatible API (plain and streamed), every bad request
// refused by name, a retired model refused, metrics exported.
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Contract } from "ethers";
import { devWallet } from "../artifacts/dev-wallets.js";
import { startServingNode, type ServingNode } from "../serving/server.js";
import { startFactoryWorld, type FactoryWorld } from "./lib/factory-world.js";
import { http, waitFor } from "./lib/http.js";

describe("OpenLoRA over HTTP", function () {
  let w: FactoryWorld;
  let node: ServingNode;
  let adapterId: number;
  const serve = (method: string, path: string, body?: unknown, raw?: string) => http(node.url, method, path, body, raw);
  /** The text of a streamed answer, and its chunks. */
  const streamed = async (path: string, body: object) => {
    const res = await fetch(`${node.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body, stream: true }) });
    expect(res.headers.get("content-type")).to.equal("text/event-stream");
    const events = (await res.text()).split("\n\n").filter(Boolean).map((e) => e.replace(/^data: /, ""));
    expect(events.at(-1)).to.equal("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const text = chunks.map((c) => c.choices[0].text ?? c.choices[0].delta.content ?? "").join("");
    return { text, chunks };
  };

  before(async () => {
    w = await startFactoryWorld(22545 + (process.pid % 1000));
    const job = await w.api("POST", "/v1/jobs", { method: "lora", name: "logbook", owner: w.contributors[0].address, datanets: [1], base: "tiny", seqLen: 32, epochs: 6, learningRate: 0.01 });
    await waitFor("the job", async () => (await w.api("GET", `/v1/jobs/${job.json.id}`)).json.state === "done");
    adapterId = (await w.api("POST", `/v1/jobs/${job.json.id}/publish`, { pricePer1kTokens: "1000000000000000" })).json.model.id;
    node = await startServingNode({
      rpcUrl: w.chain.url, modelRegistryAddress: await w.d.modelRegistry.getAddress(), artifactsApi: w.svc.url, base: "tiny",
      cacheDir: mkdtempSync(join(tmpdir(), "poa-openlora-")), port: 0, maxBatch: 8, maxQueue: 16, maxAdapters: 4, adapterMemory: 1 << 24,
    });
  });
  after(async () => {
    await node?.close();
    await w?.stop();
  });

  it("lists the published adapter, and completes a prompt with it; streamed and plain give the same text", async () => {
    const models = (await serve("GET", "/v1/models")).json;
    expect(models.object).to.equal("list");
    expect(models.data.map((m: { id: string }) => m.id)).to.deep.equal([String(adapterId)]);
    expect(models.data[0]).to.include({ object: "model", parent: "1", price_per_1k_tokens: "1000000000000000" });
    const body = { model: String(adapterId), prompt: "Day 13. Wind from the", max_tokens: 40, temperature: 0.8, seed: 5 };
    const plain = await serve("POST", "/v1/completions", body);
    expect(plain.status, JSON.stringify(plain.json)).to.equal(200);
    expect(plain.json).to.include({ object: "text_completion", model: String(adapterId) });
    expect(plain.json.usage.completion_tokens).to.be.within(1, 40);
    expect(plain.json.usage.prompt_tokens).to.equal("Day 13. Wind from the".length);
    const s = await streamed("/v1/completions", body);
    expect(s.text).to.equal(plain.json.choices[0].text);
    expect(s.chunks.at(-1).choices[0].finish_reason).to.equal(plain.json.choices[0].finish_reason);
    expect(s.chunks.length).to.be.greaterThan(2);
  });

  it("answers a chat in OpenAI's shape, streamed as deltas", async () => {
    const body = { model: adapterId, messages: [{ role: "system", content: "You keep a whaler's log." }, { role: "user", content: "What happened on day 13?" }], max_tokens: 30, temperature: 0, seed: 1 };
    const r = await serve("POST", "/v1/chat/completions", body);
    expect(r.status, JSON.stringify(r.json)).to.equal(200);
    expect(r.json.object).to.equal("chat.completion");
    expect(r.json.choices[0].message.role).to.equal("assistant");
    const s = await streamed("/v1/chat/completions", body);
    expect(s.chunks[0].choices[0].delta).to.deep.equal({ role: "assistant" });
    expect(s.text.trim()).to.equal(r.json.choices[0].message.content);
  });

  it("refuses every bad request by name (4xx)", async () => {
    const refusal = async (body: unknown, raw?: string) => {
      const r = await serve("POST", "/v1/completions", body, raw);
      return [r.status, r.json.error?.code, r.json.error?.message];
    };
    const ok = { model: String(adapterId), prompt: "x" };
    expect(await refusal({ ...ok, model: "99" })).to.deep.equal([404, "model_not_found", "no model 99 in the ModelRegistry"]);
    expect(await refusal({ ...ok, model: "1" })).to.deep.equal([400, "not_an_adapter", "model 1 is a base; completions come from adapters"]);
    expect(await refusal({ ...ok, model: "gpt-4" })).to.deep.equal([400, "invalid_body", 'model: model is an adapter\'s ModelRegistry id, e.g. "2"']);
    expect(await refusal({ ...ok, max_tokens: 0 })).to.deep.equal([400, "invalid_body", "max_tokens: max_tokens is at least 1"]);
    expect(await refusal({ ...ok, max_tokens: 100000 })).to.deep.equal([400, "invalid_body", "max_tokens: max_tokens is at most 512"]);
    expect(await refusal({ ...ok, temperature: 3 })).to.deep.equal([400, "invalid_body", "temperature: temperature is at most 2"]);
    expect(await refusal({ ...ok, temperature: "hot" })).to.deep.equal([400, "invalid_body", "temperature: temperature must be a number"]);
    expect(await refusal({ ...ok, prompt: "x".repeat(8001) })).to.deep.equal([400, "invalid_body", "prompt: prompt is at most 8000 characters"]);
    expect((await refusal({ ...ok, prompt: "x".repeat(70_000) }))[0]).to.equal(413);
    expect((await refusal(undefined, "{ not json"))[1]).to.equal("malformed_json");
    expect((await refusal({ ...ok, n: 2 }))[1]).to.equal("invalid_body");
    expect((await refusal({ ...ok, logit_bias: {} }))[2]).to.contain("logit_bias");
    expect((await serve("POST", "/v1/chat/completions", { model: String(adapterId), messages: [] })).json.error.message).to.equal("messages: messages needs at least one message");
  });

  it("refuses a model its owner retired, and exports serving metrics", async () => {
    await (await (w.d.modelRegistry.connect(devWallet(4, w.chain.provider)) as Contract).setStatus(adapterId, 1)).wait();
    await waitFor("the retirement to be seen", async () => (await serve("POST", "/v1/completions", { model: String(adapterId), prompt: "x" })).status === 410, 15_000);
    const r = await serve("POST", "/v1/completions", { model: String(adapterId), prompt: "x" });
    expect(r.json.error).to.include({ code: "model_retired", message: `model ${adapterId} is retired by its owner` });
    await waitFor("the list to drop it", async () => (await serve("GET", "/v1/models")).json.data.length === 0, 15_000);
    const metrics = (await serve("GET", "/metrics")).json as string;
    expect(metrics).to.match(/openlora_generated_tokens_total \d+/);
    expect(metrics).to.match(/openlora_adapter_cache_total\{event="miss"\} [1-9]/);
    expect(metrics).to.match(/openlora_requests_refused_total\{code="model_retired"\} [1-9]/);
    expect(metrics).to.contain("openlora_time_to_first_token_seconds_bucket");
  });
});
