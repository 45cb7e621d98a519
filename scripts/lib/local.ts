// The embedded default of `npm start`: a local Hardhat node with the contracts
// deployed and demo accounts funded. The deployment is written to
// build/local/deployment.json, where the CLI finds it.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import type { Contract } from "ethers";
import { ROOT } from "./artifacts.js";
import { devWallet, startLocalChain, type LocalChain } from "./chain.js";
import { deployRollup } from "./deploy.js";

export const LOCAL_DEPLOYMENT = join(ROOT, "build", "local", "deployment.json");

export interface DeploymentInfo {
  rpcUrl: string;
  chainId: string;
  instance: string;
  rollup: string;
  token: string;
  registry?: string;
  registryBlock?: number;
  sequencerKey?: string; // local development only: a well-known Hardhat key
  relayerKey?: string; // local development only: pays for relayed datanet registrations
}

/** The dev account that relays datanet registrations on the local chain. */
export const LOCAL_RELAYER = 19;

export function readDeployment(file = LOCAL_DEPLOYMENT): DeploymentInfo {
  if (!existsSync(file)) throw new Error(`no deployment at ${file}: run \`npm start\` first, or pass --rpc and --rollup`);
  return JSON.parse(readFileSync(file, "utf8"));
}

/** Starts a Hardhat node, deploys, gives dev accounts 2..9 10,000 OPEN each. */
export async function startLocalDeployment(port: number, instance: string): Promise<{ chain: LocalChain; info: DeploymentInfo }> {
  const chain = await startLocalChain(port);
  const deployer = devWallet(0, chain.provider);
  const sequencer = devWallet(1);
  const d = await deployRollup(deployer, { instance, treasury: deployer.address, sequencer: sequencer.address });
  for (let i = 2; i <= 9; i++) {
    await (await (d.token.connect(deployer) as Contract).transfer(devWallet(i).address, 10_000n * 10n ** 18n)).wait();
  }
  const info: DeploymentInfo = {
    rpcUrl: chain.url,
    chainId: (await chain.provider.getNetwork()).chainId.toString(),
    instance,
    rollup: await d.rollup.getAddress(),
    token: await d.token.getAddress(),
    registry: await d.registry.getAddress(),
    registryBlock: d.registryBlock,
    sequencerKey: sequencer.privateKey,
    relayerKey: devWallet(LOCAL_RELAYER).privateKey,
  };
  mkdirSync(join(ROOT, "build", "local"), { recursive: true });
  writeFileSync(LOCAL_DEPLOYMENT, JSON.stringify(info, null, 2));
  return { chain, info };
}
