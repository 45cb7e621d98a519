// The embedded default of `npm start`: a local Hardhat node with the contracts
// deployed and demo accounts funded. Its state lives in the local directory
// (build/local, or POA_LOCAL_DIR): deployment.json (where the CLI finds the
// contracts), chain.json (the node's process), chain.log (its output) and the
// sequencer's database. The node runs in its own process group, so a crashed
// sequencer finds its chain again: `npm start` resumes on the chain and
// database it finds, and only `--fresh` (or a chain that is gone) starts over.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Contract } from "ethers";
import { ROOT } from "../artifacts/paths.js";
import { chainAnswers, killChainProcess, localProvider, startLocalChain, type LocalChain } from "./chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { deployRollup } from "./deploy.js";

/** Where the local deployment keeps its files. */
export function localDir(): string {
  return process.env.POA_LOCAL_DIR ?? join(ROOT, "build", "local");
}
export const localDeploymentFile = () => join(localDir(), "deployment.json");
export const localDbFile = () => join(localDir(), "sequencer.db");

export interface DeploymentInfo {
  rpcUrl: string;
  chainId: string;
  instance: string;
  rollup: string;
  token: string;
  registry?: string;
  registryBlock?: number;
  modelRegistry?: string;
  sequencerKey?: string; // local development only: a well-known Hardhat key
  relayerKey?: string; // local development only: pays for relayed datanet registrations
}

/** The dev account that relays datanet registrations on the local chain. */
export const LOCAL_RELAYER = 19;

export function readDeployment(file = localDeploymentFile()): DeploymentInfo {
  if (!existsSync(file)) throw new Error(`no deployment at ${file}: run \`npm start\` first, or pass --rpc and --rollup`);
  return JSON.parse(readFileSync(file, "utf8"));
}

export interface LocalDeployment {
  chain: LocalChain;
  info: DeploymentInfo;
  dbFile: string;
  /** True when an earlier run's chain, contracts and database were picked up again. */
  resumed: boolean;
}

/**
 * Resumes the local deployment of an earlier run when its chain still answers
 * with the contracts in place (after a crash of the sequencer); otherwise, or
 * with `fresh`, stops any chain of an earlier run, removes its database and
 * starts a new chain and deployment.
 */
export async function openLocalDeployment(port: number, instance: string, fresh = false): Promise<LocalDeployment> {
  const dir = localDir();
  mkdirSync(dir, { recursive: true });
  const chainFile = join(dir, "chain.json");
  const dbFile = localDbFile();
  const earlier = existsSync(chainFile) ? (JSON.parse(readFileSync(chainFile, "utf8")) as { pid: number; url: string }) : undefined;
  const info = existsSync(localDeploymentFile()) ? readDeployment() : undefined;
  if (!fresh && earlier && info && info.instance === instance && info.rpcUrl === `http://127.0.0.1:${port}` && (await chainAnswers(info.rpcUrl))) {
    const provider = localProvider(info.rpcUrl);
    if ((await provider.getCode(info.rollup)) !== "0x") {
      const chain: LocalChain = {
        url: info.rpcUrl, provider, pid: earlier.pid,
        async stop() {
          provider.destroy();
          killChainProcess(earlier.pid);
        },
      };
      return { chain, info, dbFile, resumed: true };
    }
    provider.destroy();
  }
  if (earlier && (await chainAnswers(earlier.url))) {
    // The earlier run's node still runs (a --fresh start, or another instance): stop it and let it free the port.
    killChainProcess(earlier.pid);
    for (let i = 0; i < 50 && (await chainAnswers(earlier.url)); i++) await new Promise((r) => setTimeout(r, 200));
  }
  // A new chain is a new deployment: the old database describes another chain.
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`, chainFile, localDeploymentFile()]) if (existsSync(f)) rmSync(f);
  rmSync(`${dbFile}.content`, { recursive: true, force: true });
  const chain = await startLocalChain(port, { detached: { logFile: join(dir, "chain.log") } });
  writeFileSync(chainFile, JSON.stringify({ pid: chain.pid, url: chain.url }));
  return { chain, info: await deployLocal(chain, instance), dbFile, resumed: false };
}

/** Deploys on a fresh local chain and gives dev accounts 2..9 10,000 OPEN each. */
async function deployLocal(chain: LocalChain, instance: string): Promise<DeploymentInfo> {
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
    modelRegistry: await d.modelRegistry.getAddress(),
    sequencerKey: sequencer.privateKey,
    relayerKey: devWallet(LOCAL_RELAYER).privateKey,
  };
  writeFileSync(localDeploymentFile(), JSON.stringify(info, null, 2));
  return info;
}
