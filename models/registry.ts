// Client of ModelRegistry (contracts/ModelRegistry.sol) and the TypeScript
// mirror of its training-set Merkle root, so a job can show the root it will
// register before publishing, and a validator can check a registered root.
import { AbiCoder, Contract, keccak256, concat, hexlify, randomBytes, type Signer } from "ethers";
import { artifact } from "../artifacts/contracts.js";

export const MODEL_KINDS = ["base", "adapter", "classifier"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export const MODEL_STATUSES = ["active", "retired"] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

export interface RegisteredModel {
  id: number;
  owner: string;
  kind: ModelKind;
  status: ModelStatus;
  registeredAt: number;
  contributionCount: number;
  parent: number;
  artifactHash: string;
  configHash: string;
  trainingSetRoot: string;
  metricsHash: string;
  pricePer1kTokens: bigint;
  datanets: number[];
}

export function modelRegistryAt(address: string, runner: Signer | Contract["runner"]): Contract {
  return new Contract(address, artifact("ModelRegistry").abi as never, runner);
}

const coder = AbiCoder.defaultAbiCoder();

/** leaf = keccak256(abi.encode(id, contentHash)); pairs hashed left‖right; an odd last node moves up; none → 0. */
export function trainingSetRoot(set: { id: number | bigint; contentHash: string }[]): string {
  const sorted = [...set].sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
  let level = sorted.map((c) => keccak256(coder.encode(["uint256", "bytes32"], [c.id, c.contentHash])));
  if (level.length === 0) return `0x${"00".repeat(32)}`;
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(keccak256(concat([level[i], level[i + 1]])));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}

export async function readModel(registry: Contract, id: number): Promise<RegisteredModel> {
  const [m, datanets] = await Promise.all([registry.model(id), registry.datanetsOf(id)]);
  return {
    id,
    owner: m.owner,
    kind: MODEL_KINDS[Number(m.kind)],
    status: MODEL_STATUSES[Number(m.status)],
    registeredAt: Number(m.registeredAt),
    contributionCount: Number(m.contributionCount),
    parent: Number(m.parent),
    artifactHash: m.artifactHash,
    configHash: m.configHash,
    trainingSetRoot: m.trainingSetRoot,
    metricsHash: m.metricsHash,
    pricePer1kTokens: m.pricePer1kTokens,
    datanets: (datanets as bigint[]).map(Number),
  };
}

export async function listModels(registry: Contract): Promise<RegisteredModel[]> {
  const n = Number(await registry.modelCount());
  return Promise.all(Array.from({ length: n }, (_, i) => readModel(registry, i + 1)));
}

export interface Registration {
  kind: ModelKind;
  parent: number;
  artifactHash: string;
  configHash: string;
  metricsHash: string;
  pricePer1kTokens: bigint;
  contributionIds: number[];
}

/**
 * Sends the registration as `registry`'s signer (the owner), commit–reveal: the commitment to
 * (artifact, owner, a random salt) in one transaction (unless `committedSalt` names one made already),
 * the registration revealing it in a later block. Returns the model id and the registration's transaction hash.
 */
export async function registerModel(registry: Contract, r: Registration, committedSalt?: string): Promise<{ id: number; txHash: string }> {
  const ids = [...r.contributionIds].sort((a, b) => a - b);
  const owner = await (registry.runner as Signer).getAddress();
  // A commitment made for the owner already (the ModelFactory makes one when a job finishes) is revealed as it is.
  const salt = committedSalt ?? hexlify(randomBytes(32));
  const commitment = await registry.commitmentOf(r.artifactHash, owner, salt);
  if (Number(await registry.commitmentBlock(commitment)) === 0) await (await registry.commit(commitment)).wait();
  // The commitment's block is mined already, so the reveal sent now lands in a later one, as the contract requires.
  const tx = await registry.register(MODEL_KINDS.indexOf(r.kind), r.parent, r.artifactHash, r.configHash, r.metricsHash, r.pricePer1kTokens, ids, salt);
  const receipt = await tx.wait();
  for (const log of receipt.logs) {
    const parsed = registry.interface.parseLog(log);
    if (parsed?.name === "ModelRegistered") return { id: Number(parsed.args.modelId), txHash: receipt.hash };
  }
  throw new Error(`registration ${receipt.hash} emitted no ModelRegistered event`);
}
