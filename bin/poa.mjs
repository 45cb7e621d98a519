#!/usr/bin/env node
// `npx poa …`: runs the TypeScript CLI (scripts/poa.ts) through tsx.
import { tsImport } from "tsx/esm/api";

await tsImport("../scripts/poa.ts", import.meta.url);
