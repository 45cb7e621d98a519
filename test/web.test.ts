// The ModelFactory page in a real browser (Debian's chromium driven by
// playwright-core) against the real service and chain: create a job, watch the
// loss curve grow, evaluate, try the adapter, publish on-chain, and open the
// registered model. Screenshots go to test-output/screenshots/.
import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium, SCREENSHOTS } from "../ops/browser.js";
import { startFactoryWorld, type FactoryWorld } from "./lib/factory-world.js";

describe("ModelFactory in a real browser", function () {
  let w: FactoryWorld;
  let browser: BrowserContext | null;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });

  before(async function () {
    browser = await launchChromium();
    if (!browser) return this.skip();
    mkdirSync(SCREENSHOTS, { recursive: true });
    w = await startFactoryWorld(21545 + (process.pid % 1000));
    page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    (page as Page & { errors: string[] }).errors = errors;
  });
  after(async () => {
    await browser?.close();
    await w?.stop();
  });

  it("creates a job, watches the curve grow, evaluates, tries the adapter, publishes it and shows the registered model", async () => {
    await page.goto(`${w.svc.url}/app/`);
    await page.waitForSelector("input[name=datanet-1]");
    expect(await page.locator("input[name=datanet-2]").count()).to.equal(0); // json datanets are for classifiers
    await page.check("input[name=datanet-1]");
    await page.selectOption("select[name=base]", "tiny");
    await page.fill("input[name=name]", "logbook-in-browser");
    await page.fill("input[name=seqLen]", "32");
    await page.fill("input[name=epochs]", "40");
    await page.fill("input[name=learningRate]", "0.01");
    await shot("1-new-job.png");
    await page.click("#start");
    await page.waitForURL(/#\/jobs\/\d+$/);
    const jobId = Number(/#\/jobs\/(\d+)$/.exec(page.url())![1]);

    // The curve grows while the job runs: several different point counts before it is done.
    const seen = new Set<number>();
    for (let i = 0; i < 600; i++) {
      const n = Number(await page.getAttribute(".chart", "data-points"));
      if (n > 0) seen.add(n);
      if ((await page.textContent("#job-state")) === "done") break;
      if (seen.size === 2) await shot("2-training.png");
      await page.waitForTimeout(100);
    }
    expect(seen.size, `point counts seen: ${[...seen]}`).to.be.greaterThan(2);
    await page.waitForSelector("#evaluation");
    const job = (await w.api("GET", `/v1/jobs/${jobId}`)).json;
    expect(job.state).to.equal("done");
    expect(Number(await page.getAttribute(".chart", "data-points"))).to.equal(job.steps);
    expect(await page.textContent("#tuned-loss")).to.equal(job.outcome.metrics.loss.toFixed(3));
    expect(job.outcome.metrics.loss).to.be.lessThan(job.outcome.metrics.baseLoss);

    await page.fill("#prompt", "Day 13. Wind from the");
    await page.click("#generate");
    await page.waitForSelector("#completion");
    expect((await page.textContent("#completion"))!.length).to.be.greaterThan("Day 13. Wind from the".length);
    await shot("3-evaluated.png");

    await page.click("#publish");
    await page.waitForSelector("#model-link");
    const published = (await w.api("GET", `/v1/jobs/${jobId}`)).json;
    expect(published.modelId).to.be.a("number");
    await page.click("#model-link");
    await page.waitForSelector("#model-kind");
    expect(await page.textContent("#model-kind")).to.equal("adapter");
    expect(await page.textContent("#model-root")).to.equal(published.trainingSet.root);
    const onChain = (await w.api("GET", `/v1/models/${published.modelId}`)).json;
    expect(onChain).to.include({ owner: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", trainingSetRoot: published.trainingSet.root, kind: "adapter" });
    await shot("4-model.png");
    expect((page as Page & { errors: string[] }).errors).to.deep.equal([]);
  });
});
