// The demo that `npm start` runs against the freshly started service: two
// providers deposit on L1; two contributors fill two datanets (recipes as
// text, labeled reviews as JSON records); the providers answer inference
// requests — alice with an extractive answerer over the recipes, bob with a
// sentiment model trained on the reviews — and attribute every answer, alice
// with suffix-array token attribution, bob with influence functions; their signed
// receipts carry those scores, the batches are proved and verified on L1, and
// a contributor withdraws exactly what the payout rule gives. Then ModelFactory
// fine-tunes a LoRA adapter on the recipes and registers it on L1, and the
// OpenLoRA serving node answers with it, paying for the answer by a ticket.
// Payment tickets (docs/PROTOCOL.md §16): alice pays 16 more answers by one
// ticket bundle at p = 1/4; L1's beacon decides them, the winners are paid at
// face value, and a contributor withdraws a winner's payout to the unit.
import { localDir } from "../ops/local.js";
import { Contract, formatUnits } from "ethers";
import { join } from "node:path";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { loadInstance, ticketShape, type BatchParams } from "../core/params.js";
import { contentHash } from "../core/receipt.js";
import { signTicketBundle, ticketFor } from "../core/ticket.js";
import { winnerOutflow } from "../sequencer/tickets.js";
import { payout } from "../core/payout.js";
import { canonicalRecord, canonicalText, contributionHash } from "../attribution/datanet/content.js";
import { contributionTokenRoot, registryAt, signConsent, signDatanetRequest, signTokenConsent } from "../attribution/datanet/registry.js";
import { fetchDatanet, labeledRecords } from "../attribution/datanet/source.js";
import { classify, trainClassifier } from "../attribution/influence/classifier.js";
import { attributedReceipt, signAttributed, type Inference } from "../attribution/receipts.js";
import { attributeTokens } from "../attribution/tokens/attribute.js";
import { buildIndex, SuffixIndex } from "../attribution/tokens/suffix-index.js";
import { tokenize } from "../attribution/tokens/tokenize.js";
import { bundleToJson, ticketBundleToJson } from "../sequencer/schemas.js";
import { RECIPES, REVIEWS } from "../ops/demo-data.js";
import { api, bjjKey, connect, pipelineStatus, until, type Connection } from "../ops/client.js";
import { SERVING_PROVIDER_ACCOUNT } from "../artifacts/dev-wallets.js";

export async function runDemo(apiUrl: string, servingUrl?: string): Promise<void> {
  const status = () => pipelineStatus(apiUrl);
  await initCrypto();
  const [alice, bob, c1, c2, owner] = await Promise.all([2, 3, 4, 5, 6].map((i) => connect({ account: String(i), api: apiUrl })));
  const params = loadInstance(alice.info.instance).params;
  const domain = BigInt(await alice.rollup.domain());
  console.log("\ndemo: two providers deposit 100 OPEN each and register signing keys on L1");
  for (const p of [alice, bob]) {
    const pub = await publicKeyOf(bjjKey(p.wallet));
    await (await p.token.approve(p.info.rollup, 100n * 10n ** 18n)).wait();
    await (await p.rollup.deposit(100n * 10n ** 18n, pub.ax, pub.ay)).wait();
  }
  const idx = async (w: Connection) => (await until(`account of ${w.wallet.address}`, async () => api(apiUrl, "GET", `/v1/accounts/${w.wallet.address}`), status)).index as number;
  const [ai, bi] = [await idx(alice), await idx(bob)];
  console.log(`demo: providers have accounts ${ai} and ${bi}`);

  const { recipes, reviews, recipesId, reviewsId } = await fillDatanets(apiUrl, owner, [c1, c2]);
  const work = join(localDir(), "attribution");
  buildIndex(join(work, "recipes"), recipes.documents.map((d) => ({ id: d.id, contributor: d.contributor, text: d.content })));
  const index = new SuffixIndex(join(work, "recipes"));
  const classifier = trainClassifier(labeledRecords(reviews.documents), { epochs: 4, lr: 0.5 });
  console.log(`demo: indexed ${index.meta.tokens} recipe tokens (suffix array); trained a sentiment model on ${classifier.records.length} reviews (4 checkpoints)`);

  const fee = (x: number) => BigInt(x) * 10n ** 18n;
  const questions = ["How do I make pancakes?", "How do I get crisp roast potatoes?"];
  const asked = questions.map((q, j): Inference => {
    const output = answer(recipes.documents.map((d) => d.content), q);
    const t = attributeTokens(index, output);
    console.log(`demo: alice answers "${q}" → "${output.slice(0, 60)}…"; ${t.spans.length} matched span(s)`);
    return { providerIdx: ai, owner: owner.wallet.address, fee: fee(3 - j), nonce: BigInt(j), input: q, output, scores: t.contributors };
  });
  index.close();
  const review = "the battery lasts all day and the screen is bright";
  const verdict = classify(classifier, review);
  console.log(`demo: bob classifies "${review}" → ${verdict.label}; the influence function credits ${verdict.contributors.size} contributor(s)`);
  const classified: Inference = { providerIdx: bi, owner: owner.wallet.address, fee: fee(1), nonce: 0n, input: review, output: verdict.label, scores: verdict.contributors };

  const a = await api(apiUrl, "POST", "/v1/bundles", bundleToJson(await signAttributed(bjjKey(alice.wallet), asked, params, domain)));
  const b = await api(apiUrl, "POST", "/v1/bundles", bundleToJson(await signAttributed(bjjKey(bob.wallet), [classified], params, domain)));
  const ids: string[] = [...a.receipts, ...b.receipts].map((r: { id: string }) => r.id);
  console.log(`demo: 3 attributed receipts accepted (curl ${apiUrl}/v1/receipts/${ids[0]})`);
  for (const id of ids) await until(`receipt ${id.slice(0, 10)}… on L1`, async () => ((await api(apiUrl, "GET", `/v1/receipts/${id}`)).status === "finalized" ? true : undefined), status);
  console.log("demo: all receipts finalized on L1");

  // What the payout rule gives contributor 1 over the three receipts, from the entries actually signed.
  const expected = [...asked, classified].reduce((acc, inf) => {
    const r = attributedReceipt(inf, params);
    const shares = payout(r.fee, r.entries.map((e) => e.score), params).shares;
    return acc + r.entries.reduce((s, e, k) => (e.contributor === BigInt(c1.wallet.address) ? s + shares[k] : s), 0n);
  }, 0n);
  const acct = await api(apiUrl, "GET", `/v1/accounts/${c1.wallet.address}`);
  await (await c1.rollup.requestWithdrawal(acct.index)).wait();
  await until("contributor 1's withdrawal batch", async () => ((await c1.rollup.claimable(c1.wallet.address)) > 0n ? true : undefined), status);
  const before = BigInt(await c1.token.balanceOf(c1.wallet.address));
  await (await (c1.rollup as Contract).claim(c1.wallet.address)).wait();
  const received = BigInt(await c1.token.balanceOf(c1.wallet.address)) - before;
  console.log(`demo: contributor 1 withdrew ${formatUnits(received, 18)} OPEN on L1; the payout rule gives ${formatUnits(expected, 18)} — ${received === expected ? "exact" : "MISMATCH"}`);
  if (ticketShape(params).enabled) await ticketsDemo(apiUrl, alice, ai, asked, [c1, c2], params, domain);
  const adapter = await fineTune(apiUrl, recipesId, owner);
  if (servingUrl) {
    await ask(apiUrl, servingUrl, adapter);
    await classifyWithReceipt(apiUrl, servingUrl, reviewsId, owner);
  }
  console.log(`demo: try  npx tsx scripts/poa.ts verify-batch 1   and   curl ${apiUrl}/v1/batches/1`);
  console.log(`demo: ModelFactory: ${apiUrl}/app/ fine-tunes your own adapter on the datanets\n`);
}

/**
 * Payment tickets: alice pays 16 more answers (the same attributed entries) by one ticket bundle at p = 1/4,
 * face 0.1 OPEN (each worth its 0.025 OPEN fee in expectation). The sequencer commits it, L1 records the
 * commit batch's beacon in a later block, and the winners the pool can pay are paid at face value by the
 * payout rule; a contributor credited by a paid winner withdraws it to the unit. A bundle with no winner
 * (1% at these odds) is followed by another.
 */
async function ticketsDemo(apiUrl: string, alice: Connection, ai: number, asked: Inference[], contributors: Connection[], params: BatchParams, domain: bigint): Promise<void> {
  const status = () => pipelineStatus(apiUrl);
  const FEE = 25n * 10n ** 15n;
  const entries = asked.map((inf) => attributedReceipt(inf, params).entries);
  for (let round = 1; round <= 4; round++) {
    const firstNonce = BigInt((await api(apiUrl, "GET", `/v1/accounts/${alice.wallet.address}`)).nextNonce);
    const tickets = Array.from({ length: 16 }, (_, j) => ticketFor({
      providerIdx: ai, owner: BigInt(asked[j % 2].owner), fee: FEE, nonce: firstNonce + BigInt(j),
      inputHash: contentHash(asked[j % 2].input), outputHash: contentHash(asked[j % 2].output), entries: entries[j % 2],
    }, 2));
    const bundle = await signTicketBundle(bjjKey(alice.wallet), { providerIdx: ai, firstNonce, tickets }, params, ticketShape(params).treeDepth, domain);
    const posted = await api(apiUrl, "POST", "/v1/ticket-bundles", ticketBundleToJson(bundle));
    console.log(`demo: alice pays 16 answers by ticket bundle ${posted.ticketBundle}: p = 1/4, face ${formatUnits(4n * FEE, 18)} OPEN, ${formatUnits(posted.rootSum, 18)} OPEN paid into the pool at commit`);
    const ids: string[] = posted.tickets.map((t: { id: string }) => t.id);
    const views = await until("the tickets' beacon and winners", async () => {
      const vs = await Promise.all(ids.map((id) => api(apiUrl, "GET", `/v1/receipts/${id}`)));
      if (vs.some((v) => v.status !== "finalized" || v.outcome === "pending")) return undefined;
      const pool = BigInt((await api(apiUrl, "GET", "/v1/explorer/tickets?limit=1")).pool.balance);
      const cost = winnerOutflow(bundle.tickets[0], params);
      return vs.every((v) => v.outcome === "lost" || (v.paidIn !== null ? v.paidStatus === "finalized" : pool < cost)) ? vs : undefined;
    }, status);
    const won = views.filter((v) => v.outcome === "won"), paid = won.filter((v) => v.paidIn !== null);
    const lost = views.find((v) => v.outcome === "lost");
    console.log(`demo: L1's beacon of batch ${views[0].batch} decided them: ${won.length} won (${paid.length} paid at face value), ${16 - won.length} lost${lost ? `, e.g. ${apiUrl}/app/#/receipts/${lost.id}` : ""}`);
    if (paid.length === 0) continue;
    // A contributor credited by a paid winner withdraws its whole balance, and gets exactly what it held plus the winners' shares.
    const first = bundle.tickets[paid[0].position].receipt;
    const who = contributors.find((c) => first.entries.some((e) => e.contributor === BigInt(c.wallet.address))) ?? contributors[0];
    const address = BigInt(who.wallet.address);
    const share = paid.reduce((acc, v) => {
      const r = bundle.tickets[v.position].receipt;
      const shares = payout(r.fee, r.entries.map((e) => e.score), params).shares;
      return acc + r.entries.reduce((x, e, k) => (e.contributor === address ? x + shares[k] : x), 0n);
    }, 0n);
    const acct = await api(apiUrl, "GET", `/v1/accounts/${who.wallet.address}`);
    const earnings = await api(apiUrl, "GET", `/v1/accounts/${who.wallet.address}/tickets`);
    await (await who.rollup.requestWithdrawal(acct.index)).wait();
    await until(`${who.wallet.address.slice(0, 10)}…'s withdrawal batch`, async () => ((await who.rollup.claimable(who.wallet.address)) > 0n ? true : undefined), status);
    const before = BigInt(await who.token.balanceOf(who.wallet.address));
    await (await (who.rollup as Contract).claim(who.wallet.address)).wait();
    const received = BigInt(await who.token.balanceOf(who.wallet.address)) - before;
    const held = BigInt(acct.balance) - share;
    console.log(`demo: winner ${apiUrl}/app/#/receipts/${paid[0].id} paid contributor ${who.wallet.address.slice(0, 10)}…; it withdrew ${formatUnits(received, 18)} OPEN = ${formatUnits(held, 18)} held before + ${formatUnits(share, 18)} from the winners by the payout rule — ${received === held + share ? "exact" : "MISMATCH"}`);
    console.log(`demo: its tickets: expected ${formatUnits(earnings.expected, 18)} OPEN (the payout rule at each ticket's expected value), realized ${formatUnits(earnings.realized, 18)} OPEN: ${apiUrl}/app/#/accounts/${who.wallet.address}`);
    return;
  }
  console.log("demo: no ticket won in four bundles (about 1 in 10^8 at p = 1/4): nothing to withdraw from tickets this time");
}

/** ModelFactory: a LoRA adapter on the small base, trained on the recipes, evaluated, and registered on L1 by the model owner. */
async function fineTune(apiUrl: string, datanet: number, owner: Connection): Promise<number> {
  const job = await api(apiUrl, "POST", "/v1/jobs", { method: "lora", name: "demo-recipes-adapter", owner: owner.wallet.address, datanets: [datanet], base: "small", epochs: 4 });
  console.log(`demo: ModelFactory job ${job.id}: a rank-8 LoRA adapter on the small base, ${job.trainingSet.train.length} recipe passages (${job.trainingSet.heldOut.length} held out)`);
  const done = await until(`job ${job.id}`, async () => {
    const j = await api(apiUrl, "GET", `/v1/jobs/${job.id}`);
    return ["done", "failed", "cancelled"].includes(j.state) ? j : undefined;
  }, async () => {
    const j = await api(apiUrl, "GET", `/v1/jobs/${job.id}`);
    return `${j.state}, step ${j.step}/${j.steps ?? "?"}`;
  });
  if (done.state !== "done") throw new Error(`demo fine-tune job ${job.id} ended ${done.state}: ${done.error}`);
  const m = done.outcome.metrics;
  console.log(`demo: held-out loss ${m.loss.toFixed(3)} nats/char against the base's ${m.baseLoss.toFixed(3)} (perplexity ${m.perplexity.toFixed(2)} vs ${m.basePerplexity.toFixed(2)})`);
  const pub = await api(apiUrl, "POST", `/v1/jobs/${job.id}/publish`, { pricePer1kTokens: (10n ** 15n).toString() });
  console.log(`demo: adapter registered on L1 as model ${pub.model.id} (base model ${pub.model.parent}, training-set root ${pub.model.trainingSetRoot.slice(0, 18)}…): ${apiUrl}/app/#/models/${pub.model.id}`);
  return pub.model.id;
}

/**
 * OpenLoRA: the serving node's provider (dev account 7) deposits, the adapter answers through the
 * OpenAI-compatible API, and the answer's receipt is followed until it is paid on L1.
 */
async function ask(apiUrl: string, servingUrl: string, model: number): Promise<void> {
  const node = await connect({ account: String(SERVING_PROVIDER_ACCOUNT), api: apiUrl });
  const pub = await publicKeyOf(bjjKey(node.wallet));
  await (await node.token.approve(node.info.rollup, 10n * 10n ** 18n)).wait();
  await (await node.rollup.deposit(10n * 10n ** 18n, pub.ax, pub.ay)).wait();
  await until("the serving node's deposit", async () => ((await api(servingUrl, "GET", "/healthz")).payments.available > 0 ? true : undefined), () => pipelineStatus(apiUrl));
  console.log(`demo: the serving node's provider ${node.wallet.address} deposited 10 OPEN to pay inference fees`);
  const body = { model: String(model), messages: [{ role: "user", content: "How do I make a quick soup?" }], max_tokens: 60, temperature: 0.7, seed: 1 };
  const r = await api(servingUrl, "POST", "/v1/chat/completions", body);
  console.log(`demo: OpenLoRA, model ${model}: "How do I make a quick soup?" → ${JSON.stringify(r.choices[0].message.content)} (${r.usage.completion_tokens} tokens, first after ${r.timing.time_to_first_token_ms} ms)`);
  const credited = r.receipt.contributors.map((c: { address: string }) => c.address.slice(0, 10) + "…").join(", ");
  const terms = r.receipt.kind === "ticket" ? `a ticket worth its fee of ${formatUnits(r.receipt.fee, 18)} OPEN: face ${formatUnits(r.receipt.ticket.face, 18)} OPEN at p = ${r.receipt.ticket.probability.toExponential(2)}` : `fee ${formatUnits(r.receipt.fee, 18)} OPEN`;
  console.log(`demo: paid by ${r.receipt.kind} ${r.receipt.id.slice(0, 18)}…: ${terms}, contributors ${credited || "(none)"}`);
  const settled = await until(`${r.receipt.kind} ${r.receipt.id.slice(0, 10)}… on L1`, async () => {
    const v = await api(servingUrl, "GET", r.receipt.url);
    return v.status === "finalized" && (r.receipt.kind !== "ticket" || (v.sequencer && v.sequencer.outcome !== "pending")) ? v : undefined;
  }, () => pipelineStatus(apiUrl));
  console.log(`demo: the answer's ${r.receipt.kind} is final on L1${settled.sequencer?.outcome ? ` and ${settled.sequencer.outcome}` : ""}: curl ${servingUrl}${r.receipt.url}`);
  console.log(`demo: curl ${servingUrl}/v1/chat/completions -H 'content-type: application/json' -d '${JSON.stringify({ ...body, seed: undefined })}'`);
}

/** A ModelFactory classifier on the reviews, published and served: its answer is attributed by TracIn and paid by a receipt. */
async function classifyWithReceipt(apiUrl: string, servingUrl: string, datanet: number, owner: Connection): Promise<void> {
  const job = await api(apiUrl, "POST", "/v1/jobs", { method: "classifier", name: "demo-reviews-classifier", owner: owner.wallet.address, datanets: [datanet] });
  await until(`job ${job.id}`, async () => ((await api(apiUrl, "GET", `/v1/jobs/${job.id}`)).state === "done" ? true : undefined));
  const pub = await api(apiUrl, "POST", `/v1/jobs/${job.id}/publish`, { pricePer1kTokens: (10n ** 15n).toString() });
  const input = "broken on arrival, a waste of money";
  const r = await api(servingUrl, "POST", "/v1/classifications", { model: String(pub.model.id), input });
  console.log(`demo: classifier model ${pub.model.id} (ModelFactory, reviews): "${input}" → ${r.label}; receipt ${r.receipt.id.slice(0, 18)}… credits ${r.receipt.contributors.length} contributor(s) by TracIn: curl ${servingUrl}${r.receipt.url}`);
}

/** Creates the two demo datanets (curated by the model owner) and uploads the contributions, each signed by its contributor. */
async function fillDatanets(apiUrl: string, curator: Connection, contributors: Connection[]) {
  const registry = registryAt(curator.info.registry!, curator.provider);
  const create = async (name: string, kind: string, description: string) => {
    const request = { name, kind: kind as "text" | "json", description, license: "CC-BY-4.0", curator: curator.wallet.address, creator: curator.wallet.address, deadline: Math.floor(Date.now() / 1000) + 600 };
    const signature = await signDatanetRequest(curator.wallet, registry, request);
    return (await api(apiUrl, "POST", "/v1/datanets", { ...request, signature })).datanet.id as number;
  };
  const recipesId = await create("demo-recipes", "text", "cooking passages");
  const reviewsId = await create("demo-reviews", "json", "product reviews labeled positive or negative");
  // Each upload carries the consent to its registration and to its token commitment (docs/PROTOCOL.md §10, §11.1).
  const upload = async (id: number, who: Connection, bytes: Uint8Array, body: object) =>
    api(apiUrl, "POST", `/v1/datanets/${id}/contributions`, {
      contributor: who.wallet.address,
      signature: await signConsent(who.wallet, registry, id, contributionHash(bytes)),
      tokenSignature: await signTokenConsent(who.wallet, registry, id, contributionHash(bytes), await contributionTokenRoot(bytes)),
      ...body,
    });
  for (const [c, text] of RECIPES) await upload(recipesId, contributors[c], canonicalText(text), { text });
  for (const [c, text, label] of REVIEWS) await upload(reviewsId, contributors[c], canonicalRecord({ text, label }), { record: { text, label } });
  console.log(`demo: datanets ${recipesId} (recipes, ${RECIPES.length} passages) and ${reviewsId} (reviews, ${REVIEWS.length} records) registered on L1 with their contributors`);
  return { recipes: await fetchDatanet(apiUrl, recipesId), reviews: await fetchDatanet(apiUrl, reviewsId), recipesId, reviewsId };
}

/** alice's "model": answers with the passage sentence that shares the most words with the question. */
function answer(passages: string[], question: string): string {
  const q = new Set(tokenize(question).map((t) => t.text).filter((w) => w.length > 3));
  const sentences = passages.flatMap((p) => p.split(/(?<=[.!?])\s+/));
  const overlap = (s: string) => tokenize(s).filter((t) => q.has(t.text)).length;
  const best = sentences.reduce((a, b) => (overlap(b) > overlap(a) ? b : a));
  return `Here is what works: ${best.charAt(0).toLowerCase()}${best.slice(1)}`;
}
