// A job: state, live loss curve (server-sent events), evaluation, a panel to
// try the result, and publishing on-chain. Also the list of jobs.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { api, fmt, short } from "../lib/api.js";
import { LossChart } from "../lib/chart.js";

export function JobList() {
  const [jobs, setJobs] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => void api("GET", "/v1/jobs").then((r) => setJobs(r.jobs), (e) => setError(e.message)), []);
  if (error) return html`<p class="error">${error}</p>`;
  if (!jobs) return html`<p class="loading">Loading…</p>`;
  return html`<h1>Jobs</h1>
    ${jobs.length === 0 ? html`<p class="muted">No jobs yet. <a href="#/">Start one</a>.</p>` : html`
    <section class="card"><table><thead><tr><th>Job</th><th>Method</th><th>Datanets</th><th>State</th><th class="num">Step</th><th>Model</th></tr></thead><tbody>
      ${jobs.map((j) => html`<tr><td><a href=${`#/jobs/${j.id}`}>#${j.id} ${j.name}</a></td><td>${j.method}</td><td>${j.trainingSet.datanets.join(", ")}</td>
        <td><span class=${`badge ${j.state}`}>${j.state}</span></td><td class="num">${j.step}/${j.steps ?? "?"}</td>
        <td>${j.modelId ? html`<a href=${`#/models/${j.modelId}`}>model ${j.modelId}</a>` : ""}</td></tr>`)}
    </tbody></table></section>`}`;
}

export function JobPage({ id }) {
  const [job, setJob] = useState(null);
  const [points, setPoints] = useState([]);
  const [error, setError] = useState(null);
  useEffect(() => {
    const events = new EventSource(`/v1/jobs/${id}/events`);
    events.addEventListener("job", (e) => {
      const j = JSON.parse(e.data);
      setJob(j);
      if (j.progress) setPoints(j.progress);
    });
    events.addEventListener("progress", (e) => {
      const p = JSON.parse(e.data);
      setPoints((old) => [...old.filter((x) => x.step < p.step), { step: p.step, loss: p.loss, lr: p.lr }]);
      setJob((j) => j && { ...j, step: p.step, steps: p.steps, tokensPerSecond: p.tokensPerSecond });
    });
    events.onerror = () => api("GET", `/v1/jobs/${id}`).catch((e) => setError(e.message));
    return () => events.close();
  }, [id]);
  if (error) return html`<p class="error">${error}</p>`;
  if (!job) return html`<p class="loading">Loading job ${id}…</p>`;
  const act = (what) => api("POST", `/v1/jobs/${id}/${what}`, {}).then(setJob, (e) => setError(e.message));
  const running = job.state === "running" || job.state === "evaluating";
  return html`
    <h1>Job #${job.id} · ${job.name} <span class=${`badge ${job.state}`} id="job-state">${job.state}</span></h1>
    <section class="card">
      <div class="row" style="justify-content:space-between">
        <span>${`${job.method === "lora" ? `LoRA rank ${job.spec.lora.rank} on the ${job.spec.base} base` : "classifier, full fine-tune"} · ${job.trainingSet.train.length} training contributions, ${job.trainingSet.heldOut.length} held out · datanets ${job.trainingSet.datanets.join(", ")}`}</span>
        <span class="row">
          ${(job.state === "queued" || running) && html`<button class="secondary" id="cancel" onClick=${() => act("cancel")}>Cancel</button>`}
          ${(job.state === "interrupted" || job.state === "failed") && html`<button id="resume" onClick=${() => act("resume")}>Resume from step ${job.checkpointStep}</button>`}
        </span>
      </div>
      ${job.state === "interrupted" && html`<p class="muted">This job stopped with the service. Its last checkpoint is at step ${job.checkpointStep}; resuming continues from there and ends with the same weights.</p>`}
      ${job.error && html`<p class="error">${job.error}</p>`}
      <p><progress max=${job.steps ?? 1} value=${job.step}></progress>
        <span class="muted" id="progress-text">step ${job.step} of ${job.steps ?? "?"}${job.tokensPerSecond ? ` · ${Math.round(job.tokensPerSecond).toLocaleString()} ${job.method === "lora" ? "tokens" : "records"}/s` : ""} · checkpoint at step ${job.checkpointStep}</span></p>
      <${LossChart} points=${points} steps=${job.steps} />
    </section>
    ${job.outcome && html`<${Evaluation} job=${job} />`}
    ${job.state === "done" && html`<${TryPanel} job=${job} />`}
    ${job.state === "done" && html`<${Publish} job=${job} onPublished=${setJob} />`}
    <section class="card"><h2>Training set</h2>
      <p class="muted">Merkle root <code>${job.trainingSet.root}</code>${job.trainingSet.slashedLeftOut.length ? ` · slashed and left out: ${job.trainingSet.slashedLeftOut.join(", ")}` : ""}</p>
      <table><thead><tr><th>Contribution</th><th>Datanet</th><th>Contributor</th><th>Content hash</th><th>Split</th></tr></thead><tbody>
        ${[...job.trainingSet.train.map((c) => [c, "train"]), ...job.trainingSet.heldOut.map((c) => [c, "held out"])].map(([c, split]) =>
          html`<tr><td>${c.id}</td><td>${c.datanetId}</td><td class="mono">${short(c.contributor)}</td><td class="mono">${short(c.contentHash, 14)}</td><td>${split}</td></tr>`)}
      </tbody></table></section>`;
}

function Evaluation({ job }) {
  const m = job.outcome.metrics;
  return html`<section class="card" id="evaluation"><h2>Evaluation on the held-out split</h2>
    <table><tbody>
      ${m.baseLoss !== undefined
        ? html`<tr><th></th><th class="num">base</th><th class="num">fine-tuned</th></tr>
            <tr><td>loss (nats/token)</td><td class="num">${fmt(m.baseLoss)}</td><td class="num" id="tuned-loss">${fmt(m.loss)}</td></tr>
            <tr><td>perplexity</td><td class="num">${fmt(m.basePerplexity, 2)}</td><td class="num">${fmt(m.perplexity, 2)}</td></tr>
            <tr><td>held-out tokens</td><td class="num" colspan="2">${m.heldOutTokens}</td></tr>`
        : html`<tr><th></th><th class="num">majority class</th><th class="num">classifier</th></tr>
            <tr><td>accuracy</td><td class="num">${fmt(m.baselineAccuracy)}</td><td class="num" id="accuracy">${fmt(m.accuracy)}</td></tr>
            <tr><td>loss</td><td class="num"></td><td class="num">${fmt(m.loss)}</td></tr>`}
    </tbody></table>
    ${(m.samples ?? []).map((s) => html`<p class="muted" style="margin-bottom:.2rem">Continuing "${s.prompt}"</p>
      <div class="pair"><div><b>base</b><div class="sample">${s.base}</div></div><div><b>fine-tuned</b><div class="sample">${s.tuned}</div></div></div>`)}
  </section>`;
}

function TryPanel({ job }) {
  const [prompt, setPrompt] = useState(job.method === "lora" ? "" : "");
  const [out, setOut] = useState(null);
  const [error, setError] = useState(null);
  const run = () => api("POST", `/v1/jobs/${job.id}/generate`, { prompt, compare: job.method === "lora" }).then((r) => (setOut(r), setError(null)), (e) => setError(e.message));
  return html`<section class="card"><h2>Try it</h2>
    <textarea id="prompt" value=${prompt} placeholder=${job.method === "lora" ? "Start a text; the adapter continues it" : "A text to classify"} onInput=${(e) => setPrompt(e.target.value)}></textarea>
    <div class="row" style="margin:.5rem 0"><button id="generate" onClick=${run}>${job.method === "lora" ? "Generate" : "Classify"}</button></div>
    ${error && html`<p class="error">${error}</p>`}
    ${out && (job.method === "lora"
      ? html`<div class="pair"><div><b>fine-tuned</b><div class="sample" id="completion">${prompt}${out.text}</div></div><div><b>base</b><div class="sample">${prompt}${out.base?.text}</div></div></div>`
      : html`<p id="completion">Label <b>${out.label}</b> · ${Object.entries(out.probabilities).map(([l, p]) => `${l} ${fmt(p, 2)}`).join(" · ")}</p>`)}
  </section>`;
}

function Publish({ job, onPublished }) {
  const [price, setPrice] = useState("1000000000000000");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (job.modelId) return html`<section class="card" id="published"><h2>Published</h2>
    <p>Registered on L1 as <a href=${`#/models/${job.modelId}`} id="model-link">model ${job.modelId}</a> by ${short(job.owner)} · transaction <code>${short(job.publishTx, 18)}</code></p></section>`;
  const publish = async () => {
    setBusy(true);
    try {
      const r = await api("POST", `/v1/jobs/${job.id}/publish`, { pricePer1kTokens: price });
      onPublished(r.job);
    } catch (e) {
      setError(e.message);
    }
    setBusy(false);
  };
  return html`<section class="card"><h2>Publish on-chain</h2>
    <p class="muted">Registers the weights' SHA-256, the training set's Merkle root and the evaluation in the ModelRegistry, signed by the owner ${short(job.owner)}. The weights go to the content-addressed store, where validators fetch and check them.</p>
    <div class="row"><label>Price per 1,000 output tokens, in OPEN base units (10<sup>18</sup> = 1 OPEN)<input id="price" value=${price} onInput=${(e) => setPrice(e.target.value)} /></label>
      <button id="publish" onClick=${publish} disabled=${busy}>${busy ? "Publishing…" : "Publish"}</button></div>
    ${error && html`<p class="error">${error}</p>`}
  </section>`;
}
