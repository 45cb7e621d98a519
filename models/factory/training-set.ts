// The exact training set of a job: the non-slashed contributions of its datanets
// at the moment the job is created, by registry id and content hash, with the
// bytes read from the content-addressed store and checked against those hashes.
// A deterministic share is held out for evaluation (chosen by content hash, so
// the split does not depend on upload order); only the rest is trained on and
// registered on L1 as the model's training set.
import type { Contract } from "ethers";
import { createHash } from "node:crypto";
import { listContributions, readDatanet } from "../../attribution/datanet/registry.js";
import type { ContentStore } from "../../attribution/datanet/store.js";
import type { DatanetKind } from "../../attribution/datanet/content.js";
import { trainingSetRoot } from "../registry.js";

export interface SnapshotEntry {
  id: number;
  datanetId: number;
  contentHash: string;
  contributor: string;
}

export interface TrainingSnapshot {
  datanets: number[];
  kind: DatanetKind;
  train: SnapshotEntry[];
  heldOut: SnapshotEntry[];
  /** Contributions left out because they were slashed when the job was created. */
  slashed: number[];
  /** ModelRegistry's Merkle root of the training split. */
  root: string;
}

/** A job's request that cannot be met, with a machine-readable code for the API. */
export class TrainingSetError extends Error {
  constructor(readonly code: "unknown_datanet" | "wrong_datanet_kind" | "empty_training_set" | "too_few_contributions" | "content_missing", message: string) {
    super(message);
  }
}

/** Held out: one contribution in ten (at least one), the ones whose hash of the content hash is smallest. */
export function splitHeldOut(entries: SnapshotEntry[]): { train: SnapshotEntry[]; heldOut: SnapshotEntry[] } {
  const key = (e: SnapshotEntry) => createHash("sha256").update(e.contentHash).update(String(e.id)).digest("hex");
  const ranked = [...entries].sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const n = Math.max(1, Math.floor(entries.length / 10));
  const held = new Set(ranked.slice(0, n).map((e) => e.id));
  return { train: entries.filter((e) => !held.has(e.id)), heldOut: entries.filter((e) => held.has(e.id)) };
}

export async function snapshotTrainingSet(registry: Contract, store: ContentStore, fromBlock: number, datanetIds: number[], kind: DatanetKind): Promise<TrainingSnapshot> {
  const count = Number(await registry.datanetCount());
  const entries: SnapshotEntry[] = [];
  const slashed: number[] = [];
  for (const d of datanetIds) {
    if (d < 1 || d > count) throw new TrainingSetError("unknown_datanet", `datanet ${d} does not exist (the registry has ${count})`);
    const info = await readDatanet(registry, d);
    if (info.kind !== kind) throw new TrainingSetError("wrong_datanet_kind", `datanet ${d} (${info.name}) holds ${info.kind} contributions; this method trains on ${kind} datanets`);
    for (const c of await listContributions(registry, d, fromBlock)) {
      if (c.slashed) {
        slashed.push(c.id);
        continue;
      }
      if (!store.has(c.contentHash)) throw new TrainingSetError("content_missing", `contribution ${c.id} (${c.contentHash}) of datanet ${d} is registered but its content is not in this service's store`);
      store.get(c.contentHash); // checks the bytes against the hash now, not halfway through training
      entries.push({ id: c.id, datanetId: d, contentHash: c.contentHash, contributor: c.contributor });
    }
  }
  entries.sort((a, b) => a.id - b.id);
  if (entries.length === 0)
    throw new TrainingSetError("empty_training_set", `datanets ${datanetIds.join(", ")} have no contributions to train on` + (slashed.length ? ` (${slashed.length} slashed)` : ""));
  if (entries.length < 2) throw new TrainingSetError("too_few_contributions", `a job needs at least 2 contributions (one is held out for evaluation); datanets ${datanetIds.join(", ")} have 1`);
  const { train, heldOut } = splitHeldOut(entries);
  return { datanets: datanetIds, kind, train, heldOut, slashed, root: trainingSetRoot(train) };
}
