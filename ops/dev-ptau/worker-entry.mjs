// worker_threads start from JavaScript; load the TypeScript worker through tsx.
import { tsImport } from "tsx/esm/api";

await tsImport("./worker.ts", import.meta.url);
