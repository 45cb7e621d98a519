// Deploys OPEN, the Poseidon hashers, the batch verifier and AttributionRollup
// with any ethers signer, from the compiled artifacts under build/hardhat.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { poseidonContract } from "circomlibjs";
import { Contract, ContractFactory, type Signer } from "ethers";
import { initCrypto } from "../../core/crypto.js";
import { loadInstance } from "../../core/params.js";
import { RollupState } from "../../core/rollup.js";
import { artifactPaths, ROOT } from "./artifacts.js";

export function artifact(name: string, dir = "contracts"): { abi: unknown[]; bytecode: string } {
  const file = join(ROOT, "build", "hardhat", "artifacts", dir, `${name}.sol`, `${name}.json`);
  return JSON.parse(readFileSync(file, "utf8"));
}

async function deploy(signer: Signer, abi: unknown[], bytecode: string, args: unknown[] = []): Promise<Contract> {
  const c = await new ContractFactory(abi as never, bytecode, signer).deploy(...args);
  await c.waitForDeployment();
  return c as Contract;
}

export interface Deployment {
  token: Contract;
  rollup: Contract;
  verifier: Contract;
  hashers: Contract[];
  genesis: RollupState;
}

export interface DeployOptions {
  instance: string;
  treasury: string;
  sequencer: string;
  admin?: string;
  exitDelay?: number;
  tokenHolder?: string;
}

/** Any ethers v6 signer (Hardhat's signers are typed against ethers' CommonJS build, hence the loose type). */
export type AnySigner = Pick<Signer, "getAddress">;

export async function deployRollup(anySigner: AnySigner, o: DeployOptions): Promise<Deployment> {
  const signer = anySigner as Signer;
  await initCrypto();
  const inst = loadInstance(o.instance);
  const p = inst.params;
  const me = await signer.getAddress();
  const open = artifact("OpenToken");
  const token = await deploy(signer, open.abi, open.bytecode, [o.tokenHolder ?? me]);
  const hashers: Contract[] = [];
  for (const n of [2, 5, 6]) {
    hashers.push(await deploy(signer, poseidonContract.generateABI(n), poseidonContract.createCode(n)));
  }
  const a = artifactPaths(o.instance);
  const v = artifact(a.verifierName, "contracts/generated");
  const verifier = await deploy(signer, v.abi, v.bytecode);
  const genesis = new RollupState(p, BigInt(o.treasury));
  const r = artifact("AttributionRollup");
  const rollup = await deploy(signer, r.abi, r.bytecode, [
    await token.getAddress(),
    await verifier.getAddress(),
    await Promise.all(hashers.map((h) => h.getAddress())),
    { depth: p.depth, queueOps: p.queueOps, bundles: p.bundles, slots: p.slots },
    o.treasury,
    o.exitDelay ?? 100,
    o.admin ?? me,
    o.sequencer,
  ]);
  const onChain = await rollup.stateRoot();
  if (onChain !== genesis.root) throw new Error(`the contract's genesis root ${onChain} differs from the model's ${genesis.root}`);
  return { token, rollup, verifier, hashers, genesis };
}
