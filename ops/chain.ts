// A local chain for `npm start` and the service tests: a real `hardhat node`
// child process (JSON-RPC over HTTP), and its well-known development accounts.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { JsonRpcProvider } from "ethers";
import { ROOT } from "../artifacts/paths.js";
import { DEV_MNEMONIC } from "../artifacts/dev-wallets.js";


export interface LocalChain {
  url: string;
  provider: JsonRpcProvider;
  /** The node's process id (its own process group when detached). */
  pid: number;
  stop(): Promise<void>;
}

export interface ChainOptions {
  /**
   * Run the node in its own process group with its output in `logFile`, so that
   * it outlives this process however this process ends (npm start: a sequencer
   * killed with -9 must find its chain again). Otherwise the node is a plain
   * child, killed when this process exits (tests).
   */
  detached?: { logFile: string };
  /**
   * The EVM implementation: Hardhat's node (EDR, the default) or Foundry's anvil (revm), an
   * independent engine, from the @foundry-rs/anvil npm packages. Both use chain id 31337, the
   * cancun hardfork and the same 20 mnemonic accounts, so everything else runs unchanged.
   */
  engine?: "hardhat" | "anvil";
}

/** The anvil binary that @foundry-rs/anvil installs for this platform. */
export function anvilBinary(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const bin = join(ROOT, "node_modules", "@foundry-rs", `anvil-${process.platform}-${arch}`, "bin", "anvil");
  if (!existsSync(bin)) throw new Error(`anvil is not installed for ${process.platform}-${arch} (${bin}): npm ci installs @foundry-rs/anvil with its binary package`);
  return bin;
}

/** An ethers provider for a local node: no response cache, so nonces and blocks are always read afresh. */
export function localProvider(url: string, pollingInterval = 100): JsonRpcProvider {
  return new JsonRpcProvider(url, undefined, { pollingInterval, cacheTimeout: -1 });
}

/** True when a JSON-RPC node answers at `url`. */
export async function chainAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}', signal: AbortSignal.timeout(2000) });
    return res.ok && typeof (await res.json()).result === "string";
  } catch {
    return false;
  }
}

export async function startLocalChain(port: number, o: ChainOptions = {}): Promise<LocalChain> {
  const url = `http://127.0.0.1:${port}`;
  if (await chainAnswers(url)) throw new Error(`port ${port} already has a JSON-RPC node; stop it or choose another --chain-port`);
  const anvil = o.engine === "anvil";
  const bin = anvil ? anvilBinary() : join(ROOT, "node_modules", ".bin", "hardhat");
  const args = anvil
    ? ["--port", String(port), "--host", "127.0.0.1", "--chain-id", "31337", "--hardfork", "cancun", "--accounts", "20", "--mnemonic", DEV_MNEMONIC, "--silent"]
    : ["node", "--port", String(port), "--hostname", "127.0.0.1"];
  const engine = anvil ? "anvil" : "hardhat node";
  let child: ChildProcess;
  let output = () => "";
  if (o.detached) {
    const fd = openSync(o.detached.logFile, "a");
    child = spawn(bin, args, { cwd: ROOT, stdio: ["ignore", fd, fd], detached: true });
    closeSync(fd);
    child.unref();
    output = () => readFileSync(o.detached!.logFile, "utf8").slice(-4000);
  } else {
    child = spawn(bin, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout!.on("data", (d) => (log = (log + d).slice(-4000)));
    child.stderr!.on("data", (d) => (log = (log + d).slice(-4000)));
    output = () => log;
  }
  // A plain child never outlives this process, however it ends.
  const kill = () => child.kill("SIGKILL");
  if (!o.detached) process.once("exit", kill);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const t0 = Date.now();
  while (!(await chainAnswers(url))) {
    if (gone) throw new Error(`${engine} exited during start:\n${output()}`);
    if (Date.now() - t0 > 60_000) {
      child.kill("SIGKILL");
      throw new Error(`${engine} did not answer within 60 s:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const provider = localProvider(url);
  return {
    url,
    provider,
    pid: child.pid!,
    async stop() {
      provider.destroy();
      process.removeListener("exit", kill);
      if (!gone) {
        if (o.detached) killChainProcess(child.pid!);
        else child.kill("SIGTERM");
      }
      await exited;
    },
  };
}

/** Stops a detached node of an earlier run by its process id (its process group). */
export function killChainProcess(pid: number): boolean {
  try {
    process.kill(-pid, "SIGTERM");
    return true;
  } catch {
    return false;
  }
}
