// ModelFactory's first page: pick datanets, a base and a method, set the
// hyperparameters (defaults filled in, bounds checked by the API), start.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { api } from "../lib/api.js";

const TARGETS = ["q", "k", "v", "o", "up", "down"];
const LORA_DEFAULTS = { rank: 8, alpha: 16, learningRate: 0.005, batchSize: 8, epochs: 3, seqLen: 64, seed: 1 };
const CLASSIFIER_DEFAULTS = { learningRate: 0.5, epochs: 20, l2: 0.003, seed: 1 };

export function NewJob() {
  const [datanets, setDatanets] = useState(null);
  const [bases, setBases] = useState([]);
  const [accounts, setAccounts] = useState([]);
  const [error, setError] = useState(null);
  const [picked, setPicked] = useState([]);
  const [method, setMethod] = useState("lora");
  const [base, setBase] = useState("small");
  const [targets, setTargets] = useState(TARGETS);
  const [hp, setHp] = useState(LORA_DEFAULTS);
  const [name, setName] = useState("");
  const [owner, setOwner] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    Promise.all([api("GET", "/v1/datanets"), api("GET", "/v1/base-models"), api("GET", "/v1/dev-accounts")])
      .then(([d, b, a]) => {
        setDatanets(d.datanets);
        setBases(b.bases);
        setAccounts(a.accounts);
        if (a.accounts[0]) setOwner(a.accounts[0].address);
        if (!b.bases.some((x) => x.preset === "small" && x.available)) setBase(b.bases[0]?.preset ?? "small");
      })
      .catch((e) => setError(e.message));
  }, []);

  const kind = method === "lora" ? "text" : "json";
  const choosable = (datanets ?? []).filter((d) => d.kind === kind);
  const toggle = (list, x) => (list.includes(x) ? list.filter((y) => y !== x) : [...list, x]);
  const switchMethod = (m) => {
    setMethod(m);
    setPicked([]);
    setHp(m === "lora" ? LORA_DEFAULTS : CLASSIFIER_DEFAULTS);
  };
  const num = (k) => (e) => setHp({ ...hp, [k]: e.target.value === "" ? "" : Number(e.target.value) });
  const field = (k, label, attrs = {}) => html`<label>${label}<input name=${k} type="number" step="any" value=${hp[k]} onInput=${num(k)} ...${attrs} /></label>`;

  const start = async () => {
    setBusy(true);
    setError(null);
    const common = { name: name || `${method}-${picked.join("-")}`, owner, datanets: picked, learningRate: hp.learningRate, epochs: hp.epochs, seed: hp.seed };
    const spec = method === "lora"
      ? { ...common, method, base, lora: { rank: hp.rank, alpha: hp.alpha, targets }, batchSize: hp.batchSize, seqLen: hp.seqLen }
      : { ...common, method, l2: hp.l2 };
    try {
      const job = await api("POST", "/v1/jobs", spec);
      location.hash = `#/jobs/${job.id}`;
    } catch (e) {
      setError(e.message);
      setBusy(false);
    }
  };

  if (datanets === null) return error ? html`<p class="error">${error}</p>` : html`<p class="loading">Loading datanets…</p>`;
  const step = picked.length === 0 ? 1 : 3;
  return html`
    <h1>Fine-tune a model on datanets</h1>
    <div class="steps"><span class=${step >= 1 ? "on" : ""}>1 Datanets</span><span class=${step >= 2 ? "on" : ""}>2 Method</span><span class=${step >= 3 ? "on" : ""}>3 Settings</span><span>4 Train</span><span>5 Evaluate · try · publish</span></div>
    <section class="card">
      <h2>Method</h2>
      <div class="row">
        <label class="check"><input type="radio" name="method" checked=${method === "lora"} onChange=${() => switchMethod("lora")} /> LoRA adapter on a base language model (text datanets)</label>
        <label class="check"><input type="radio" name="method" checked=${method === "classifier"} onChange=${() => switchMethod("classifier")} /> Classifier, full fine-tune (json datanets of {text, label})</label>
      </div>
    </section>
    <section class="card">
      <h2>Datanets</h2>
      ${choosable.length === 0
        ? html`<p class="muted">No ${kind} datanets yet. Create one with <code>poa datanet create</code> and upload contributions.</p>`
        : html`<table><thead><tr><th></th><th>Datanet</th><th>License</th><th class="num" style="text-align:right">Contributions</th></tr></thead><tbody>
            ${choosable.map((d) => html`<tr>
              <td><input type="checkbox" name=${`datanet-${d.id}`} checked=${picked.includes(d.id)} onChange=${() => setPicked(toggle(picked, d.id))} /></td>
              <td><b>${d.name}</b> <span class="muted">#${d.id}</span><br /><span class="muted">${d.description}</span></td>
              <td>${d.license}</td><td class="num">${d.contributions}</td></tr>`)}
          </tbody></table>`}
    </section>
    <section class="card">
      <h2>Settings</h2>
      <div class="grid">
        <label>Job name<input name="name" value=${name} placeholder="recipes-adapter" onInput=${(e) => setName(e.target.value)} /></label>
        <label>Owner (signs the registration)
          ${accounts.length
            ? html`<select name="owner" value=${owner} onChange=${(e) => setOwner(e.target.value)}>${accounts.map((a) => html`<option value=${a.address}>${a.label} ${a.address}</option>`)}</select>`
            : html`<input name="owner" value=${owner} placeholder="0x…" onInput=${(e) => setOwner(e.target.value)} />`}
        </label>
        ${method === "lora" && html`
          <label>Base model<select name="base" value=${base} onChange=${(e) => setBase(e.target.value)}>
            ${bases.map((b) => html`<option value=${b.preset}>${b.preset} (${b.available ? `${b.parameters.toLocaleString()} parameters` : "trained on first use"})</option>`)}
          </select></label>
          ${field("rank", "LoRA rank", { min: 1, max: 64, step: 1 })}
          ${field("alpha", "LoRA alpha", { min: 0 })}
          ${field("batchSize", "Batch size", { min: 1, max: 64, step: 1 })}
          ${field("seqLen", "Sequence length (tokens)", { min: 8, step: 1 })}`}
        ${field("learningRate", "Learning rate", { min: 0 })}
        ${field("epochs", "Epochs", { min: 1 })}
        ${method === "classifier" && field("l2", "L2 regularization", { min: 0 })}
        ${field("seed", "Seed", { min: 0, step: 1 })}
      </div>
      ${method === "lora" && html`<p class="muted" style="margin:.8rem 0 .3rem">Adapted projections</p>
        <div class="row">${TARGETS.map((t) => html`<label class="check"><input type="checkbox" name=${`target-${t}`} checked=${targets.includes(t)} onChange=${() => setTargets(toggle(targets, t))} />${t}</label>`)}</div>`}
    </section>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="row"><button id="start" onClick=${start} disabled=${busy || picked.length === 0}>${busy ? "Starting…" : "Start training"}</button>
      ${picked.length === 0 && html`<span class="muted">Pick at least one datanet.</span>`}</div>`;
}
