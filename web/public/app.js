// The web app's shell: a header with search, hash routes, and the pages:
// ModelFactory's and the explorer's.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { NewJob } from "./pages/new-job.js";
import { JobList, JobPage } from "./pages/job.js";
import { ModelList, ModelPage } from "./pages/models.js";
import { AccountPage, BatchPage, DatanetList, DatanetPage, Overview, ReceiptPage, Search, TicketsPage } from "./pages/explorer.js";

const ROUTES = [
  [/^#\/?$/, () => html`<${NewJob} />`, "factory"],
  [/^#\/jobs$/, () => html`<${JobList} />`, "jobs"],
  [/^#\/jobs\/(\d+)$/, (m) => html`<${JobPage} id=${Number(m[1])} />`, "jobs"],
  [/^#\/models$/, () => html`<${ModelList} />`, "models"],
  [/^#\/models\/(\d+)$/, (m) => html`<${ModelPage} id=${Number(m[1])} />`, "models"],
  [/^#\/explorer$/, () => html`<${Overview} />`, "explorer"],
  [/^#\/tickets$/, () => html`<${TicketsPage} />`, "tickets"],
  [/^#\/batches\/([^/]+)$/, (m) => (/^[1-9][0-9]{0,9}$/.test(m[1]) ? html`<${BatchPage} n=${Number(m[1])} />` : html`<p class="error" id="bad-batch">"${m[1]}" is not a batch number: batches are numbered from 1.</p>`), "explorer"],
  [/^#\/receipts\/([^/]+)$/, (m) => html`<${ReceiptPage} id=${m[1]} />`, "explorer"],
  [/^#\/accounts\/([^/]+)$/, (m) => html`<${AccountPage} address=${m[1]} />`, "explorer"],
  [/^#\/datanets$/, () => html`<${DatanetList} />`, "datanets"],
  [/^#\/datanets\/(\d+)$/, (m) => html`<${DatanetPage} id=${Number(m[1])} />`, "datanets"],
];

function route(hash) {
  for (const [re, page, section] of ROUTES) {
    const m = re.exec(hash || "#/");
    if (m) return { page: page(m), section };
  }
  return { page: html`<p class="error">No page at ${hash}. <a href="#/">Back to ModelFactory</a></p>`, section: "" };
}

function App() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  const { page, section } = route(hash);
  const link = (href, name, id) => html`<a href=${href} class=${section === id ? "active" : ""}>${name}</a>`;
  return html`
    <header>
      <span class="brand">poa-rollup</span>
      <nav>${link("#/explorer", "Explorer", "explorer")}${link("#/tickets", "Tickets", "tickets")}${link("#/datanets", "Datanets", "datanets")}${link("#/", "ModelFactory", "factory")}${link("#/jobs", "Jobs", "jobs")}${link("#/models", "Models", "models")}</nav>
      <${Search} />
    </header>
    <main>${page}</main>`;
}

const root = document.getElementById("app");
root.textContent = ""; // the static "Loading…" placeholder
render(html`<${App} />`, root);
