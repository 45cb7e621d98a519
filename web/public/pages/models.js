// ModelRegistry: every registered model, and one model's lineage.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { api, fmt, open, short } from "../lib/api.js";
import { ModelUsage } from "./explorer.js";

export function ModelList() {
  const [models, setModels] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => void api("GET", "/v1/models").then((r) => setModels(r.models), (e) => setError(e.message)), []);
  if (error) return html`<p class="error">${error}</p>`;
  if (!models) return html`<p class="loading">Loading…</p>`;
  return html`<h1>Models</h1>${models.length === 0 ? html`<p class="muted">No models registered yet.</p>` : html`
    <section class="card"><table><thead><tr><th>Model</th><th>Kind</th><th>Owner</th><th>Parent</th><th>Datanets</th><th class="num">Contributions</th><th>Status</th></tr></thead><tbody>
      ${models.map((m) => html`<tr><td><a href=${`#/models/${m.id}`}>#${m.id}</a> ${m.job?.name ?? ""}</td><td>${m.kind}</td><td class="mono">${short(m.owner)}</td>
        <td>${m.parent ? html`<a href=${`#/models/${m.parent}`}>#${m.parent}</a>` : "–"}</td><td>${m.datanets.join(", ") || "–"}</td><td class="num">${m.contributionCount}</td>
        <td><span class=${`badge ${m.status}`}>${m.status}</span></td></tr>`)}
    </tbody></table></section>`}`;
}

export function ModelPage({ id }) {
  const [m, setM] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => void api("GET", `/v1/models/${id}`).then(setM, (e) => setError(e.message)), [id]);
  if (error) return html`<p class="error">${error}</p>`;
  if (!m) return html`<p class="loading">Loading model ${id}…</p>`;
  const metrics = m.job?.metrics;
  return html`<h1>Model #${m.id} <span class=${`badge ${m.status}`}>${m.status}</span></h1>
    <section class="card" id="model"><table><tbody>
      <tr><th>Kind</th><td id="model-kind">${m.kind}</td></tr>
      <tr><th>Owner</th><td class="mono">${m.owner}</td></tr>
      <tr><th>Lineage</th><td>${m.parent ? html`base <a href=${`#/models/${m.parent}`}>#${m.parent}</a> → ` : ""}this ${m.kind}${m.datanets.length ? html` ← datanets ${m.datanets.join(", ")} (${m.contributionCount} contributions)` : ""}</td></tr>
      <tr><th>Training set root</th><td class="mono" id="model-root">${m.trainingSetRoot}</td></tr>
      <tr><th>Contributions</th><td>${m.contributionIds.join(", ") || "–"}</td></tr>
      <tr><th>Weights (SHA-256)</th><td class="mono"><a href=${`/v1/models/${m.id}/artifact`}>${m.artifactHash}</a></td></tr>
      <tr><th>Config hash</th><td class="mono">${m.configHash}</td></tr>
      <tr><th>Evaluation hash</th><td class="mono">${m.metricsHash}</td></tr>
      <tr><th>Price</th><td>${open(m.pricePer1kTokens)} OPEN per 1,000 tokens</td></tr>
      <${ModelUsage} id=${m.id} />
      <tr><th>Registered</th><td>block ${m.registeredAt}${m.registeredTx ? html` · <code>${short(m.registeredTx, 18)}</code>` : ""}</td></tr>
      ${m.job && html`<tr><th>Made by</th><td><a href=${`#/jobs/${m.job.id}`}>job #${m.job.id} ${m.job.name}</a>${metrics?.loss !== undefined ? ` · held-out loss ${fmt(metrics.loss)}${metrics.baseLoss !== undefined ? ` (base ${fmt(metrics.baseLoss)})` : ""}` : ""}${metrics?.accuracy !== undefined ? ` · accuracy ${fmt(metrics.accuracy)}` : ""}</td></tr>`}
    </tbody></table></section>`;
}
