// Attribution of served completions (WORK IN PROGRESS, branch openlora-receipts).
//
// For an adapter, the training set is on L1: the ModelRegistry's TrainingSet
// event lists its contribution ids, and the DatanetRegistry gives each one's
// datanet, content hash and current contributor. The contents come by hash
// from a sequencer's datanet API and are checked against those hashes; a
// suffix index over them is built once per model and kept in the node's cache
// directory. A completion is then attributed by token runs (attribution/tokens).
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Contract } from "ethers";
import { contributionHash } from "../attribution/datanet/content.js";
import { registryAt } from "../attribution/datanet/registry.js";
import { attributeTokens, type AttributeOptions } from "../attribution/tokens/attribute.js";
import { buildIndex, SuffixIndex, type IndexedDocument } from "../attribution/tokens/suffix-index.js";

export interface TrainingDocument extends IndexedDocument {
  contributionId: number;
  datanetId: number;
}

/** The training documents of model `id`, from L1 and the datanet API, each checked against its registered hash. */
export async function trainingDocuments(modelRegistry: Contract, id: number, datanetsApi: string): Promise<TrainingDocument[]> {
  const [event] = await modelRegistry.queryFilter(modelRegistry.filters.TrainingSet(id));
  if (!event || !("args" in event)) throw new Error(`model ${id} has no TrainingSet event`);
  const ids = (event.args.contributionIds as bigint[]).map(Number);
  const datanets = registryAt(await modelRegistry.datanets(), modelRegistry.runner);
  const docs: TrainingDocument[] = [];
  for (const contributionId of ids) {
    const c = await datanets.contribution(contributionId);
    const res = await fetch(`${datanetsApi}/v1/datanets/${c.datanetId}/contributions/${c.contentHash}/content`);
    if (!res.ok) throw new Error(`contribution ${contributionId}: the datanet API answered ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (contributionHash(bytes) !== c.contentHash) throw new Error(`contribution ${contributionId}: the served bytes do not match its registered hash`);
    docs.push({ id: c.contentHash, contributor: c.contributor, text: new TextDecoder().decode(bytes), contributionId, datanetId: Number(c.datanetId) });
  }
  return docs;
}

/** Suffix indexes of served models' training sets, built on first use under `dir/<model id>/`. */
export class TrainingIndexes {
  private readonly open = new Map<number, Promise<SuffixIndex>>();

  constructor(private readonly dir: string, private readonly modelRegistry: Contract, private readonly datanetsApi: string) {}

  index(id: number): Promise<SuffixIndex> {
    let p = this.open.get(id);
    if (!p) {
      p = (async () => {
        const path = join(this.dir, String(id));
        if (!existsSync(join(path, "meta.json"))) buildIndex(path, await trainingDocuments(this.modelRegistry, id, this.datanetsApi));
        return new SuffixIndex(path);
      })();
      this.open.set(id, p);
      p.catch(() => this.open.delete(id));
    }
    return p;
  }

  /** Contributor scores (bits) of a completion of model `id`. */
  async attribute(id: number, output: string, opts?: AttributeOptions): Promise<Map<string, number>> {
    return attributeTokens(await this.index(id), output, opts).contributors;
  }
}
