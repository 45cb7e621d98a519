// The `poa` command line as the tests run it: each command its own process, as an operator would.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../../artifacts/paths.js";

const POA = ["--import", "tsx", join(ROOT, "scripts", "poa.ts")];

export interface Running {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  log: () => string;
}

/** Runs `poa start <args>` as its own process; resolves once it serves. */
export async function poaStart(args: string[], env = process.env): Promise<Running> {
  const proc = spawn(process.execPath, [...POA, "start", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  proc.stderr!.on("data", (x) => (out += x));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on("data", (x) => {
      out += x;
      const m = /sequencer API (http:\/\/[^/\s]+)\/v1/.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then(() => reject(new Error(`the service exited during start:\n${out}`)));
  });
  return { proc, url, exited, log: () => out };
}

/** Runs `poa <args>` to its end: exit status and output. */
export function poaRun(args: string[], env = process.env): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...POA, ...args], { cwd: ROOT, env, encoding: "utf8", timeout: 600_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `poa <args>` to its end without blocking this process (a service in it keeps serving the command). */
export function poaExec(args: string[], env = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [...POA, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  proc.stdout!.on("data", (x) => (stdout += x));
  proc.stderr!.on("data", (x) => (stderr += x));
  return new Promise((resolve) => proc.on("exit", (status) => resolve({ status, stdout, stderr })));
}
