// Client helpers shared by the CLI and the demo: L1 connection, signing key,
// sequencer API calls, waiting with progress.
import { sha256 } from "@noble/hashes/sha2.js";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { devWallet } from "../artifacts/dev-wallets.js";
import { artifact } from "../artifacts/contracts.js";
import { readDeployment, type DeploymentInfo } from "./local.js";

export interface L1Opts { rpc?: string; rollup?: string; account?: string; privateKey?: string; api: string }

export interface Connection {
  info: DeploymentInfo;
  provider: JsonRpcProvider;
  wallet: Wallet;
  rollup: Contract;
  token: Contract;
}

/** --rpc and --rollup, or the local deployment of `npm start`; the OPEN token is read from the rollup. */
export async function connect(o: L1Opts): Promise<Connection> {
  const local = o.rpc && o.rollup ? undefined : readDeployment();
  const rpcUrl = o.rpc ?? local!.rpcUrl;
  const provider = new JsonRpcProvider(rpcUrl, undefined, { pollingInterval: 200, cacheTimeout: -1 });
  const wallet = o.privateKey ? new Wallet(o.privateKey, provider) : devWallet(Number(o.account ?? 2), provider);
  const rollup = new Contract(o.rollup ?? local!.rollup, artifact("AttributionRollup").abi as never, wallet);
  const tokenAddress: string = await rollup.token();
  const token = new Contract(tokenAddress, artifact("OpenToken").abi as never, wallet);
  const info = local ?? { rpcUrl, chainId: (await provider.getNetwork()).chainId.toString(), instance: process.env.POA_INSTANCE ?? "test", rollup: o.rollup!, token: tokenAddress };
  return { info, provider, wallet, rollup, token };
}

/** The Baby Jubjub signing key of an L1 account: SHA-256("poa-rollup bjj" || L1 key), unless given. */
export function bjjKey(wallet: Wallet, given?: string): Uint8Array {
  if (given) return Uint8Array.from(Buffer.from(given.replace(/^0x/, ""), "hex"));
  return sha256(Buffer.concat([Buffer.from("poa-rollup bjj"), Buffer.from(wallet.privateKey.slice(2), "hex")]));
}

export async function api(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.error?.code}: ${json.error?.message}`);
  return json;
}

/** What the sequencer is doing now, from /healthz: e.g. "proving 1 batch, 2 bundles waiting for a batch". */
export async function pipelineStatus(apiBase: string): Promise<string> {
  const h = await api(apiBase, "GET", "/healthz").catch(() => undefined);
  if (!h) return "the sequencer does not answer";
  const parts: string[] = [];
  const n = (k: string) => Number(h[k] ?? 0);
  if (n("bundles_pending")) parts.push(`${n("bundles_pending")} bundle(s) waiting for a batch`);
  if (n("batches_sealed")) parts.push(`${n("batches_sealed")} batch(es) sealed, waiting for the prover`);
  if (n("batches_proving")) parts.push("proving a batch (Groth16, ~10 s for the test instance)");
  if (n("batches_proved")) parts.push(`${n("batches_proved")} proved batch(es) waiting to be sent to L1`);
  if (n("batches_submitted")) parts.push(`${n("batches_submitted")} batch(es) sent, waiting for L1`);
  if (n("batches_failed")) parts.push(`${n("batches_failed")} batch(es) failed, retrying`);
  if (h.alerts?.length) parts.push(`ALERT: ${h.alerts[0].problem}`);
  return parts.length ? parts.join("; ") : `${n("batches_finalized")} batch(es) on L1, waiting for the next L1 event`;
}

/** Polls `fn` until it gives a value; every 5 s says what it waits for and, given `status`, what the pipeline is doing. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, status?: () => Promise<string>, timeoutMs = 600_000): Promise<T> {
  const t0 = Date.now();
  let last = Date.now();
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    if (Date.now() - last > 5_000) {
      console.log(`  … waiting for ${what} (${Math.round((Date.now() - t0) / 1000)} s)${status ? `: ${await status()}` : ""}`);
      last = Date.now();
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
