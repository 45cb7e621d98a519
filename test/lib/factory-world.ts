// A running world for ModelFactory tests: a Hardhat node, the contracts, the
// service with /v1/datanets, /v1/jobs and /v1/models, and two datanets filled
// through the API: a text logbook and labeled reviews (json).
import { Contract, type Wallet } from "ethers";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalRecord, canonicalText, contributionHash } from "../../attribution/datanet/content.js";
import { signConsent, signDatanetRequest } from "../../attribution/datanet/registry.js";
import { startLocalChain, type LocalChain } from "../../ops/chain.js";
import { devWallet } from "../../artifacts/dev-wallets.js";
import { deployRollup, type Deployment } from "../../ops/deploy.js";
import { REVIEWS } from "../../ops/demo-data.js";
import { startService, type Service, type ServiceConfig } from "../../sequencer/service.js";
import { INSTANCE } from "../helpers.js";
import { http } from "./http.js";

/** A small text datanet in one distinctive register: a fine-tune learns it, the base does not know it. */
export const LOGBOOK = ["north", "south", "east", "west", "north-east", "south-west", "north-west", "south-east", "north", "east", "west", "south"].map(
  (wind, i) => `Day ${i + 1}. Wind from the ${wind}, ${3 + (i % 5)} knots. We sighted ${i + 2} whales at dawn and lowered two boats; the sea was calm and the men were in good spirits.`,
);

export interface FactoryWorld {
  chain: LocalChain;
  d: Deployment;
  svc: Service;
  cfg: ServiceConfig;
  curator: Wallet;
  contributors: Wallet[];
  api: (method: string, path: string, body?: unknown) => ReturnType<typeof http>;
  stop(): Promise<void>;
}

/** `instance`: the circuit instance (the tests' by default; bench/serving-stack.ts runs `tickets`); `service`: settings over the tests'. */
export async function startFactoryWorld(port: number, instance = INSTANCE, service: Partial<ServiceConfig> = {}): Promise<FactoryWorld> {
  const chain = await startLocalChain(port);
  const [curator, ...contributors] = [3, 4, 5].map((i) => devWallet(i, chain.provider));
  const deployer = devWallet(0, chain.provider);
  const d = await deployRollup(deployer, { instance, treasury: deployer.address, sequencer: devWallet(1).address });
  const cfg: ServiceConfig = {
    rpcUrl: chain.url, publicRpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance,
    dbFile: join(mkdtempSync(join(tmpdir(), "poa-factory-")), "sequencer.db"), port: 0, maxWaitMs: 300, pollMs: 100, proverThreads: 1,
    registryAddress: await d.registry.getAddress(), relayerKey: devWallet(19).privateKey, registryFromBlock: d.registryBlock,
    relayLimits: { perAddress: 100, total: 1000, windowMs: 3_600_000 },
    modelRegistryAddress: await d.modelRegistry.getAddress(), devSigners: true, ...service,
  };
  const svc = await startService(cfg);
  const api = (method: string, path: string, body?: unknown) => http(svc.url, method, path, body);
  const registry = d.registry.connect(chain.provider) as Contract;
  const create = async (name: string, kind: "text" | "json", description: string) => {
    const request = { name, description, license: "CC0-1.0", kind, curator: curator.address, creator: curator.address, deadline: Math.floor(Date.now() / 1000) + 600 };
    const r = await api("POST", "/v1/datanets", { ...request, signature: await signDatanetRequest(curator, registry, request) });
    if (r.status !== 201) throw new Error(`creating datanet ${name}: ${JSON.stringify(r.json)}`);
  };
  const upload = async (datanet: number, who: Wallet, body: { text: string } | { record: unknown }) => {
    const bytes = "text" in body ? canonicalText(body.text) : canonicalRecord(body.record);
    const signature = await signConsent(who, registry, datanet, contributionHash(bytes));
    const r = await api("POST", `/v1/datanets/${datanet}/contributions`, { contributor: who.address, signature, ...body });
    if (r.status !== 201) throw new Error(`uploading to datanet ${datanet}: ${JSON.stringify(r.json)}`);
  };
  await create("logbook", "text", "a whaler's log");
  await create("reviews", "json", "labeled product reviews");
  for (const [i, text] of LOGBOOK.entries()) await upload(1, contributors[i % 2], { text });
  for (const [who, text, label] of REVIEWS) await upload(2, contributors[who], { record: { text, label } });
  return {
    chain, d, svc, cfg, curator, contributors, api,
    async stop() {
      await svc.close();
      await chain.stop();
    },
  };
}
