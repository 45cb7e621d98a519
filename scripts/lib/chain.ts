// A local chain for `npm start` and the service tests: a real `hardhat node`
// child process (JSON-RPC over HTTP), and its well-known development accounts.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { HDNodeWallet, JsonRpcProvider, Wallet } from "ethers";
import { ROOT } from "./artifacts.js";

export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** Development account i of the Hardhat node (never use these keys anywhere else). */
export function devWallet(i: number, provider?: JsonRpcProvider): Wallet {
  const hd = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`);
  return new Wallet(hd.privateKey, provider);
}

export interface LocalChain {
  url: string;
  provider: JsonRpcProvider;
  stop(): Promise<void>;
}

export async function startLocalChain(port: number): Promise<LocalChain> {
  const child: ChildProcess = spawn(join(ROOT, "node_modules", ".bin", "hardhat"), ["node", "--port", String(port), "--hostname", "127.0.0.1"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Never leave the node behind, however this process ends.
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  let log = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hardhat node did not start within 60 s:\n${log}`)), 60_000);
    child.stdout!.on("data", (d) => {
      log += d;
      if (log.includes("Started HTTP")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on("data", (d) => (log += d));
    child.on("exit", (code) => reject(new Error(`hardhat node exited (${code}):\n${log}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const provider = new JsonRpcProvider(url, undefined, { pollingInterval: 100, cacheTimeout: -1 });
  return {
    url,
    provider,
    async stop() {
      provider.destroy();
      process.removeListener("exit", kill);
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    },
  };
}
