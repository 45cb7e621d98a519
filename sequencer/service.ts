// Wires the sequencer service: L1 connection, store, prover pool, pipeline and HTTP API.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import Database from "better-sqlite3";
import { Contract, Wallet } from "ethers";
import { FailoverProvider, type RetryOptions } from "./rpc.js";
import { initCrypto } from "../core/crypto.js";
import { loadInstance } from "../core/params.js";
import { ProverPool, type Prover } from "../prover/pool.js";
import { FarmProver, type FarmOptions } from "../prover/farm.js";
import { proverBackend, type ProverBackend } from "../prover/groth16.js";
import { artifact, LOCAL_CHAIN_ID } from "../artifacts/contracts.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { JobManager } from "../models/factory/jobs.js";
import { modelRegistryAt } from "../models/registry.js";
import type { ModelDeps } from "./models.js";
import { serializer } from "./datanets.js";
import { registryAt } from "../attribution/datanet/registry.js";
import { ContentStore } from "../attribution/datanet/store.js";
import { createApp } from "./api.js";
import type { DatanetDeps } from "./datanets.js";
import type { RelayLimits } from "./relay-guard.js";
import { Metrics } from "./metrics.js";
import { Sequencer, type AdmissionPolicy } from "./sequencer.js";
import { DEFAULT_FEES, type FeePolicy } from "./submitter.js";
import { asyncStore, SqliteStore, type Store } from "./store.js";
import { PgStore } from "./store-pg.js";

export interface ServiceConfig {
  /** The L1 JSON-RPC endpoint, or several, comma-separated, in order of preference (failover). */
  rpcUrl: string;
  rpcRetry?: RetryOptions;
  /** An L1 JSON-RPC URL that browsers may use (the explorer's in-browser proof check); never one with a key in it. */
  publicRpcUrl?: string;
  rollupAddress: string;
  sequencerKey: string; // private key holding SEQUENCER_ROLE
  instance: string;
  /** The SQLite file of the store (the default), and of the ModelFactory jobs in any case. */
  dbFile: string;
  /** postgres://…: the store lives on this PostgreSQL server instead of dbFile (POA_DATABASE_URL). */
  databaseUrl?: string;
  /** Prove on `poa prover` workers through a queue in the database (needs databaseUrl) instead of in-process threads. */
  proverFarm?: FarmOptions;
  port: number; // 0: any free port
  host?: string;
  maxWaitMs: number;
  pollMs: number;
  proverThreads: number;
  /** The in-process pool's prover (default: POA_PROVER, else native). */
  prover?: ProverBackend;
  /** EIP-1559 fee cap, tip and replacement of stuck transactions (defaults: DEFAULT_FEES). */
  fees?: Partial<FeePolicy>;
  /** L1 blocks a queue operation must be under before it is batched (default 0 on the local chain 31337, else 12). */
  confirmations?: number;
  /** The rollup's deployment block, where the first queue scan starts (default 0). */
  l1FromBlock?: number;
  crashAt?: "accepted" | "proved" | "sent";
  /** Minimum fee per receipt, pending bundles per provider, sealed-unproved batches (sequencer.ts DEFAULT_ADMISSION). */
  admission?: Partial<AdmissionPolicy>;
  /** DatanetRegistry address: enables /v1/datanets. */
  registryAddress?: string;
  /** The registry's deployment block, where event scans start (default 0). */
  registryFromBlock?: number;
  /** Pays the gas of relayed datanet transactions; a key of its own, so its nonces never race the sequencer's. */
  relayerKey?: string;
  /** Content store directory (default: <dbFile>.content/). */
  contentDir?: string;
  /** Limits on relayed datanet writes (default: 20 per address and 600 in all per hour). */
  relayLimits?: RelayLimits;
  /** ModelRegistry address: enables /v1/jobs and /v1/models (needs the DatanetRegistry). */
  modelRegistryAddress?: string;
  /** Fine-tuning job directories (default: <dbFile>.models/). */
  jobsDir?: string;
  /** Local chain (31337) only: sign publications for the Hardhat dev accounts, since the page has no wallet. */
  devSigners?: boolean;
}

export interface Service {
  url: string;
  app: ReturnType<typeof createApp>;
  sequencer: Sequencer;
  close(): Promise<void>;
}

export async function startService(cfg: ServiceConfig, given?: Prover): Promise<Service> {
  await initCrypto();
  if (cfg.proverFarm && !cfg.databaseUrl) throw new Error("a prover farm needs the PostgreSQL database its queue lives in (--database-url)");
  const prover = given ?? (cfg.proverFarm ? await FarmProver.open(cfg.databaseUrl!, cfg.proverFarm) : new ProverPool(cfg.proverThreads, cfg.prover ?? proverBackend()));
  // One URL or several, comma-separated: transport failures are retried and fail over (sequencer/rpc.ts).
  const provider = new FailoverProvider(cfg.rpcUrl.split(",").map((u) => u.trim()).filter(Boolean), cfg.rpcRetry, { pollingInterval: Math.min(cfg.pollMs, 1000), cacheTimeout: -1 });
  const wallet = new Wallet(cfg.sequencerKey, provider);
  const rollup = new Contract(cfg.rollupAddress, artifact("AttributionRollup").abi as never, wallet);
  const params = loadInstance(cfg.instance).params;
  // ModelFactory jobs run on this host's worker thread, so their rows stay in its SQLite file.
  const sqlite = cfg.databaseUrl ? undefined : new SqliteStore(cfg.dbFile, params);
  const store: Store = sqlite ? asyncStore(sqlite) : await PgStore.open(cfg.databaseUrl!, params);
  const metrics = new Metrics();
  const sequencer = await Sequencer.open(store, rollup, prover, {
    instance: cfg.instance, maxWaitMs: cfg.maxWaitMs, pollMs: cfg.pollMs, fees: { ...DEFAULT_FEES, ...cfg.fees }, crashAt: cfg.crashAt, admission: cfg.admission,
    confirmations: cfg.confirmations ?? ((await provider.getNetwork()).chainId === LOCAL_CHAIN_ID ? 0 : 12), l1FromBlock: cfg.l1FromBlock ?? 0,
  }, metrics);
  let datanets: DatanetDeps | undefined;
  if (cfg.registryAddress) {
    if (!cfg.relayerKey) throw new Error("a DatanetRegistry needs a relayer key (--relayer-key) to pay for registrations");
    const registry = registryAt(cfg.registryAddress, new Wallet(cfg.relayerKey, provider));
    const code = await provider.getCode(cfg.registryAddress);
    if (code === "0x") throw new Error(`no contract at the DatanetRegistry address ${cfg.registryAddress}`);
    datanets = { registry, store: new ContentStore(cfg.contentDir ?? `${cfg.dbFile}.content`), fromBlock: cfg.registryFromBlock ?? 0, relayLimits: cfg.relayLimits, serialize: serializer() };
  }
  let models: ModelDeps | undefined;
  let jobsDb: Database.Database | undefined;
  if (cfg.modelRegistryAddress) {
    if (!datanets) throw new Error("a ModelRegistry needs the DatanetRegistry (--registry) whose contributions models train on");
    if ((await provider.getCode(cfg.modelRegistryAddress)) === "0x") throw new Error(`no contract at the ModelRegistry address ${cfg.modelRegistryAddress}`);
    jobsDb = sqlite ? undefined : new Database(cfg.dbFile);
    const jobs = new JobManager(sqlite?.db ?? jobsDb!, { dir: cfg.jobsDir ?? `${cfg.dbFile}.models`, contentDir: datanets.store.dir });
    const local = (await provider.getNetwork()).chainId === LOCAL_CHAIN_ID;
    const devSigners = cfg.devSigners && local ? new Map(Array.from({ length: 20 }, (_, i) => Object.assign(devWallet(i, provider), { devIndex: i })).map((w) => [w.address.toLowerCase(), w])) : undefined;
    models = { jobs, registry: modelRegistryAt(cfg.modelRegistryAddress, datanets.registry.runner), datanets, devSigners };
  }
  const app = createApp(sequencer, metrics, datanets, models, { publicRpcUrl: cfg.publicRpcUrl });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(cfg.port, cfg.host ?? "127.0.0.1", () => resolve(s));
  });
  sequencer.start();
  models?.jobs.start();
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    app,
    sequencer,
    async close() {
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections(); // keep-alive clients would hold close() open
      await closed;
      // The in-process pool: the proof under way ends first (stop() waits for it), then the threads.
      // A farm: closing its client first ends the wait for remote proofs (a restart finds the jobs again).
      if (prover instanceof FarmProver) await Promise.all([sequencer.stop(), prover.close()]);
      else {
        await sequencer.stop();
        await prover.close();
      }
      await models?.jobs.close();
      jobsDb?.close();
      await store.close();
      provider.destroy();
    },
  };
}
