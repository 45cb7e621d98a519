// poa: the command line of poa-rollup. `poa <command> --help` for each.
import { Command, Option } from "commander";
import { formatUnits, JsonRpcProvider, parseUnits, Wallet } from "ethers";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { join } from "node:path";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { loadInstance } from "../core/params.js";
import { contentHash, signBundle, type Receipt } from "../core/receipt.js";
import { proveExit } from "../prover/exit.js";
import { PROVER_BACKENDS, terminateCurve } from "../prover/groth16.js";
import { bundleToJson } from "../sequencer/schemas.js";
import { startService } from "../sequencer/service.js";
import { DEFAULT_ADMISSION } from "../sequencer/sequencer.js";
import { replayL1, verifyBatch } from "../sequencer/validator.js";
import { readManifest, ROOT } from "../artifacts/paths.js";
import { api, bjjKey, connect, pipelineStatus, until } from "../ops/client.js";
import { localProvider } from "../ops/chain.js";
import { devWallet, SERVING_PROVIDER_ACCOUNT } from "../artifacts/dev-wallets.js";
import { assertSetupFitsChain, deployRollup } from "../ops/deploy.js";
import { openLocalDeployment, readDeployment } from "../ops/local.js";
import { SERVING_DEFAULTS, startServingNode } from "../serving/server.js";
import { DEFAULT_POLICY_LIMITS, type ServingPolicy } from "../serving/pricing.js";
import { DEFAULT_TICKET_FACE } from "../serving/receipts.js";
import { attributionCommands } from "./poa-attribution.js";
import { datanetCommands } from "./poa-datanet.js";
import { modelCommands } from "./poa-model.js";
import { farmCommands } from "./poa-farm.js";

const env = process.env;
/** POA_API, else the port `poa start` listens on (POA_PORT, 8080) on this machine. */
const DEFAULT_API = env.POA_API ?? `http://127.0.0.1:${env.POA_PORT ?? 8080}`;
const program = new Command("poa").description("poa-rollup: zk-proved attribution payouts").showHelpAfterError();

const l1Options = (c: Command) =>
  c
    .option("--rpc <url>", "EVM JSON-RPC URL (default: the local deployment of npm start)", env.POA_RPC_URL)
    .option("--rollup <address>", "AttributionRollup address (default: the local deployment)", env.POA_ROLLUP)
    .option("--account <i>", "use Hardhat development account i (local chain only)")
    .option("--private-key <hex>", "L1 private key", env.POA_PRIVATE_KEY)
    .option("--api <url>", "sequencer API", DEFAULT_API);


program
  .command("start")
  .description("run the sequencer: on a local Hardhat chain by default, or against --rpc / --rollup")
  .addOption(new Option("--rpc <urls>", "EVM JSON-RPC URL, or several comma-separated (failover, in order); without it a local Hardhat node is started and the contracts deployed").env("POA_RPC_URL"))
  .addOption(new Option("--rollup <address>", "AttributionRollup address (with --rpc)").env("POA_ROLLUP"))
  .addOption(new Option("--sequencer-key <hex>", "private key with SEQUENCER_ROLE (with --rpc)").env("POA_SEQUENCER_KEY"))
  .addOption(new Option("--registry <address>", "DatanetRegistry address: serves /v1/datanets (with --rpc)").env("POA_REGISTRY"))
  .addOption(new Option("--registry-from-block <n>", "the registry's deployment block (with --registry)").env("POA_REGISTRY_FROM_BLOCK").default("0"))
  .addOption(new Option("--relayer-key <hex>", "private key paying for relayed datanet registrations (with --registry)").env("POA_RELAYER_KEY"))
  .addOption(new Option("--model-registry <address>", "ModelRegistry address: serves /v1/jobs and /v1/models (with --registry)").env("POA_MODEL_REGISTRY"))
  .addOption(new Option("--port <n>", "HTTP port").env("POA_PORT").default("8080"))
  .addOption(new Option("--chain-port <n>", "port of the local Hardhat node").env("POA_CHAIN_PORT").default("8545"))
  .addOption(new Option("--db <file>", "database file (default: build/local/sequencer.db on the local chain, build/sequencer.db with --rpc)").env("POA_DB"))
  .addOption(new Option("--database-url <url>", "postgres://… : keep the sequencer's store on this PostgreSQL server instead of the SQLite file (--db then holds only ModelFactory jobs)").env("POA_DATABASE_URL"))
  .addOption(new Option("--prover-farm", "prove on `poa prover` workers through a queue in the --database-url database, instead of in-process threads").env("POA_PROVER_FARM"))
  .addOption(new Option("--farm-parallel <n>", "with --prover-farm: batches proved at once").env("POA_FARM_PARALLEL").default("4"))
  .addOption(new Option("--farm-lease-seconds <s>", "with --prover-farm: a worker silent this long loses its job (≥ 10)").env("POA_LEASE_SECONDS").default("30"))
  .addOption(new Option("--confirmations <n>", "L1 blocks a deposit or withdrawal request must be under before it is batched (default: 0 on the local chain 31337, else 12)").env("POA_CONFIRMATIONS"))
  .addOption(new Option("--from-block <n>", "the rollup's deployment block: the first scan of its queue starts there").env("POA_FROM_BLOCK").default("0"))
  .addOption(new Option("--max-fee-gwei <n>", "EIP-1559 fee cap per gas for batch transactions; above it batches wait, with an alert").env("POA_MAX_FEE_GWEI").default("200"))
  .addOption(new Option("--priority-fee-gwei <n>", "tip per gas offered at first").env("POA_PRIORITY_FEE_GWEI").default("2"))
  .addOption(new Option("--replace-after-ms <n>", "replace a batch transaction not mined after this long, on the same nonce with 25 % higher fees").env("POA_REPLACE_AFTER_MS").default("30000"))
  .option("--fresh", "local chain: start a new chain and database instead of resuming the last run's")
  .addOption(new Option("--instance <name>", "circuit instance (circuits/circuits.json)").env("POA_INSTANCE").default("test"))
  .addOption(new Option("--max-wait-ms <n>", "seal a non-full batch after this wait").env("POA_MAX_WAIT_MS").default("2000"))
  .addOption(new Option("--min-fee <units>", "refuse receipts paying less than this (OPEN base units)").env("POA_MIN_FEE").default(DEFAULT_ADMISSION.minFee.toString()))
  .addOption(new Option("--max-pending-bundles <n>", "bundles a provider may have accepted and not yet sealed (429 beyond)").env("POA_MAX_PENDING_BUNDLES").default(String(DEFAULT_ADMISSION.maxPendingBundles)))
  .addOption(new Option("--max-unproved-batches <n>", "batches sealed ahead of the provers (default: the prover's capacity)").env("POA_MAX_UNPROVED_BATCHES"))
  .addOption(new Option("--prover-threads <n>", "prover worker threads").env("POA_PROVER_THREADS").default("1"))
  .addOption(new Option("--prover <name>", "which Groth16 prover makes the proofs (native falls back to snarkjs where it is not built)").choices(PROVER_BACKENDS).env("POA_PROVER").default("native"))
  .addOption(new Option("--public-rpc <url>", "an L1 JSON-RPC URL browsers may use for the explorer's in-browser proof check (default: the local chain; none with --rpc)").env("POA_PUBLIC_RPC_URL"))
  .addOption(new Option("--serve-port <n>", "port of the OpenLoRA serving node started beside the sequencer (with a ModelRegistry); 0: none").env("POA_SERVE_PORT").default("8081"))
  .addOption(new Option("--serve-provider-key <hex>", `L1 key of the provider account the serving node pays fees from (default on the local chain: dev account ${SERVING_PROVIDER_ACCOUNT})`).env("POA_PROVIDER_KEY"))
  .option("--serve-bjj-key <hex>", "Baby Jubjub key its deposit registered (default: derived from the provider key)")
  .option("--serve-allow-models <ids>", "ModelRegistry ids the serving node serves, comma-separated (local chain default: every model of a dev account)")
  .option("--serve-allow-owners <addresses>", "owners whose models the serving node serves, comma-separated")
  .option("--serve-max-price <OPEN>", "highest price per 1,000 tokens the serving node admits a model at", formatUnits(DEFAULT_POLICY_LIMITS.maxPricePer1kTokens, 18))
  .option("--serve-max-fee <OPEN>", "the most one answer may cost the serving node", formatUnits(DEFAULT_POLICY_LIMITS.maxFeePerRequest, 18))
  .option("--serve-ticket-face <OPEN>", "target face value of the serving node's payment tickets (0: exact receipts only)", formatUnits(DEFAULT_TICKET_FACE, 18))
  .addOption(new Option("--crash-at <point>", "crash tests only: kill -9 after an acknowledgement, a proof or a sent transaction").choices(["accepted", "proved", "sent"]).env("POA_CRASH_AT"))
  .option("--insecure-dev-setup", "with --rpc: accept artifacts from an INSECURE development powers-of-tau")
  .option("--demo", "run the demo once the service is up (npm start)")
  .action(async (o) => {
    await initCrypto();
    const manifest = readManifest(o.instance);
    if (!manifest?.files.zkey) throw new Error(`instance ${o.instance} is not built: run npm run setup -- --config ${o.instance}`);
    warnIfInsecure(o.instance);
    let stopChain = async () => {};
    let rpcUrl: string = o.rpc, rollup: string = o.rollup, key: string = o.sequencerKey;
    let registry: string | undefined = o.registry, relayerKey: string | undefined = o.relayerKey, registryFromBlock = Number(o.registryFromBlock);
    let modelRegistry: string | undefined = o.modelRegistry;
    let db: string = o.db;
    let resumed = false;
    if (!o.rpc) {
      const local = await openLocalDeployment(Number(o.chainPort), o.instance, !!o.fresh);
      const { chain, info } = local;
      stopChain = chain.stop;
      resumed = local.resumed;
      [rpcUrl, rollup, key] = [info.rpcUrl, info.rollup, info.sequencerKey!];
      [registry, relayerKey, registryFromBlock, modelRegistry] = [info.registry, info.relayerKey, info.registryBlock ?? 0, info.modelRegistry];
      db ??= local.dbFile;
      console.log(
        `local chain   ${rpcUrl} (Hardhat node, chain 31337, pid ${chain.pid}; ${resumed ? "resumed with the last run's contracts and database" : "new"})\nrollup        ${rollup}`,
      );
    } else if (!rollup || !key) {
      throw new Error("--rpc needs --rollup and --sequencer-key (or POA_ROLLUP, POA_SEQUENCER_KEY)");
    } else {
      const probe = new JsonRpcProvider(rpcUrl.split(",")[0]);
      assertSetupFitsChain(o.instance, (await probe.getNetwork()).chainId, o.insecureDevSetup);
      probe.destroy();
    }
    const svc = await startService({
      rpcUrl, rollupAddress: rollup, sequencerKey: key, instance: o.instance, dbFile: db ?? join(ROOT, "build", "sequencer.db"), databaseUrl: o.databaseUrl,
      fees: { maxFeePerGas: parseUnits(o.maxFeeGwei, "gwei"), priorityFee: parseUnits(o.priorityFeeGwei, "gwei"), stuckAfterMs: Number(o.replaceAfterMs) },
      confirmations: o.confirmations === undefined ? undefined : Number(o.confirmations), l1FromBlock: Number(o.fromBlock),
      proverFarm: o.proverFarm ? { parallel: Number(o.farmParallel), leaseSeconds: Number(o.farmLeaseSeconds) } : undefined,
      port: Number(o.port), maxWaitMs: Number(o.maxWaitMs), pollMs: 200, proverThreads: Number(o.proverThreads), prover: o.prover, crashAt: o.crashAt,
      admission: { minFee: BigInt(o.minFee), maxPendingBundles: Number(o.maxPendingBundles), maxUnprovedBatches: o.maxUnprovedBatches === undefined ? undefined : Number(o.maxUnprovedBatches) },
      registryAddress: registry, relayerKey, registryFromBlock, modelRegistryAddress: modelRegistry, devSigners: !o.rpc,
      // The local chain is the browser's to read (the explorer's proof check); elsewhere only a URL given for browsers.
      publicRpcUrl: o.publicRpc ?? (o.rpc ? undefined : rpcUrl),
    });
    console.log(`sequencer API ${svc.url}/v1  (OpenAPI: ${svc.url}/v1/openapi.json, metrics: ${svc.url}/metrics)`);
    console.log(`explorer      ${svc.url}/app/#/explorer`);
    if (modelRegistry) console.log(`ModelFactory  ${svc.url}/app/`);
    if (o.rpc && Number(o.servePort) > 0 && modelRegistry && !o.serveProviderKey) throw new Error("on a chain of your own, the serving node needs --serve-provider-key (or --serve-port 0)");
    const servingProvider = new Wallet(o.serveProviderKey ?? devWallet(SERVING_PROVIDER_ACCOUNT).privateKey);
    const node = modelRegistry && Number(o.servePort) > 0
      ? await startServingNode({
          ...SERVING_DEFAULTS, rpcUrl: rpcUrl.split(",")[0], modelRegistryAddress: modelRegistry, artifactsApi: svc.url, cacheDir: `${db ?? join(ROOT, "build", "sequencer.db")}.serving`, port: Number(o.servePort),
          payments: {
            sequencerApi: svc.url, rollupAddress: rollup, instance: o.instance, providerAddress: servingProvider.address, signingKey: bjjKey(servingProvider, o.serveBjjKey),
            policy: servingPolicy({ models: o.serveAllowModels, owners: o.serveAllowOwners, maxPrice: o.serveMaxPrice, maxFee: o.serveMaxFee }, !o.rpc),
            ticketFace: parseUnits(o.serveTicketFace, 18),
          },
        })
      : undefined;
    if (node) console.log(`OpenLoRA      ${node.url}/v1/chat/completions  (OpenAI-compatible; models: ${node.url}/v1/models)`);
    let stopping = false;
    const shutdown = async () => {
      if (stopping) return; // a second signal (tsx relays the first one) must not cut the shutdown short
      stopping = true;
      console.log("shutting down…");
      await node?.close();
      await svc.close();
      await stopChain();
      await terminateCurve();
      process.exit(0);
    };
    process.on("SIGINT", shutdown);
    process.on("SIGTERM", shutdown);
    if (o.demo && resumed) console.log("demo skipped: it ran on this chain before (npm start -- --fresh starts over)");
    else if (o.demo) await demo(svc.url, node?.url);
    console.log("serving; Ctrl-C to stop");
  });

/** Printed on every start: artifacts from a development powers-of-tau must never guard value. */
function warnIfInsecure(instance: string): void {
  const m = readManifest(instance);
  if (m?.insecure) {
    console.log(
      `⚠ INSECURE SETUP: instance ${instance} was built from a development powers-of-tau (${m.ptau?.source}: ${basename(m.ptau?.path ?? "?")}).\n` +
        `  Whoever made that file can forge proofs. Fine for this local chain; never deploy it where value is at stake.`,
    );
  }
}

program
  .command("deploy")
  .description("deploy OPEN, the verifier and AttributionRollup to an EVM chain")
  .addOption(new Option("--rpc <url>", "EVM JSON-RPC URL").env("POA_RPC_URL").makeOptionMandatory())
  .addOption(new Option("--private-key <hex>", "deployer's L1 private key (becomes admin and OPEN holder)").env("POA_PRIVATE_KEY").makeOptionMandatory())
  .option("--sequencer <address>", "address given SEQUENCER_ROLE (default: the deployer)")
  .option("--treasury <address>", "protocol treasury, account 0 (default: the deployer)")
  .option("--exit-delay <blocks>", "blocks a queued operation may wait when the queue is otherwise empty", "100")
  .option("--blocks-per-batch <blocks>", "the sequencer's nominal pace: each further group of NQ queued operations is due this many blocks later", "10")
  .option("--max-depositors <n>", "distinct addresses that may ever deposit (default: half the tree)")
  .addOption(new Option("--instance <name>", "circuit instance (circuits/circuits.json)").env("POA_INSTANCE").default("test"))
  .option("--insecure-dev-setup", "accept artifacts from an INSECURE development powers-of-tau on a chain other than the local one")
  .action(async (o) => {
    warnIfInsecure(o.instance);
    // No response cache: with it, ethers reused a stale pending nonce between deployments ("nonce has already been used").
    const provider = localProvider(o.rpc, 500);
    const wallet = new Wallet(o.privateKey, provider);
    const d = await deployRollup(wallet, {
      instance: o.instance, treasury: o.treasury ?? wallet.address, sequencer: o.sequencer ?? wallet.address,
      exitDelay: Number(o.exitDelay), blocksPerBatch: Number(o.blocksPerBatch), maxDepositors: o.maxDepositors === undefined ? undefined : Number(o.maxDepositors),
      insecureDevSetup: o.insecureDevSetup,
    });
    console.log(JSON.stringify({
      rollup: await d.rollup.getAddress(), token: await d.token.getAddress(), verifier: await d.verifier.getAddress(),
      registry: await d.registry.getAddress(), registryBlock: d.registryBlock, modelRegistry: await d.modelRegistry.getAddress(),
    }, null, 2));
    provider.destroy();
  });

/**
 * The serving node's allow-list and caps from the command line. On the local chain with no list given,
 * the models of the 20 Hardhat dev accounts (the demo's people); elsewhere a list is required.
 */
function servingPolicy(o: { models?: string; owners?: string; maxPrice: string; maxFee: string }, localChain: boolean): ServingPolicy {
  const list = (s?: string) => (s ? String(s).split(",").map((x) => x.trim()).filter(Boolean) : []);
  const models = list(o.models).map((x) => {
    if (!/^[1-9][0-9]*$/.test(x)) throw new Error(`--allow-models: "${x}" is not a ModelRegistry id`);
    return Number(x);
  });
  const owners = list(o.owners).map((x) => {
    if (!/^0x[0-9a-fA-F]{40}$/.test(x)) throw new Error(`--allow-owners: "${x}" is not a 0x address`);
    return x;
  });
  if (models.length === 0 && owners.length === 0) {
    if (!localChain) throw new Error("a paying serving node needs an allow-list: --allow-models <ids> or --allow-owners <addresses> (what it serves is its operator's choice)");
    owners.push(...Array.from({ length: 20 }, (_, i) => devWallet(i).address));
  }
  return { models, owners, maxPricePer1kTokens: parseUnits(o.maxPrice, 18), maxFeePerRequest: parseUnits(o.maxFee, 18) };
}

async function demo(apiUrl: string, servingUrl?: string): Promise<void> {
  const { runDemo } = await import("./demo.js");
  await runDemo(apiUrl, servingUrl);
}

program
  .command("serve")
  .description("run an OpenLoRA serving node: adapters from the ModelRegistry on one base model, OpenAI-compatible API")
  .addOption(new Option("--rpc <url>", "EVM JSON-RPC URL (default: the local deployment of npm start)").env("POA_RPC_URL"))
  .addOption(new Option("--model-registry <address>", "ModelRegistry address (default: the local deployment)").env("POA_MODEL_REGISTRY"))
  .addOption(new Option("--api <url>", "the sequencer API: adapter weights, datanet contents for attribution, and the receipts this node posts").env("POA_API").default(DEFAULT_API))
  .addOption(new Option("--rollup <address>", "AttributionRollup address (default: the local deployment)").env("POA_ROLLUP"))
  .addOption(new Option("--instance <name>", "circuit instance of the rollup (default: the local deployment's)").env("POA_INSTANCE"))
  .addOption(new Option("--provider-key <hex>", `L1 key of the provider account that pays inference fees (default on the local chain: dev account ${SERVING_PROVIDER_ACCOUNT})`).env("POA_PROVIDER_KEY"))
  .option("--bjj-key <hex>", "32-byte Baby Jubjub key its deposit registered (default: derived from the provider key)")
  .option("--base <preset>", "base model preset", SERVING_DEFAULTS.base)
  .addOption(new Option("--port <n>", "HTTP port").env("POA_SERVE_PORT").default("8081"))
  .option("--max-batch <n>", "sequences decoded together per step", String(SERVING_DEFAULTS.maxBatch))
  .option("--max-queue <n>", "requests waiting beyond the batch before 429", String(SERVING_DEFAULTS.maxQueue))
  .option("--max-adapters <n>", "adapters resident in memory", String(SERVING_DEFAULTS.maxAdapters))
  .option("--adapter-memory <MiB>", "memory for resident adapter weights", String(SERVING_DEFAULTS.adapterMemory / 2 ** 20))
  .option("--preload <ids>", "adapter ids to load at start, comma-separated")
  .option("--cache-dir <dir>", "the disk tier of adapter weights, attribution indexes and the receipt outbox", join(ROOT, "build", "serving"))
  .option("--ticket-face <OPEN>", "target face value of payment tickets: an answer cheaper than this is paid by a ticket at p = 2^-k (0: exact receipts only)", formatUnits(DEFAULT_TICKET_FACE, 18))
  .addOption(new Option("--crash-at <point>", "crash tests only: kill -9 after answering (nothing posted) or after the sequencer accepted a bundle (not recorded)").choices(["answered", "posted"]).env("POA_SERVE_CRASH_AT"))
  .addOption(new Option("--allow-models <ids>", "ModelRegistry ids this node serves, comma-separated (on the local chain, default: every model of a dev account)").env("POA_SERVE_ALLOW_MODELS"))
  .addOption(new Option("--allow-owners <addresses>", "owners whose models this node serves, comma-separated").env("POA_SERVE_ALLOW_OWNERS"))
  .option("--max-price <OPEN>", "highest price per 1,000 tokens a model is admitted at", formatUnits(DEFAULT_POLICY_LIMITS.maxPricePer1kTokens, 18))
  .option("--max-fee <OPEN>", "the most one answer may cost this node", formatUnits(DEFAULT_POLICY_LIMITS.maxFeePerRequest, 18))
  .option("--accept-price <ids>", "accept these models' current registered prices (an owner raised one after it was admitted), comma-separated")
  .action(async (o) => {
    await initCrypto();
    const local = o.rpc && o.modelRegistry && o.rollup && o.instance && o.providerKey ? undefined : readDeployment();
    const modelRegistryAddress = o.modelRegistry ?? local?.modelRegistry;
    if (!modelRegistryAddress) throw new Error("no ModelRegistry: pass --model-registry (or run npm start for a local deployment)");
    const rpcUrl = o.rpc ?? local!.rpcUrl;
    const providerWallet = new Wallet(o.providerKey ?? devWallet(SERVING_PROVIDER_ACCOUNT).privateKey);
    const node = await startServingNode({
      rpcUrl, modelRegistryAddress, artifactsApi: o.api, base: o.base, cacheDir: o.cacheDir, port: Number(o.port),
      maxBatch: Number(o.maxBatch), maxQueue: Number(o.maxQueue), maxAdapters: Number(o.maxAdapters), adapterMemory: Number(o.adapterMemory) * 2 ** 20,
      preload: o.preload ? String(o.preload).split(",").map(Number) : [],
      payments: {
        sequencerApi: o.api, rollupAddress: o.rollup ?? local!.rollup, instance: o.instance ?? local!.instance, providerAddress: providerWallet.address, signingKey: bjjKey(providerWallet, o.bjjKey), crashAt: o.crashAt,
        policy: servingPolicy({ models: o.allowModels, owners: o.allowOwners, maxPrice: o.maxPrice, maxFee: o.maxFee }, !!local && !o.rpc),
        acceptPrices: o.acceptPrice ? String(o.acceptPrice).split(",").map(Number) : [],
        ticketFace: parseUnits(o.ticketFace, 18),
      },
    });
    console.log(`provider      ${providerWallet.address} pays each answer's fee from its rollup balance`);
    console.log(`OpenLoRA ${node.url}/v1/chat/completions (resident: ${node.cache.residentIds().join(", ") || "none"})`);
    const stop = async () => {
      await node.close();
      process.exit(0);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });

l1Options(program.command("deposit").description("fund a provider's layer-2 account and register its Baby Jubjub key"))
  .requiredOption("--amount <OPEN>", "OPEN to deposit, e.g. 100 or 0.5")
  .option("--bjj-key <hex>", "32-byte Baby Jubjub private key (default: derived from the L1 key)")
  .action(async (o) => {
    await initCrypto();
    const { wallet, rollup, token } = await connect(o);
    const amount = parseUnits(o.amount, 18);
    const pub = await publicKeyOf(bjjKey(wallet, o.bjjKey));
    await (await token.approve(await rollup.getAddress(), amount)).wait();
    const r = await (await rollup.deposit(amount, pub.ax, pub.ay)).wait();
    console.log(`deposit of ${o.amount} OPEN queued on L1 (tx ${r.hash}); waiting for a batch…`);
    const acct = await until("the deposit's batch", async () => api(o.api, "GET", `/v1/accounts/${wallet.address}`), () => pipelineStatus(o.api));
    console.log(`account ${acct.index}: balance ${formatUnits(acct.balance, 18)} OPEN, key registered`);
  });

l1Options(program.command("submit").description("sign receipts from a JSON file as one bundle and send them to the sequencer"))
  .requiredOption("--file <path>", 'JSON: [{ "owner": "0x…", "fee": "1.5" (OPEN), "input": "…", "output": "…", "entries": [{ "contributor": "0x…", "score": 70 }] }]')
  .option("--bjj-key <hex>", "32-byte Baby Jubjub private key (default: derived from the L1 key)")
  .action(async (o) => {
    await initCrypto();
    const { wallet, rollup, info } = await connect(o);
    const specs = JSON.parse(readFileSync(o.file, "utf8")) as { owner: string; fee: string; input?: string; output?: string; entries: { contributor: string; score: number | string }[] }[];
    const acct = await api(o.api, "GET", `/v1/accounts/${wallet.address}`);
    const params = loadInstance(info.instance).params;
    const receipts: Receipt[] = specs.map((s, j) => ({
      providerIdx: acct.index, owner: BigInt(s.owner), fee: parseUnits(s.fee, 18), nonce: BigInt(acct.nextNonce) + BigInt(j),
      inputHash: contentHash(s.input ?? ""), outputHash: contentHash(s.output ?? ""),
      entries: s.entries.map((e) => ({ contributor: BigInt(e.contributor), score: BigInt(e.score) })),
    }));
    const bundle = await signBundle(bjjKey(wallet, o.bjjKey), receipts, params, BigInt(await rollup.domain()));
    const res = await api(o.api, "POST", "/v1/bundles", bundleToJson(bundle));
    for (const r of res.receipts) console.log(`${r.id} ${r.status}`);
  });

program
  .command("status <receiptId>")
  .description("show a receipt's status, batch and L1 transaction")
  .option("--api <url>", "sequencer API", DEFAULT_API)
  .action(async (id, o) => console.log(JSON.stringify(await api(o.api, "GET", `/v1/receipts/${id}`), null, 2)));

program
  .command("tickets [address]")
  .description("payment tickets: the pool and the latest bundles with their winners; with an address, its expected against realized ticket earnings")
  .option("--api <url>", "sequencer API", DEFAULT_API)
  .option("--json", "print the API's answer as JSON")
  .action(async (address: string | undefined, o) => {
    const open = (units: string) => `${formatUnits(units, 18)} OPEN`;
    if (address) {
      const t = await api(o.api, "GET", `/v1/accounts/${address}/tickets`);
      if (o.json) return console.log(JSON.stringify(t, null, 2));
      console.log(`${t.address}: ${t.tickets} tickets in finalized batches credit it; ${t.won} won, ${t.paid} paid`);
      console.log(`  expected ${open(t.expected)} (the payout rule at each ticket's expected value)`);
      console.log(`  realized ${open(t.realized)} (at face value over the winners paid)`);
      for (const p of t.series) console.log(`  batch ${p.batch}: expected ${open(p.expected)}, realized ${open(p.realized)}`);
      return;
    }
    const t = await api(o.api, "GET", "/v1/explorer/tickets?limit=10");
    if (o.json) return console.log(JSON.stringify(t, null, 2));
    console.log(`pool ${t.pool.address}: ${open(t.pool.balance)} (paid in ${open(t.pool.inflow)}, paid out ${open(t.pool.paidOut)})`);
    console.log(`tickets: ${t.tickets.committed} committed, ${t.tickets.won} won, ${t.tickets.paid} paid, ${t.tickets.waiting} waiting for the pool`);
    for (const b of t.bundles) {
      const wins = b.winners.map((w: { index: number; paidIn: number | null }) => `#${w.index}${w.paidIn ? ` paid in batch ${w.paidIn}` : " waiting"}`).join(", ");
      console.log(`  bundle ${b.id}: ${b.count} tickets of provider ${b.provider}, ${open(b.rootSum)} paid in, committed in batch ${b.batch}; ${b.beacon ? `winners: ${wins || "none"}` : "beacon not recorded yet"}`);
    }
  });

l1Options(program.command("verify-batch <n>").description("check batch n as a validator: calldata, public input, proof, root chain"))
  .action(async (n, o) => {
    await initCrypto();
    const { rollup, info } = await connect(o);
    const c = await verifyBatch(rollup, info.instance, Number(n));
    console.log(`batch ${c.batchNumber} (tx ${c.txHash})\n  proof against the rebuilt public input: ${c.proofValid ? "valid" : "INVALID"}\n  root chain rebuilt from L1 data: ${c.rootChainValid ? "matches the contract" : "MISMATCH"}`);
    await terminateCurve();
    if (!c.proofValid || !c.rootChainValid) process.exitCode = 1;
  });

l1Options(program.command("exit").description("in exit mode, prove your leaf under the last root from L1 data alone and take your balance"))
  .addOption(new Option("--prover <name>", "which Groth16 prover makes the exit proof").choices(PROVER_BACKENDS).env("POA_PROVER").default("native"))
  .action(async (o) => {
    await initCrypto();
    const { wallet, rollup, info } = await connect(o);
    if (!(await rollup.exitMode())) throw new Error("the rollup is not in exit mode: withdraw instead (exit mode begins when a queued operation is overdue: activateExitMode)");
    const { state, rootChainValid } = await replayL1(rollup, info.instance);
    if (!rootChainValid || state.root !== BigInt(await rollup.stateRoot())) throw new Error("the state rebuilt from L1 does not match the contract's root");
    const index = state.indexOf(BigInt(wallet.address));
    if (index === undefined) throw new Error(`${wallet.address} has no layer-2 account`);
    if (await rollup.exited(index)) throw new Error(`account ${index} has already exited`);
    const x = await proveExit(info.instance, state, index, o.prover);
    await (await rollup.exit(index, wallet.address, x.balance, x.calldata)).wait();
    console.log(`account ${index} exited: ${formatUnits(x.balance, 18)} OPEN paid to ${wallet.address}`);
    await terminateCurve();
  });

l1Options(program.command("withdraw").description("withdraw a contributor's whole layer-2 balance to its L1 address"))
  .action(async (o) => {
    const { wallet, rollup, token } = await connect(o);
    const acct = await api(o.api, "GET", `/v1/accounts/${wallet.address}`);
    await (await rollup.requestWithdrawal(acct.index)).wait();
    console.log(`withdrawal of account ${acct.index} requested on L1; waiting for its batch…`);
    await until("the withdrawal's batch", async () => ((await rollup.claimable(wallet.address)) > 0n ? true : undefined), () => pipelineStatus(o.api));
    const before = await token.balanceOf(wallet.address);
    await (await rollup.claim(wallet.address)).wait();
    console.log(`received ${formatUnits((await token.balanceOf(wallet.address)) - before, 18)} OPEN at ${wallet.address}`);
  });

program.addCommand(datanetCommands(l1Options));
program.addCommand(attributionCommands());
program.addCommand(modelCommands());
for (const c of farmCommands()) program.addCommand(c);

program.parseAsync().catch((e) => {
  console.error(`poa: ${shortError(e)}`);
  process.exit(1);
});

/** One line per failure: ethers' messages carry the whole transaction (kilobytes of bytecode), its shortMessage does not. */
function shortError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const x = e as Error & { shortMessage?: string; code?: string; error?: { message?: string }; info?: { error?: { message?: string } } };
  const node = x.error?.message ?? x.info?.error?.message; // what the node said, when ethers could not classify it
  if (x.shortMessage?.startsWith("could not coalesce error") && node) return node.split("\n")[0].slice(0, 300);
  if (x.shortMessage) return `${x.shortMessage}${node ? ` (${node.split("\n")[0].slice(0, 200)})` : ""}${x.code ? ` [${x.code}]` : ""}`;
  return x.message.length > 600 ? `${x.message.slice(0, 600)}…` : x.message;
}
