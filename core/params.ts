// Circuit instances, declared once in circuits/circuits.json (MACI style) and
// read by the setup script, the reference model, the contracts' deployer and
// the tests.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface BatchParams {
  depth: number;
  queueOps: number;
  bundles: number;
  bundleSize: number;
  entries: number;
  slots: number;
  feeBits: number;
  scoreBits: number;
  protocolBps: number;
  ownerBps: number;
}

export interface CircuitInstance {
  template: string;
  file: string;
  params: BatchParams;
  prove: boolean;
}

/** Widths fixed by the protocol, whatever the instance. */
export const BALANCE_BITS = 96;
export const ADDRESS_BITS = 160;

export const CIRCUITS_JSON = fileURLToPath(new URL("../circuits/circuits.json", import.meta.url));

export function loadInstances(): Record<string, CircuitInstance> {
  return JSON.parse(readFileSync(CIRCUITS_JSON, "utf8"));
}

export function loadInstance(name: string): CircuitInstance {
  const all = loadInstances();
  const inst = all[name];
  if (!inst) throw new Error(`unknown circuit instance "${name}"; circuits.json declares: ${Object.keys(all).join(", ")}`);
  return inst;
}

/** Template arguments in the order Batch(...) declares them. */
export function templateArgs(p: BatchParams): number[] {
  return [p.depth, p.queueOps, p.bundles, p.bundleSize, p.entries, p.slots, p.feeBits, p.scoreBits, p.protocolBps, p.ownerBps];
}

/** Byte length of the public-data body for an instance (docs/PROTOCOL.md). */
export function bodyLength(p: BatchParams): number {
  return p.queueOps * 16 + p.bundles * 17 + p.slots * 36;
}
