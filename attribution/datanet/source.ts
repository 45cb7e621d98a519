// A datanet's contributions with their content, read from a sequencer's
// /v1/datanets API: what the attribution engines index. Slashed contributions
// are left out; every content is checked against its registered hash.
import { contributionHash } from "./content.js";

export interface DatanetDocument {
  id: string; // content hash
  contributor: string;
  /** UTF-8 text, or the canonical JSON of a record. */
  content: string;
}

async function get(api: string, path: string): Promise<Response> {
  const res = await fetch(`${api}${path}`);
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(`GET ${path}: ${res.status} ${body.error?.code ?? ""} ${body.error?.message ?? ""}`.trim());
  }
  return res;
}

export async function fetchDatanet(api: string, datanetId: number): Promise<{ kind: "text" | "json"; name: string; documents: DatanetDocument[] }> {
  const d = await (await get(api, `/v1/datanets/${datanetId}`)).json();
  const list = (await (await get(api, `/v1/datanets/${datanetId}/contributions`)).json()).contributions as { contentHash: string; contributor: string; slashed: boolean }[];
  const documents: DatanetDocument[] = [];
  for (const c of list.filter((x) => !x.slashed)) {
    const bytes = new Uint8Array(await (await get(api, `/v1/datanets/${datanetId}/contributions/${c.contentHash}/content`)).arrayBuffer());
    if (contributionHash(bytes) !== c.contentHash) throw new Error(`contribution ${c.contentHash} of datanet ${datanetId}: the served bytes do not match the registered hash`);
    documents.push({ id: c.contentHash, contributor: c.contributor, content: new TextDecoder().decode(bytes) });
  }
  return { kind: d.kind, name: d.name, documents };
}

/** Labeled records of a json datanet: each record's `textField` and `labelField` (records without both are skipped). */
export function labeledRecords(docs: DatanetDocument[], textField = "text", labelField = "label", datanet?: number) {
  return docs.flatMap((d) => {
    const r = JSON.parse(d.content);
    return typeof r[textField] === "string" && r[labelField] !== undefined ? [{ id: d.id, contributor: d.contributor, datanet, text: r[textField] as string, label: String(r[labelField]) }] : [];
  });
}
