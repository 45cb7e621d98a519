// Deploys OPEN, the Poseidon hashers, the batch and exit verifiers, AttributionRollup, DatanetRegistry and ModelRegistry
// with any ethers signer, from the compiled artifacts under build/hardhat.
import { basename, join } from "node:path";
import { poseidonContract } from "circomlibjs";
import { Contract, ContractFactory, type Signer } from "ethers";
import { initCrypto } from "../core/crypto.js";
import { loadInstance, ticketShape } from "../core/params.js";
import { RollupState } from "../core/rollup.js";
import { artifact, LOCAL_CHAIN_ID } from "../artifacts/contracts.js";
import { artifactPaths, readManifest, ROOT } from "../artifacts/paths.js";


async function deploy(signer: Signer, abi: unknown[], bytecode: string, args: unknown[] = []): Promise<Contract> {
  const c = await new ContractFactory(abi as never, bytecode, signer).deploy(...args);
  await c.waitForDeployment();
  return c as Contract;
}

export interface Deployment {
  token: Contract;
  rollup: Contract;
  /** DatanetRegistry, staking OPEN. */
  registry: Contract;
  registryBlock: number;
  /** ModelRegistry over the DatanetRegistry. */
  modelRegistry: Contract;
  verifier: Contract;
  exitVerifier: Contract;
  hashers: Contract[];
  genesis: RollupState;
}

export interface DeployOptions {
  instance: string;
  treasury: string;
  sequencer: string;
  admin?: string;
  /** Blocks a queued operation may wait when the queue is otherwise empty (default 100). */
  exitDelay?: number;
  /** The sequencer's nominal pace: blocks per batch of NQ queue operations (default 10). */
  blocksPerBatch?: number;
  /** Distinct addresses that may ever deposit (default half the tree); the other leaves are for credits. */
  maxDepositors?: number;
  tokenHolder?: string;
  /** Seconds a datanet contribution's stake stays locked (default 7 days). */
  stakeLock?: number;
  /** Accept artifacts from an INSECURE development setup on a chain other than the local one (--insecure-dev-setup). */
  insecureDevSetup?: boolean;
}


/**
 * Artifacts set up from a development powers-of-tau (secrets known to whoever
 * made it, so proofs can be forged) may reach the local chain freely; any
 * other chain needs an explicit --insecure-dev-setup.
 */
export function assertSetupFitsChain(instance: string, chainId: bigint, insecureDevSetup = false): void {
  const m = readManifest(instance);
  if (!m?.files.zkey) throw new Error(`instance ${instance} is not built: run npm run setup -- --config ${instance}`);
  if (!m.insecure || chainId === LOCAL_CHAIN_ID || insecureDevSetup) return;
  throw new Error(
    `instance ${instance} was set up from an INSECURE development powers-of-tau (${m.ptau?.source ?? "unknown"}: ${basename(m.ptau?.path ?? "?")}); ` +
      `whoever made that file can forge proofs. Refusing chain ${chainId}: only the local chain (${LOCAL_CHAIN_ID}) takes such artifacts ` +
      `without --insecure-dev-setup. For a real deployment, run npm run setup -- --config ${instance} --ptau <ceremony file> --ptau-blake2b <published hash>.`,
  );
}

/** Any ethers v6 signer (Hardhat's signers are typed against ethers' CommonJS build, hence the loose type). */
export type AnySigner = Pick<Signer, "getAddress">;

export async function deployRollup(anySigner: AnySigner, o: DeployOptions): Promise<Deployment> {
  const signer = anySigner as Signer;
  if (!signer.provider) throw new Error("deployRollup needs a signer connected to a provider");
  assertSetupFitsChain(o.instance, (await signer.provider.getNetwork()).chainId, o.insecureDevSetup);
  await initCrypto();
  const inst = loadInstance(o.instance);
  const p = inst.params;
  const me = await signer.getAddress();
  const open = artifact("OpenToken");
  const token = await deploy(signer, open.abi, open.bytecode, [o.tokenHolder ?? me]);
  const hashers: Contract[] = [];
  for (const n of [2, 4, 5, 6]) {
    hashers.push(await deploy(signer, poseidonContract.generateABI(n), poseidonContract.createCode(n)));
  }
  const a = artifactPaths(o.instance);
  const v = artifact(a.verifierName, "contracts/generated");
  const verifier = await deploy(signer, v.abi, v.bytecode);
  const ev = artifact(artifactPaths(o.instance, "exit").verifierName, "contracts/generated");
  const exitVerifier = await deploy(signer, ev.abi, ev.bytecode);
  const genesis = new RollupState(p, BigInt(o.treasury));
  const r = artifact("AttributionRollup");
  const rollup = await deploy(signer, r.abi, r.bytecode, [
    await token.getAddress(),
    await verifier.getAddress(),
    await exitVerifier.getAddress(),
    await Promise.all(hashers.map((h) => h.getAddress())),
    { depth: p.depth, queueOps: p.queueOps, bundles: p.bundles, slots: p.slots, newAccounts: p.newAccounts, ticketCommits: ticketShape(p).commits, winners: ticketShape(p).winners },
    o.treasury,
    { exitDelay: o.exitDelay ?? 100, blocksPerBatch: o.blocksPerBatch ?? 10, maxDepositors: o.maxDepositors ?? 2 ** (2 * p.depth - 1) },
    o.admin ?? me,
    o.sequencer,
  ]);
  const onChain = await rollup.stateRoot();
  if (onChain !== genesis.root) throw new Error(`the contract's genesis root ${onChain} differs from the model's ${genesis.root}`);
  const reg = artifact("DatanetRegistry");
  const registry = await deploy(signer, reg.abi, reg.bytecode, [await token.getAddress(), o.stakeLock ?? 7 * 24 * 3600]);
  const registryBlock = (await registry.deploymentTransaction()!.wait())!.blockNumber;
  const mr = artifact("ModelRegistry");
  const modelRegistry = await deploy(signer, mr.abi, mr.bytecode, [await registry.getAddress()]);
  return { token, rollup, registry, registryBlock, modelRegistry, verifier, exitVerifier, hashers, genesis };
}
