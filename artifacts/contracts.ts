// The compiled contracts (build/hardhat, from npm run setup): ABI and bytecode by name.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./paths.js";

/** The chain id of the local development chain (Hardhat's). */
export const LOCAL_CHAIN_ID = 31337n;

export function artifact(name: string, dir = "contracts"): { abi: unknown[]; bytecode: string } {
  const file = join(ROOT, "build", "hardhat", "artifacts", dir, `${name}.sol`, `${name}.json`);
  if (!existsSync(file)) throw new Error(`${name} is not compiled (no ${file}): run npm run setup`);
  return JSON.parse(readFileSync(file, "utf8"));
}
