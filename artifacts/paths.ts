// Where the build artifacts of a circuit instance live, and how they are
// hashed. Everything here is under build/ (git-ignored). The service, the
// provers and the entry points in scripts/ all read artifacts through here.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));

export function instanceDir(instance: string): string {
  return join(ROOT, "build", "circuits", instance);
}

export interface ArtifactPaths {
  dir: string;
  main: string;
  r1cs: string;
  wasm: string;
  zkey: string;
  vkey: string;
  manifest: string;
  verifierSol: string;
  verifierName: string;
}

/** The circuits of an instance: the batch circuit, and the exit circuit at the same depth. */
export type CircuitKind = "batch" | "exit";

export function artifactPaths(instance: string, kind: CircuitKind = "batch"): ArtifactPaths {
  const dir = kind === "batch" ? instanceDir(instance) : join(instanceDir(instance), kind);
  const verifierName = `${instance[0].toUpperCase()}${instance.slice(1)}${kind === "batch" ? "Batch" : "Exit"}Verifier`;
  return {
    dir,
    main: join(dir, "main.circom"),
    r1cs: join(dir, "main.r1cs"),
    wasm: join(dir, "main_js", "main.wasm"),
    zkey: join(dir, "main.zkey"),
    vkey: join(dir, "verification_key.json"),
    manifest: join(dir, "manifest.json"),
    verifierSol: join(ROOT, "contracts", "generated", `${verifierName}.sol`),
    verifierName,
  };
}

export interface Manifest {
  instance: string;
  params: unknown;
  compileInputsHash: string;
  constraints: number;
  insecure: boolean;
  files: Record<string, { path: string; sha256?: string; blake2b?: string }>;
  ptau?: { path: string; blake2b: string; power: number; source: string; size: number; mtimeMs: number };
  setupInputsHash?: string;
  /** How long each step took and its peak resident memory, on the machine that built it. */
  build?: { compile?: BuildStep; phase2?: BuildStep };
}

export interface BuildStep {
  seconds: number;
  peakMiB: number;
  /** Phase 2: which program made the initial zkey (the contribution is always snarkjs's). */
  by?: "native" | "snarkjs";
  machine: string;
  date: string;
}

export function readManifest(instance: string, kind: CircuitKind = "batch"): Manifest | undefined {
  const p = artifactPaths(instance, kind).manifest;
  return existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : undefined;
}

export function fileHash(path: string, algorithm: "sha256" | "blake2b512"): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash(algorithm);
    createReadStream(path)
      .on("data", (d) => h.update(d))
      .on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
