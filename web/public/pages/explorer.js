// The explorer: the overview (latest batches and their status pipeline, the
// pipeline's figures, the trust status in words), a batch (roots, decoded
// public data, proof, L1 transaction, verify in the browser) and a receipt
// (fee split, attribution entries, timeline). Pages refresh on the live
// event stream, not by polling.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { api, open, short } from "../lib/api.js";
import { useLive } from "../lib/live.js";
import { verifyBatchInBrowser } from "../lib/verify.js";
import { EarningsChart, TicketChart } from "../lib/chart.js";
import { claim, connectWallet, requestWithdrawal } from "../lib/wallet.js";

const STAGES = ["sealed", "proving", "proved", "submitted", "finalized"];
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "");

/**
 * Loads `path`, and again after live events that `relevant` accepts: at most once a second however many
 * events arrive (a busy sequencer sends one per bundle), the last event always followed by a load.
 */
function useLoaded(path, relevant = () => true) {
  const [state, setState] = useState({ data: null, error: null });
  const load = useCallback(() => api("GET", path).then((data) => setState({ data, error: null }), (error) => setState({ data: null, error })), [path]);
  const timer = useRef(null);
  const last = useRef(0);
  useEffect(() => {
    setState({ data: null, error: null });
    load();
    return () => clearTimeout(timer.current);
  }, [path]);
  useLive((type, e) => {
    if (!relevant(type, e) || timer.current) return;
    const wait = Math.max(0, last.current + 1000 - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      load();
    }, wait);
  }, [path]);
  return state;
}

function Problem({ error, what }) {
  if (error.status === 404) return html`<p class="error" id="not-found">No ${what}: ${error.message}. <a href="#/explorer">Back to the explorer</a></p>`;
  return html`<p class="error">${error.message}</p>`;
}

/** sealed → proving → proved → submitted → finalized, each with its time; a failure says why. */
export function Pipeline({ status, timeline }) {
  const reached = new Map(timeline.map((t) => [t.status, t.at]));
  return html`<span class="pipeline">${STAGES.map((s) => html`<span class=${`stage ${reached.has(s) ? "on" : ""} ${s === status ? "now" : ""}`} title=${time(reached.get(s))}>${s}</span>`)}
    ${status === "failed" ? html`<span class="stage failed">failed</span>` : ""}</span>`;
}

export function Overview() {
  const { data, error } = useLoaded("/v1/explorer/overview");
  if (error) return html`<${Problem} error=${error} what="overview" />`;
  if (!data) return html`<p class="loading">Loading the explorer…</p>`;
  return html`<h1>Explorer</h1>
    <p class=${data.trust.secure ? "trust ok" : "trust warn"} id="trust">${data.trust.text}</p>
    <section class="grid stats">
      <div class="card stat"><b id="receipts-per-second">${data.receiptsPerSecond}</b><span>receipts / s (last 5 min)</span></div>
      <div class="card stat"><b>${data.provingMsMedian === null ? "–" : `${(data.provingMsMedian / 1000).toFixed(1)} s`}</b><span>proving time (median, latest batches)</span></div>
      <div class="card stat"><b>${data.gasPerReceipt ?? "–"}</b><span>L1 gas per receipt (finalized batches)</span></div>
      <div class="card stat"><b>${data.queue.bundlesPending} / ${data.queue.l1OpsPending}</b><span>bundles waiting / L1 operations waiting</span></div>
    </section>
    <section class="card"><h2>Latest batches</h2>${data.latest.length === 0 ? html`<p class="muted">No batches yet: they appear here as the sequencer seals them.</p>` : html`
      <table id="batches"><thead><tr><th>Batch</th><th>Status</th><th class="num">Receipts</th><th class="num">Ops</th><th class="num">Gas</th><th>L1 transaction</th></tr></thead><tbody>
      ${data.latest.map((b) => html`<tr><td><a href=${`#/batches/${b.number}`}>#${b.number}</a></td><td><${Pipeline} ...${b} /></td><td class="num">${b.receipts}</td><td class="num">${b.ops}</td>
        <td class="num">${b.gasUsed ?? "–"}</td><td class="mono">${b.txHash ? short(b.txHash, 14) : "–"}</td></tr>`)}
      </tbody></table>`}</section>`;
}

export function BatchPage({ n }) {
  const { data: b, error } = useLoaded(`/v1/batches/${n}/decoded`, (type, e) => type === "batch" && e.number === n);
  const { data: raw } = useLoaded(`/v1/batches/${n}`, (type, e) => type === "batch" && e.number === n);
  const [check, setCheck] = useState(null);
  if (error) return html`<${Problem} error=${error} what=${`batch ${n}`} />`;
  if (!b || !raw) return html`<p class="loading">Loading batch ${n}…</p>`;
  const verify = async () => {
    setCheck({ state: "running", step: "starting" });
    try {
      const r = await verifyBatchInBrowser(n, (step) => setCheck({ state: "running", step }));
      setCheck({ state: r.valid ? "valid" : "invalid" });
    } catch (e) {
      setCheck({ state: "error", step: e.message });
    }
  };
  return html`<h1>Batch #${n} <span class=${`badge ${b.status}`} id="batch-status">${b.status}</span></h1>
    <section class="card"><${Pipeline} ...${b} />
      <table class="kv"><tbody>
        <tr><th>Old root</th><td class="mono" id="old-root">${raw.oldRoot}</td></tr>
        <tr><th>New root</th><td class="mono" id="new-root">${raw.newRoot}</td></tr>
        <tr><th>Queue operations</th><td>${raw.ops} (from #${raw.firstOp})</td></tr>
        <tr><th>Receipts · bundles</th><td>${b.receipts} · ${b.bundles}</td></tr>
        <tr><th>L1 transaction</th><td class="mono">${b.txHash ?? "not sent yet"}${b.gasUsed ? html` · <span id="gas">${b.gasUsed}</span> gas` : ""}</td></tr>
        ${b.provingMs !== null ? html`<tr><th>Proving time</th><td>${(b.provingMs / 1000).toFixed(1)} s</td></tr>` : ""}
        ${b.error ? html`<tr><th>Problem</th><td class="error">${b.error}</td></tr>` : ""}
        ${raw.proofAttempts?.length ? html`<tr><th>Proved by</th><td id="proof-attempts">${raw.proofAttempts.map((a) => html`<div>${a.worker}${a.prover ? html` · <span class="prover">${a.prover} prover</span>` : ""} · ${a.outcome === "proved" ? "proved" : a.outcome === "bad_proof" ? html`<span class="error">a proof that does not verify (refused)</span>` : a.outcome === "false_refusal" ? html`<span class="error">said the circuit refuses the batch; the sequencer's own witness took it</span>` : html`<span class="error">failed</span>`}${a.ms !== null ? ` in ${(a.ms / 1000).toFixed(1)} s` : ""} · ${time(a.at)}</div>`)}</td></tr>` : ""}
        <tr><th>Timeline</th><td>${b.timeline.map((t) => html`<div>${t.status} · ${time(t.at)}${t.error ? html` · <span class="muted">${t.error}</span>` : ""}</div>`)}</td></tr>
      </tbody></table>
      <div class="row"><button id="verify" onClick=${verify} disabled=${!b.txHash || check?.state === "running"}>Verify in your browser</button>
        <span id="verify-result" class=${check ? `check ${check.state}` : ""}>${
          !check ? html`<span class="muted">checks the Groth16 proof here, against the verification key and inputs read from L1</span>`
          : check.state === "running" ? `… ${check.step}` : check.state === "valid" ? "✓ valid: the proof verifies against L1's data" : check.state === "invalid" ? "✗ invalid: the proof does not verify" : `cannot check: ${check.step}`}</span></div>
    </section>
    <section class="card"><h2>Credits</h2>${b.credits.length === 0 ? html`<p class="muted">No balance was credited in this batch.</p>` : html`
      <table id="credits"><thead><tr><th>Account</th><th>Address</th><th class="num">Credited (OPEN)</th></tr></thead><tbody>
      ${b.credits.map((c) => html`<tr><td>#${c.account}</td><td class="mono"><a href=${`#/accounts/${c.address}`}>${c.address}</a></td><td class="num" data-units=${c.amount}>${open(c.amount)}</td></tr>`)}
      </tbody></table>`}</section>
    <section class="card"><h2>Deposits and withdrawals</h2>${b.ops.length === 0 ? html`<p class="muted">This batch consumed no L1 queue operations.</p>` : html`
      <table id="ops"><thead><tr><th>Queue #</th><th>Kind</th><th>Address</th><th>Account</th><th class="num">Amount (OPEN)</th></tr></thead><tbody>
      ${b.ops.map((o) => html`<tr><td>${o.queueIndex}</td><td>${o.kind}</td><td class="mono">${o.address}</td><td>#${o.account}</td><td class="num">${open(o.amount)}</td></tr>`)}
      </tbody></table>`}</section>
    <section class="card"><h2>Bundles and receipts</h2>${b.bundleRecords.length === 0 ? html`<p class="muted">No receipts in this batch.</p>` : html`
      <table><thead><tr><th>Provider</th><th class="num">Receipts</th><th class="num">Fees (OPEN)</th></tr></thead><tbody>
      ${b.bundleRecords.map((x) => html`<tr><td class="mono">#${x.provider} ${short(x.providerAddress)}</td><td class="num">${x.receipts}</td><td class="num">${open(x.totalFee)}</td></tr>`)}
      </tbody></table>
      <p>${raw.receipts.map((id) => html`<a class="mono receipt-link" href=${`#/receipts/${id}`}>${short(id, 14)}</a> `)}</p>`}</section>
    ${raw.proof && html`<section class="card"><details><summary>Proof (Groth16, snarkjs JSON)</summary><pre class="sample">${JSON.stringify(raw.proof, null, 1)}</pre></details></section>`}`;
}

export function ReceiptPage({ id }) {
  const bad = !/^0x[0-9a-fA-F]{64}$/.test(id);
  const { data: r, error } = useLoaded(bad ? "/v1/receipts/invalid" : `/v1/receipts/${id}`, (type) => type === "batch");
  if (bad) return html`<p class="error" id="bad-id">"${id}" is not a receipt id: a receipt id is 0x and 64 hex digits (its Poseidon hash).</p>`;
  if (error) return html`<${Problem} error=${error} what=${`receipt ${short(id, 14)}`} />`;
  if (!r) return html`<p class="loading">Loading receipt…</p>`;
  if (r.kind === "ticket") return html`<${TicketView} t=${r} />`;
  return html`<h1>Receipt <span class="mono">${short(id, 14)}</span> <span class=${`badge ${r.status}`} id="receipt-status">${r.status}</span></h1>
    <section class="card"><table class="kv"><tbody>
      <tr><th>Provider</th><td class="mono">#${r.provider.account} ${r.provider.address}</td></tr>
      <tr><th>Model</th><td id="receipt-model">${r.declared?.model ? html`<a href=${`#/models/${r.declared.model}`}>#${r.declared.model}</a> <span class="muted">(declared by the provider)</span>` : html`<span class="muted">not declared by the provider</span>`}</td></tr>
      <tr><th>Model owner</th><td class="mono"><a href=${`#/accounts/${r.owner}`}>${r.owner}</a></td></tr>
      <tr><th>Fee</th><td>${open(r.fee)} OPEN (nonce ${r.nonce})</td></tr>
      <tr><th>Split</th><td id="split">protocol ${open(r.split.protocol)} · owner ${open(r.split.owner)} · contributors ${open(r.split.contributors)} · dust to owner ${open(r.split.dust)}</td></tr>
      <tr><th>Batch</th><td>${r.batch ? html`<a href=${`#/batches/${r.batch}`}>#${r.batch}</a>` : "not in a batch yet"}${r.txHash ? html` · <span class="mono">${short(r.txHash, 14)}</span>` : ""}</td></tr>
      <tr><th>Input · output hash</th><td class="mono">${short(r.inputHash, 14)} · ${short(r.outputHash, 14)}</td></tr>
    </tbody></table></section>
    <section class="card"><h2>Attribution</h2>${r.entries.length === 0 ? html`<p class="muted">No contributor was credited: the contributor pool went to the owner.</p>` : html`
      <table id="entries"><thead><tr><th>Contributor</th><th>Contributions behind it (declared)</th><th class="num">Score</th><th class="num">Paid (OPEN)</th></tr></thead><tbody>
      ${r.entries.map((e) => {
        const behind = (r.declared?.contributions ?? []).filter((c) => c.contributor === e.contributor);
        return html`<tr><td class="mono"><a href=${`#/accounts/${e.contributor}`}>${e.contributor}</a></td>
          <td>${behind.length ? behind.map((c) => html`<a href=${`#/datanets/${c.datanet}`}>#${c.contribution}</a> `) : html`<span class="muted">–</span>`}</td>
          <td class="num">${e.score}</td><td class="num">${open(e.paid)}</td></tr>`;
      })}
      </tbody></table>`}</section>
    <section class="card"><h2>Timeline</h2><ol id="timeline">${r.timeline.map((t) => html`<li data-status=${t.status}>${t.status} · ${time(t.at)}${t.error ? html` · <span class="muted">${t.error}</span>` : ""}</li>`)}</ol></section>`;
}

/** Search: a batch number, a receipt id or L1 transaction hash, or an address. */
export function Search() {
  const [q, setQ] = useState("");
  const [problem, setProblem] = useState(null);
  const go = async (e) => {
    e.preventDefault();
    setProblem(null);
    try {
      const r = await api("GET", `/v1/search?q=${encodeURIComponent(q.trim())}`);
      location.hash = r.kind === "batch" ? `#/batches/${r.number}` : r.kind === "receipt" ? `#/receipts/${r.id}` : `#/accounts/${r.address}`;
    } catch (err) {
      setProblem(err.message);
    }
  };
  return html`<form class="search" onSubmit=${go}><input id="search" placeholder="batch, receipt, tx hash or address" value=${q} onInput=${(e) => setQ(e.target.value)} />
    ${problem && html`<span class="error" id="search-problem">${problem}</span>`}</form>`;
}

export function AccountPage({ address }) {
  const bad = !/^0x[0-9a-fA-F]{40}$/.test(address);
  const finalized = (type, e) => type === "batch" && e.status === "finalized";
  const { data: a, error } = useLoaded(bad ? "/v1/accounts/invalid" : `/v1/accounts/${address}`, finalized);
  const { data: earn } = useLoaded(bad ? "/v1/accounts/invalid/earnings" : `/v1/accounts/${address}/earnings`, finalized);
  if (bad) return html`<p class="error" id="bad-address">"${address}" is not an address: an address is 0x and 40 hex digits.</p>`;
  if (error) return html`<${Problem} error=${error} what=${`account ${short(address)}`} />`;
  if (!a || !earn) return html`<p class="loading">Loading account…</p>`;
  const table = (rows, label, link) => rows.length === 0 ? html`<p class="muted">Nothing yet.</p>` : html`<table><thead><tr><th>${label}</th><th class="num">Receipts</th><th class="num">OPEN</th></tr></thead><tbody>
    ${rows.map((r) => html`<tr><td>${r.key === "undeclared" ? html`<span class="muted">not declared by the provider</span>` : link ? html`<a href=${link(r.key)}>#${r.key}</a>` : `#${r.key}`}</td><td class="num">${r.receipts}</td><td class="num">${open(r.amount)}</td></tr>`)}</tbody></table>`;
  return html`<h1>Account <span class="mono">${short(a.address, 12)}</span></h1>
    <section class="card"><table class="kv"><tbody>
      <tr><th>Address</th><td class="mono">${a.address}</td></tr>
      <tr><th>Leaf</th><td>#${a.index}</td></tr>
      <tr><th>Balance</th><td id="balance" data-units=${a.balance}>${open(a.balance)} OPEN</td></tr>
      <tr><th>Nonce</th><td>${a.nonce}</td></tr>
      <tr><th>Earned in total</th><td id="earned" data-units=${earn.total}>${open(earn.total)} OPEN (contributor ${open(earn.byKind.contributor)} · owner ${open(earn.byKind.owner)}${earn.byKind.protocol !== "0" ? ` · protocol ${open(earn.byKind.protocol)}` : ""})</td></tr>
      <tr><th>Claimable on L1</th><td id="claimable" data-units=${earn.claimable}>${open(earn.claimable)} OPEN</td></tr>
      <tr><th>Finalized root</th><td class="mono">${a.root}</td></tr>
    </tbody></table>
    <details><summary>Merkle proof of this leaf under the finalized root (${a.siblings.length} levels of the 4-ary tree)</summary><pre class="sample">${a.siblings.map((l, i) => `${i}: ${l.join(" ")}`).join("\n")}</pre></details></section>
    <${Withdraw} account=${a} earn=${earn} />
    <${TicketEarnings} address=${address} />
    <section class="card"><h2>Earnings over time</h2>${earn.history.length === 0 ? html`<p class="muted">No earnings in finalized batches yet.</p>` : html`<${EarningsChart} history=${earn.history} />`}</section>
    <div class="pair">
      <section class="card"><h2>By model</h2>${table(earn.byModel, "Model", (k) => `#/models/${k}`)}</section>
      <section class="card"><h2>By datanet</h2>${table(earn.byDatanet, "Datanet")}</section>
    </div>
    <section class="card"><h2>By contribution</h2>${table(earn.byContribution, "Contribution")}
      <p class="muted">Models, datanets and contributions are as the providers declared them with their receipts; the amounts are the payout rule's.</p></section>
    <section class="card"><h2>Withdrawals</h2>${earn.withdrawals.length === 0 && earn.pendingWithdrawals.length === 0 ? html`<p class="muted">No withdrawals.</p>` : html`
      <table id="withdrawals"><thead><tr><th>State</th><th>Batch</th><th class="num">OPEN</th></tr></thead><tbody>
      ${earn.pendingWithdrawals.map((w) => html`<tr><td>requested (queue #${w.queueIndex}), waiting for a batch</td><td>–</td><td class="num">–</td></tr>`)}
      ${earn.withdrawals.map((w) => html`<tr><td>included</td><td><a href=${`#/batches/${w.batch}`}>#${w.batch}</a></td><td class="num">${open(w.amount)}</td></tr>`)}
      </tbody></table>`}</section>`;
}

/** Payment tickets that credit this account: expected against realized, with the plot (absent where the rollup has no tickets). */
function TicketEarnings({ address }) {
  const { data: t, error } = useLoaded(`/v1/accounts/${address}/tickets`, (type, e) => type === "batch" && e.status === "finalized");
  if (error || !t || t.tickets === 0) return null;
  return html`<section class="card" id="ticket-earnings"><h2>Payment tickets</h2>
    <table class="kv"><tbody>
      <tr><th>Tickets crediting it</th><td>${t.tickets} committed · ${t.won} won · ${t.paid} paid</td></tr>
      <tr><th>Expected</th><td id="tickets-expected" data-units=${t.expected}>${open(t.expected)} OPEN <span class="muted">(the payout rule at each ticket's expected value: what exact receipts would have paid)</span></td></tr>
      <tr><th>Realized</th><td id="tickets-realized" data-units=${t.realized}>${open(t.realized)} OPEN <span class="muted">(the payout rule at face value, over the winners paid)</span></td></tr>
    </tbody></table>
    <${TicketChart} series=${t.series} /></section>`;
}

/** Tickets: the pool, the counts, and the latest bundles with their beacon and winners. */
export function TicketsPage() {
  const { data: t, error } = useLoaded("/v1/explorer/tickets?limit=50", (type, e) => type === "batch");
  if (error) return html`<${Problem} error=${error} what="tickets" />`;
  if (!t) return html`<p class="loading">Loading tickets…</p>`;
  return html`<h1>Payment tickets</h1>
    <p class="muted">An answer cheaper than its provider's face value is paid by a ticket: it wins with probability p and then pays its face value by the payout rule, so it is worth its fee in expectation. Bundles are committed with their expected value paid into the pool; L1's beacon of the commit batch decides the winners.</p>
    <section class="grid stats">
      <div class="card stat"><b id="tickets-committed">${t.tickets.committed}</b><span>tickets committed</span></div>
      <div class="card stat"><b id="tickets-won">${t.tickets.won}</b><span>won (${t.tickets.paid} paid, ${t.tickets.waiting} waiting)</span></div>
      <div class="card stat"><b id="pool-balance" data-units=${t.pool.balance}>${open(t.pool.balance)}</b><span>OPEN in the pool (in ${open(t.pool.inflow)}, paid out ${open(t.pool.paidOut)})</span></div>
    </section>
    <section class="card"><h2>Latest ticket bundles</h2>${t.bundles.length === 0 ? html`<p class="muted">No ticket bundle committed yet.</p>` : html`
      <table id="ticket-bundles"><thead><tr><th>Bundle</th><th>Provider</th><th class="num">Tickets</th><th class="num">Paid in (OPEN)</th><th>Committed</th><th>Beacon</th><th>Winners</th></tr></thead><tbody>
      ${t.bundles.map((b) => html`<tr><td><a href=${`#/receipts/${b.firstTicket}`}>#${b.id}</a></td><td>#${b.provider}</td><td class="num">${b.count}</td><td class="num">${open(b.rootSum)}</td>
        <td><a href=${`#/batches/${b.batch}`}>#${b.batch}</a></td><td class="mono">${b.beacon ? short(`0x${BigInt(b.beacon).toString(16)}`, 10) : html`<span class="muted">not yet</span>`}</td>
        <td>${!b.beacon ? html`<span class="muted">undecided</span>` : b.winners.length === 0 ? "none" : b.winners.map((w) => html`<a class="mono" href=${`#/receipts/${w.id}`}>#${w.index}</a>${w.paidIn ? html` <span class="muted">paid in <a href=${`#/batches/${w.paidIn}`}>#${w.paidIn}</a></span>` : html` <span class="muted">waiting</span>`} `)}</td></tr>`)}
      </tbody></table>`}</section>`;
}

/** A payment ticket: its terms, its outcome under the beacon, and the batch that paid it. */
function TicketView({ t }) {
  const p = Number(t.winProb) / 2 ** 32;
  return html`<h1>Ticket <span class="mono">${short(t.id, 14)}</span> <span class=${`badge ${t.outcome === "won" ? "finalized" : t.outcome === "lost" ? "failed" : "sealed"}`} id="ticket-outcome" data-ticket=${t.id}>${t.outcome}</span></h1>
    <section class="card"><table class="kv"><tbody>
      <tr><th>Face value</th><td>${open(t.face)} OPEN, won with probability ${p < 0.001 ? p.toExponential(2) : p.toFixed(4)} (winProb ${t.winProb} / 2^32)</td></tr>
      <tr><th>Expected value</th><td id="ticket-ev">${open(t.expectedValue)} OPEN: the answer's fee</td></tr>
      <tr><th>Bundle</th><td>#${t.bundle}, ticket ${t.position} · ${t.status}</td></tr>
      <tr><th>Committed in</th><td>${t.batch ? html`<a href=${`#/batches/${t.batch}`}>batch #${t.batch}</a>` : "not committed yet"}</td></tr>
      <tr><th>Beacon</th><td class="mono">${t.beacon ? `0x${BigInt(t.beacon).toString(16)}` : html`<span class="muted">not recorded on L1 yet</span>`}</td></tr>
      <tr><th>Paid</th><td id="ticket-paid">${t.paidIn ? html`at face value in <a href=${`#/batches/${t.paidIn}`}>batch #${t.paidIn}</a> (${t.paidStatus})` : t.outcome === "won" ? "won; waiting for the pool to pay it" : t.outcome === "lost" ? "lost: it pays nothing, as expected for most tickets" : "–"}</td></tr>
    </tbody></table></section>
    <section class="card"><h2>Who it pays</h2>
      <table id="ticket-entries"><thead><tr><th>Account</th><th class="num">Score</th><th class="num">Expected (OPEN)</th><th class="num">Paid (OPEN)</th></tr></thead><tbody>
      ${t.entries.map((e) => html`<tr><td class="mono"><a href=${`#/accounts/${e.contributor}`}>${e.contributor}</a></td><td class="num">${e.score}</td><td class="num" data-units=${e.expected}>${open(e.expected)}</td><td class="num" data-units=${e.paid ?? "0"}>${e.paid === null ? "–" : open(e.paid)}</td></tr>`)}
      <tr><td class="mono"><a href=${`#/accounts/${t.owner.address}`}>${t.owner.address}</a> <span class="muted">(model owner)</span></td><td class="num">–</td><td class="num">${open(t.owner.expected)}</td><td class="num">${t.owner.paid === null ? "–" : open(t.owner.paid)}</td></tr>
      </tbody></table>
      <p class="muted">Expected: the payout rule at the ticket's expected value, what an exact receipt would have paid. Paid: the payout rule at face value, if it won and was paid; the protocol's share stays in the pool.</p></section>`;
}

/**
 * The withdrawal, signed by the user's own wallet: request sent → included in batch N → claimable → claimed.
 * Progress comes from the live event stream (the earnings reload on each finalized batch).
 */
function Withdraw({ account, earn }) {
  const [step, setStep] = useState({ state: "idle" });
  const [wallet, setWallet] = useState(null);
  const included = step.withdrawalsBefore !== undefined && earn.withdrawals.length > step.withdrawalsBefore ? earn.withdrawals.at(-1) : null;
  const mine = wallet === account.address.toLowerCase();
  const connect = async () => {
    try {
      const chain = await api("GET", "/v1/explorer/chain");
      setWallet(await connectWallet(chain.chainId));
    } catch (e) {
      setStep({ state: "error", message: e.message });
    }
  };
  const request = async () => {
    try {
      const chain = await api("GET", "/v1/explorer/chain");
      setStep({ state: "requesting" });
      const tx = await requestWithdrawal(wallet, chain.rollup, account.index);
      setStep({ state: "requested", tx, withdrawalsBefore: earn.withdrawals.length, balance: account.balance });
    } catch (e) {
      setStep({ state: "error", message: e.message });
    }
  };
  const doClaim = async () => {
    try {
      const chain = await api("GET", "/v1/explorer/chain");
      const amount = earn.claimable;
      setStep({ ...step, state: "claiming" });
      const tx = await claim(wallet, chain.rollup);
      setStep({ state: "claimed", tx, amount });
    } catch (e) {
      setStep({ state: "error", message: e.message });
    }
  };
  let status;
  if (step.state === "error") status = html`<span class="error">${step.message}</span>`;
  else if (step.state === "requesting") status = "sending the request to L1…";
  else if (step.state === "claiming") status = "claiming…";
  else if (step.state === "claimed") status = html`<span class="check valid">claimed ${open(step.amount)} OPEN on L1 (tx <span class="mono">${short(step.tx, 14)}</span>)</span>`;
  else if (step.state === "requested" && !included) status = html`request sent (tx <span class="mono">${short(step.tx, 14)}</span>); waiting for a batch to include it…`;
  else if (included && earn.claimable === "0") status = html`included in batch <a href=${`#/batches/${included.batch}`}>#${included.batch}</a>; waiting for it to be claimable…`;
  return html`<section class="card" id="withdraw"><h2>Withdraw to L1</h2>
    <div class="row">
      ${!wallet ? html`<button id="connect" onClick=${connect}>Connect wallet</button>` : html`<span class="muted">wallet <span class="mono">${short(wallet)}</span>${mine ? "" : " is not this account: only its owner can withdraw"}</span>`}
      ${wallet && mine && earn.claimable === "0" && step.state !== "requested" && step.state !== "requesting" && !included ? html`<button id="request" onClick=${request} disabled=${account.balance === "0"}>Withdraw ${open(account.balance)} OPEN</button>` : ""}
      ${wallet && mine && earn.claimable !== "0" && step.state !== "claiming" && step.state !== "claimed" ? html`<button id="claim" onClick=${doClaim}>Claim ${open(earn.claimable)} OPEN</button>` : ""}
    </div>
    <p id="withdraw-state" data-state=${step.state === "claimed" ? "claimed" : earn.claimable !== "0" ? "claimable" : included ? "included" : step.state}>${status ?? (earn.claimable !== "0" ? html`claimable: ${open(earn.claimable)} OPEN` : html`<span class="muted">The whole balance is withdrawn: a request on L1, then a batch moves it to claimable, then a claim pays it out.</span>`)}</p>
  </section>`;
}

/** A datanet: its contributions with provenance, stakes and slashes, the models trained on it, and what it has earned. */
export function DatanetPage({ id }) {
  const { data: dn, error } = useLoaded(`/v1/datanets/${id}`);
  const { data: list } = useLoaded(`/v1/datanets/${id}/contributions`);
  const { data: models } = useLoaded("/v1/models");
  const { data: totals } = useLoaded("/v1/explorer/totals", (type, e) => type === "batch" && e.status === "finalized");
  if (error) return html`<${Problem} error=${error} what=${`datanet ${id}`} />`;
  if (!dn || !list || !models || !totals) return html`<p class="loading">Loading datanet ${id}…</p>`;
  const earned = totals.byDatanet.find((t) => t.id === id);
  const trained = models.models.filter((m) => m.datanets.includes(id));
  return html`<h1>Datanet #${dn.id} ${dn.name}</h1>
    <section class="card"><table class="kv"><tbody>
      <tr><th>Description</th><td>${dn.description}</td></tr>
      <tr><th>Kind · license</th><td>${dn.kind} · ${dn.license}</td></tr>
      <tr><th>Curator</th><td class="mono"><a href=${`#/accounts/${dn.curator}`}>${dn.curator}</a></td></tr>
      <tr><th>Created</th><td>${new Date(dn.createdAt).toLocaleString()}</td></tr>
      <tr><th>Earned by its contributors</th><td id="datanet-earned">${earned ? html`${open(earned.amount)} OPEN over ${earned.receipts} receipts` : "nothing yet"}</td></tr>
      <tr><th>Models trained on it</th><td>${trained.length ? trained.map((m) => html`<a href=${`#/models/${m.id}`}>#${m.id} (${m.kind})</a> `) : "none yet"}</td></tr>
    </tbody></table></section>
    <section class="card"><h2>Contributions (${list.contributions.length})</h2>${list.contributions.length === 0 ? html`<p class="muted">No contributions yet.</p>` : html`
      <table id="contributions"><thead><tr><th>#</th><th>Contributor</th><th>Registered</th><th>Content hash</th><th class="num">Stake (OPEN)</th><th>State</th><th>Transaction</th></tr></thead><tbody>
      ${list.contributions.map((c) => html`<tr><td>${c.id}</td><td class="mono"><a href=${`#/accounts/${c.contributor}`}>${short(c.contributor)}</a></td><td>${new Date(c.registeredAt).toLocaleString()}</td>
        <td class="mono"><a href=${`/v1/datanets/${id}/contributions/${c.contentHash}/content`}>${short(c.contentHash, 12)}</a></td><td class="num">${open(c.stake)}</td>
        <td>${c.slashed ? html`<span class="badge failed">slashed</span>` : html`<span class="badge active">active</span>`}</td><td class="mono">${short(c.txHash, 12)}</td></tr>`)}
      </tbody></table>`}</section>`;
}

export function DatanetList() {
  const { data, error } = useLoaded("/v1/datanets");
  if (error) return html`<${Problem} error=${error} what="datanets" />`;
  if (!data) return html`<p class="loading">Loading datanets…</p>`;
  return html`<h1>Datanets</h1>${data.datanets.length === 0 ? html`<p class="muted">No datanets yet.</p>` : html`<section class="card"><table><thead><tr><th>Datanet</th><th>Kind</th><th>Curator</th><th class="num">Contributions</th></tr></thead><tbody>
    ${data.datanets.map((d) => html`<tr><td><a href=${`#/datanets/${d.id}`}>#${d.id} ${d.name}</a></td><td>${d.kind}</td><td class="mono">${short(d.curator)}</td><td class="num">${d.contributions}</td></tr>`)}</tbody></table></section>`}`;
}

/** A model's usage and what it has paid out, for its registry page. */
export function ModelUsage({ id }) {
  const { data: totals } = useLoaded("/v1/explorer/totals", (type, e) => type === "batch" && e.status === "finalized");
  if (!totals) return null;
  const t = totals.byModel.find((m) => m.id === id);
  return html`<tr><th>Usage</th><td id="model-usage">${t ? html`${t.receipts} paid answers in finalized batches · ${open(t.amount)} OPEN paid to contributors and owner` : "no paid answers in finalized batches yet"}</td></tr>`;
}
