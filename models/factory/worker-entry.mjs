// A job's worker thread starts from plain JavaScript and loads the TypeScript
// job runner through tsx's API (as the prover's Piscina workers do).
import { tsImport } from "tsx/esm/api";

await tsImport("./worker.ts", import.meta.url);
