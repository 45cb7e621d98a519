// DatanetRegistry from TypeScript: create datanets, consent to and relay
// registrations (EIP-712), and read datanets and contributions with their
// provenance (who, when, transaction, content hash).
import { randomBytes } from "node:crypto";
import { Contract, hexlify, toBeHex, type ContractTransactionReceipt, type Signer, type TypedDataDomain } from "ethers";
import { artifact } from "../../artifacts/contracts.js";
import { KINDS, type DatanetKind } from "./content.js";
import { initCrypto } from "../../core/crypto.js";
import { CONTRIBUTION_TOKEN_DEPTH, TokenCommitment } from "../../core/token-commitment.js";

export interface DatanetInfo {
  id: number;
  name: string;
  description: string;
  license: string;
  kind: DatanetKind;
  curator: string;
  createdAt: number; // unix seconds
  contributions: number;
}

export interface Provenance {
  id: number;
  datanetId: number;
  contentHash: string;
  contributor: string;
  registeredAt: number; // unix seconds
  stake: bigint;
  stakeUnlocksAt: number;
  slashed: boolean;
  /** Block of the commitment its registration revealed: the earliest commitment holds the content. */
  committedAt: number;
  /** The root of its token commitment on L1 (docs/PROTOCOL.md §11.1), 0n when none is committed. */
  tokenRoot: bigint;
  txHash: string;
  blockNumber: number;
}

export const SLASH_REASONS = ["duplicate", "adversarial", "mislabeled", "token-mismatch"] as const;
export type SlashReason = (typeof SLASH_REASONS)[number];

export function registryAt(address: string, runner: Signer | Contract["runner"]): Contract {
  return new Contract(address, artifact("DatanetRegistry").abi as never, runner);
}

/** EIP-712 domain and types of a contributor's consent to `contributeFor`. */
export async function consentTypes(registry: Contract): Promise<{ domain: TypedDataDomain; types: Record<string, { name: string; type: string }[]> }> {
  const net = await registry.runner!.provider!.getNetwork();
  return {
    domain: { name: "poa-rollup DatanetRegistry", version: "1", chainId: net.chainId, verifyingContract: await registry.getAddress() },
    types: { Contribution: [{ name: "datanetId", type: "uint256" }, { name: "contentHash", type: "bytes32" }, { name: "contributor", type: "address" }] },
  };
}

/** What a datanet's creator signs so that the service relays its creation (the relayer pays the gas). */
export interface DatanetRequest {
  name: string;
  description: string;
  license: string;
  kind: DatanetKind;
  curator: string;
  creator: string;
  /** Unix seconds after which the service refuses the request. */
  deadline: number;
}

/** EIP-712 type of a creation request, under the registry's domain (checked by the service, not the contract). */
export const CREATE_DATANET_TYPES = {
  CreateDatanet: [
    { name: "name", type: "string" },
    { name: "description", type: "string" },
    { name: "license", type: "string" },
    { name: "kind", type: "string" },
    { name: "curator", type: "address" },
    { name: "creator", type: "address" },
    { name: "deadline", type: "uint256" },
  ],
};

/** The creator's signature of a datanet creation request. */
export async function signDatanetRequest(creator: Signer, registry: Contract, r: DatanetRequest): Promise<string> {
  const { domain } = await consentTypes(registry);
  return creator.signTypedData(domain, CREATE_DATANET_TYPES, r);
}

/** The contributor's signature consenting to register `contentHash` in datanet `datanetId`. */
export async function signConsent(contributor: Signer, registry: Contract, datanetId: number, contentHash: string): Promise<string> {
  const { domain, types } = await consentTypes(registry);
  return contributor.signTypedData(domain, types, { datanetId, contentHash, contributor: await contributor.getAddress() });
}

/**
 * Registers content by commit–reveal (docs/PROTOCOL.md §10): commits to
 * (datanetId, contentHash, contributor, salt) with a fresh random salt, waits
 * for the commitment to be mined, then reveals it in a later transaction.
 * With `signature` (the contributor's consent) the registry's runner relays
 * for the contributor; without, the runner registers its own content with `stake`.
 */
export async function register(
  registry: Contract,
  o: { datanetId: number; contentHash: string; contributor: string; signature?: string; stake?: bigint },
): Promise<ContractTransactionReceipt> {
  const salt = hexlify(randomBytes(32));
  const commitment = await registry.commitmentOf(o.datanetId, o.contentHash, o.contributor, salt);
  await (await registry.commit(commitment)).wait();
  const tx = o.signature === undefined
    ? await registry.contribute(o.datanetId, o.contentHash, o.stake ?? 0n, salt)
    : await registry.contributeFor(o.datanetId, o.contentHash, o.contributor, salt, o.signature);
  return (await tx.wait())!;
}

/** The token root of a contribution's content (its UTF-8 text, as attribution reads it) at the protocol's depth. */
export async function contributionTokenRoot(content: Uint8Array): Promise<bigint> {
  await initCrypto(); // Poseidon's tables (once per process)
  return TokenCommitment.ofText(new TextDecoder().decode(content), CONTRIBUTION_TOKEN_DEPTH).root;
}

/** EIP-712 type of a contributor's consent to `commitTokensFor`, under the registry's domain. */
export const TOKEN_COMMITMENT_TYPES = { TokenCommitment: [{ name: "datanetId", type: "uint256" }, { name: "contentHash", type: "bytes32" }, { name: "tokenRoot", type: "bytes32" }] };

/** The contributor's signature consenting to the token commitment of its content `contentHash` in datanet `datanetId` (relayed by `commitTokensFor`). */
export async function signTokenConsent(contributor: Signer, registry: Contract, datanetId: number, contentHash: string, tokenRoot: bigint): Promise<string> {
  const { domain } = await consentTypes(registry);
  return contributor.signTypedData(domain, TOKEN_COMMITMENT_TYPES, { datanetId, contentHash, tokenRoot: toBeHex(tokenRoot, 32) });
}

/** Commits a contribution's tokens: the runner's own (no signature) or relayed with the contributor's consent. */
export async function commitTokens(registry: Contract, o: { contributionId: number; tokenRoot: bigint; signature?: string }): Promise<ContractTransactionReceipt> {
  const root = toBeHex(o.tokenRoot, 32);
  const tx = o.signature === undefined ? await registry.commitTokens(o.contributionId, root) : await registry.commitTokensFor(o.contributionId, root, o.signature);
  return (await tx.wait())!;
}

export async function readDatanet(registry: Contract, id: number): Promise<DatanetInfo> {
  const d = await registry.datanet(id);
  return { id, name: d.name, description: d.description, license: d.license, kind: KINDS[Number(d.kind)], curator: d.curator, createdAt: Number(d.createdAt), contributions: Number(d.contributionCount) };
}

export async function listDatanets(registry: Contract): Promise<DatanetInfo[]> {
  const n = Number(await registry.datanetCount());
  return Promise.all(Array.from({ length: n }, (_, i) => readDatanet(registry, i + 1)));
}

type RegisteredEvent = { args: { contributionId: bigint }; transactionHash: string; blockNumber: number };

async function provenance(registry: Contract, id: number, e: RegisteredEvent): Promise<Provenance> {
  const [c, tokenRoot] = await Promise.all([registry.contribution(id), registry.tokenRootOf(id)]);
  return {
    id,
    datanetId: Number(c.datanetId),
    contentHash: c.contentHash,
    contributor: c.contributor,
    registeredAt: Number(c.registeredAt),
    stake: c.stake,
    stakeUnlocksAt: Number(c.stakeUnlocksAt),
    slashed: c.slashed,
    committedAt: Number(c.committedAt),
    tokenRoot: BigInt(tokenRoot),
    txHash: e.transactionHash,
    blockNumber: e.blockNumber,
  };
}

/**
 * Contributions of a datanet with their provenance, from the registry's
 * ContributionRegistered events (indexed by datanet) and current state.
 * Scans from `fromBlock` (the registry's deployment block is enough).
 */
export async function listContributions(registry: Contract, datanetId: number, fromBlock = 0): Promise<Provenance[]> {
  const events = (await registry.queryFilter(registry.filters.ContributionRegistered(null, datanetId), fromBlock)) as unknown as RegisteredEvent[];
  return Promise.all(events.map((e) => provenance(registry, Number(e.args.contributionId), e)));
}

/** One contribution by datanet and content hash (undefined when not registered): a view call and one indexed event query. */
export async function findContribution(registry: Contract, datanetId: number, contentHash: string, fromBlock = 0): Promise<Provenance | undefined> {
  const id = Number(await registry.contributionIdOf(datanetId, contentHash));
  if (id === 0) return undefined;
  const [e] = (await registry.queryFilter(registry.filters.ContributionRegistered(id), fromBlock)) as unknown as RegisteredEvent[];
  if (!e) throw new Error(`contribution ${id} is in the registry's storage but its ContributionRegistered event is not after block ${fromBlock}`);
  return provenance(registry, id, e);
}

/** A revert from the registry as `Name(arg, ...)` (ethers leaves custom errors undecoded when gas estimation fails). */
export function describeRevert(registry: Contract, e: unknown): string {
  const data = (e as { data?: string; info?: { error?: { data?: string } } }).data ?? (e as { info?: { error?: { data?: string } } }).info?.error?.data;
  const parsed = typeof data === "string" ? registry.interface.parseError(data) : null;
  return parsed ? `${parsed.name}(${[...parsed.args].map(String).join(", ")})` : String((e as Error).message ?? e);
}
