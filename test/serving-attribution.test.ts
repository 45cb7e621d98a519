// Attribution of served answers (serving/attribution.ts): token runs over the
// training set's suffix index and LoRA-space gradient influence at the served
// adapter, mixed half and half; the index is built once and reopened.
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBaseModel } from "../models/base-model.js";
import { mobyDick } from "../models/corpus.js";
import { ATTRIBUTION_DIM, projectedGradients } from "../models/factory/lora-job.js";
import { encode } from "../models/lm/tokenizer.js";
import { Adapter, initLora, PROJECTIONS } from "../models/lm/transformer.js";
import { GRADIENT_WINDOW, ModelAttribution, pretrainingBackground, PROJECTION_SEED, type TrainingDocument } from "../serving/attribution.js";

describe("serving attribution", () => {
  const base = ensureBaseModel("tiny");
  const lora = { rank: 4, alpha: 8, targets: [...PROJECTIONS] };
  const params = initLora(base.model.config, lora, 3);
  for (let j = 0; j < params.length; j++) params[j] = Math.sin(j * 0.31) * 0.3;
  const adapter = new Adapter(base.model.config, lora, params);
  const [alice, bob] = ["0x" + "a1".repeat(20), "0x" + "b0".repeat(20)];
  const docs: TrainingDocument[] = [
    { contributionId: 1, datanetId: 1, contentHash: "0x" + "01".repeat(32), contributor: alice, text: "Knead the dough with cold butter until it shines like river stones at dusk." },
    { contributionId: 2, datanetId: 1, contentHash: "0x" + "02".repeat(32), contributor: bob, text: "Simmer the onions slowly in a wide pan and season them with sea salt." },
    { contributionId: 3, datanetId: 1, contentHash: "0x" + "03".repeat(32), contributor: bob, text: "Whisk the eggs, then fold in the flour a spoonful at a time." },
  ];
  const dir = mkdtempSync(join(tmpdir(), "poa-attr-"));
  let built = 0;
  const open = () => ModelAttribution.open(dir, base.model, adapter, async () => (built++, docs));

  it("an answer that quotes one contribution credits its contributor by token runs; gradient scores are the projected gradients' dot products", async () => {
    const m = await open();
    const prompt = "How do I make pastry? ";
    // A run must carry 50 bits (TOKEN_DEFAULTS.minBits): in a corpus this small, about ten words.
    const output = "You knead the dough with cold butter until it shines like river stones.";
    const a = m.attribute(base.model, adapter, prompt, output);
    expect(a.spans).to.deep.equal(["knead the dough with cold butter until it shines like river stones"]);
    const byToken = a.contributions.filter((c) => c.tokens > 0).map((c) => c.contributionId);
    expect(byToken).to.deep.equal([1]);
    // The gradient engine, recomputed by hand: the answer's window against each training text.
    const context = base.model.config.context;
    const tail = encode(prompt + output).slice(-(context + 1)); // the last window, ending with the answer
    const g = projectedGradients(base.model, adapter, [Int32Array.from(tail)], context, PROJECTION_SEED, 1);
    const train = projectedGradients(base.model, adapter, docs.map((d) => Int32Array.from(encode(d.text, true))), Math.min(GRADIENT_WINDOW, context), PROJECTION_SEED);
    const dots = docs.map((_, i) => g.reduce((s, x, k) => s + x * train[i * ATTRIBUTION_DIM + k], 0));
    for (const c of a.contributions) expect(c.gradient).to.be.closeTo(Math.max(0, dots[c.contributionId - 1]), 1e-6 * (1 + Math.abs(dots[c.contributionId - 1])));
    expect(a.contributions.filter((c) => c.gradient > 0).length).to.equal(dots.filter((d) => d > 0).length);
    // Each engine's scores are normalized and weighted by half: the contributors' scores sum to 1 when both speak.
    const total = [...a.contributors.values()].reduce((s, x) => s + x, 0);
    expect(total).to.be.closeTo(dots.some((d) => d > 0) ? 1 : 0.5, 1e-9);
    expect(a.contributors.get(alice)!).to.be.greaterThan(0.5 - 1e-9);
    m.close();
  });

  it("is built once: a second open reads the index from disk and gives the same scores", async () => {
    const first = await open();
    const a = first.attribute(base.model, adapter, "Soup: ", "Simmer the onions slowly in a wide pan and season them with sea salt.");
    first.close();
    const again = await open();
    expect(built).to.equal(1);
    const b = again.attribute(base.model, adapter, "Soup: ", "Simmer the onions slowly in a wide pan and season them with sea salt.");
    expect([...b.contributors]).to.deep.equal([...a.contributors]);
    expect(b.contributions.find((c) => c.tokens > 0)!.contributor).to.equal(bob);
    again.close();
  });

  it("an index of an older format is rebuilt, not misread", async () => {
    const meta = join(dir, "suffix", "meta.json");
    writeFileSync(meta, JSON.stringify({ ...JSON.parse(readFileSync(meta, "utf8")), version: 2 }));
    const m = await open();
    expect(built).to.equal(2);
    expect(JSON.parse(readFileSync(meta, "utf8")).version).to.equal(3);
    m.close();
  });

  it("text the base model was pretrained on earns a contribution nothing by tokens; the contribution's own text still does", async () => {
    // Contribution 4 copies Moby Dick's opening, which the tiny base model read in pretraining.
    const moby = mobyDick();
    const ishmael = moby.slice(moby.indexOf("Call me Ishmael."), moby.indexOf("watery part of the world.") + 25);
    expect(ishmael).to.have.length.within(200, 240);
    const withCopy = [...docs, { contributionId: 4, datanetId: 1, contentHash: "0x" + "04".repeat(32), contributor: alice, text: ishmael }];
    const cache = mkdtempSync(join(tmpdir(), "poa-bg-cache-"));
    const background = pretrainingBackground(cache, "tiny");
    const builtAt = statSync(join(cache, readdirSync(cache)[0], "meta.json")).mtimeMs;
    expect(pretrainingBackground(cache, "tiny").index.wordTokens).to.equal(background.index.wordTokens);
    expect(readdirSync(cache)).to.have.length(1);
    expect(statSync(join(cache, readdirSync(cache)[0], "meta.json")).mtimeMs, "built once").to.equal(builtAt);
    const bare = await ModelAttribution.open(mkdtempSync(join(tmpdir(), "poa-attr-")), base.model, adapter, async () => withCopy);
    const weighed = await ModelAttribution.open(mkdtempSync(join(tmpdir(), "poa-attr-")), base.model, adapter, async () => withCopy, background);
    const tokensOf = (a: ReturnType<ModelAttribution["attribute"]>, id: number) => a.contributions.find((c) => c.contributionId === id)?.tokens ?? 0;
    const answer = `As the book begins: ${ishmael}`;
    expect(tokensOf(bare.attribute(base.model, adapter, "Quote: ", answer), 4)).to.be.greaterThan(100);
    expect(tokensOf(weighed.attribute(base.model, adapter, "Quote: ", answer), 4)).to.equal(0);
    const pastry = weighed.attribute(base.model, adapter, "Pastry: ", "You knead the dough with cold butter until it shines like river stones.");
    expect(tokensOf(pastry, 1)).to.be.greaterThan(0);
    bare.close();
    weighed.close();
  });
});
