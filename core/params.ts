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
  /** Credit slots (1..newAccounts) that may open a new leaf; their addresses are published. */
  newAccounts: number;
  feeBits: number;
  scoreBits: number;
  protocolBps: number;
  ownerBps: number;
  /** Payment tickets (docs/PROTOCOL.md §16); absent or 0 in an instance without them. */
  ticketDepth?: number;
  /** Ticket bundles a batch can commit. */
  ticketCommits?: number;
  /** Winning tickets a batch can pay. */
  winners?: number;
}

/** The instance's ticket shape, zeros where it has none. */
export function ticketShape(p: BatchParams): { treeDepth: number; commits: number; winners: number; enabled: boolean } {
  const commits = p.ticketCommits ?? 0, winners = p.winners ?? 0;
  return { treeDepth: p.ticketDepth ?? 0, commits, winners, enabled: commits + winners > 0 };
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
  const t = ticketShape(p);
  return [p.depth, p.queueOps, p.bundles, p.bundleSize, p.entries, p.slots, p.newAccounts, p.feeBits, p.scoreBits, p.protocolBps, p.ownerBps, t.treeDepth, t.commits, t.winners];
}

/** Leaves in the instance's 4-ary account tree. */
export function leafCapacity(p: Pick<BatchParams, "depth">): number {
  return 4 ** p.depth;
}

/** Bytes of a leaf index in the body: the 2·depth bits of a 4-ary tree's index, whole bytes. */
export function indexBytes(p: Pick<BatchParams, "depth">): number {
  return Math.ceil((2 * p.depth) / 8);
}

/** Byte length of each body section's record (docs/PROTOCOL.md, "Public data"). */
export function recordBytes(p: Pick<BatchParams, "depth">) {
  const i = indexBytes(p);
  return { op: i + 12, bundle: i + 13, slot: i + 12, newAccount: 20, commit: 2 * i + 2 + 32 + 12, winner: i + 2, pool: i + 24 };
}

/** Byte length of the public-data body for an instance. */
export function bodyLength(p: BatchParams): number {
  const r = recordBytes(p);
  const t = ticketShape(p);
  const tickets = t.enabled ? t.commits * r.commit + t.winners * r.winner + r.pool : 0;
  return p.queueOps * r.op + p.bundles * r.bundle + tickets + p.slots * r.slot + p.newAccounts * r.newAccount;
}
