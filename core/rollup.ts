// The reference model of one batch (docs/PROTOCOL.md, "Batch"): the same
// state transition as circuits/batch.circom, step by step, producing the new
// state, the public data and the circuit's input in one pass.
import { EMPTY_ACCOUNT, leafFields, leafHash, type Account } from "./account.js";
import { keyProblem, verifySignature, type PublicKey } from "./crypto.js";
import { BALANCE_BITS, ticketShape, type BatchParams } from "./params.js";
import { payout } from "./payout.js";
import { bodyHash, encodeBody, type Body, type PublicInputs } from "./publicData.js";
import { QUEUE_GENESIS, queueStep, type QueueOp } from "./queue.js";
import { bundleMessage, checkBundleShape, paddedEntries, type SignedBundle } from "./receipt.js";
import { bundleLeafHash, type BundleRecord, type SignedTicketBundle, type TicketBundle } from "./ticket.js";
import { commitTicketBundle, idleCommitInput, idleWinnerInput, settleWinner, updatePool } from "./ticket-settlement.js";
import { MerkleTree } from "./tree.js";

const MAX_BALANCE = (1n << BigInt(BALANCE_BITS)) - 1n;

/** Layer-2 state: the account tree plus the indexes that find leaves by address. */
export class RollupState {
  readonly params: BatchParams;
  tree: MerkleTree;
  accounts = new Map<number, Account>();
  /** Committed ticket bundles (docs/PROTOCOL.md §16), by the leaf that holds each. */
  bundles = new Map<number, BundleRecord>();
  byAddress = new Map<bigint, number>();
  nextIndex = 0;
  queueHash = QUEUE_GENESIS; // chain value after the last consumed L1 operation
  queueConsumed = 0; // number of L1 operations consumed
  creditLeaves = 0; // leaves that a credit slot (not a deposit) took when they were empty
  /** Soundness tests only: let rule-breaking values through, as a cheating sequencer would. */
  unchecked = false;

  /** Genesis: leaf 0 is the protocol treasury. */
  constructor(params: BatchParams, treasury: bigint) {
    if (treasury === 0n) throw new Error("the treasury address must not be 0");
    this.params = params;
    this.tree = new MerkleTree(params.depth);
    this.write(0, { ...EMPTY_ACCOUNT, address: treasury });
  }

  get root(): bigint {
    return this.tree.root;
  }

  account(index: number): Account {
    return this.accounts.get(index) ?? { ...EMPTY_ACCOUNT };
  }

  indexOf(address: bigint): number | undefined {
    return this.byAddress.get(address);
  }

  /** The leaf an address uses: its existing leaf, else the next free one. */
  leafFor(address: bigint): number {
    return this.byAddress.get(address) ?? this.freeLeaf();
  }

  /** The next leaf that nothing has used. */
  freeLeaf(): number {
    if (this.nextIndex >= this.tree.capacity) throw new Error(`the state tree is full (${this.tree.capacity} accounts)`);
    return this.nextIndex;
  }

  write(index: number, a: Account): void {
    if (this.bundles.has(index)) throw new Error(`leaf ${index} holds a committed ticket bundle; it never becomes an account`);
    if (!this.unchecked && (a.balance < 0n || a.balance > MAX_BALANCE)) throw new Error(`balance ${a.balance} of account ${index} is outside [0, 2^${BALANCE_BITS})`);
    this.accounts.set(index, a);
    if (a.address !== 0n && !this.byAddress.has(a.address)) this.byAddress.set(a.address, index);
    if (index >= this.nextIndex) this.nextIndex = index + 1;
    this.tree.set(index, leafHash(a));
  }

  /** Writes a committed ticket bundle's leaf (never an account). */
  writeBundle(index: number, r: BundleRecord): void {
    if (this.accounts.get(index)?.address) throw new Error(`leaf ${index} holds an account; a ticket bundle needs an empty leaf`);
    this.bundles.set(index, r);
    if (index >= this.nextIndex) this.nextIndex = index + 1;
    this.tree.set(index, bundleLeafHash(r));
  }

  clone(): RollupState {
    const c = Object.create(RollupState.prototype) as RollupState;
    Object.assign(c, this);
    c.tree = this.tree.clone();
    c.accounts = new Map(this.accounts);
    c.bundles = new Map(this.bundles);
    c.byAddress = new Map(this.byAddress);
    return c;
  }
}

/** A bundle that breaks a rule at its place in a batch: the sequencer rejects it and seals without it. */
export class BundleError extends Error {
  constructor(readonly bundle: number, readonly reason: string) {
    super(`bundle ${bundle}: ${reason}`);
  }
}

/** A ticket bundle that cannot be committed at its place in a batch (tickets.commits[commit]): the sequencer rejects it. */
export class TicketBundleError extends Error {
  constructor(readonly commit: number, readonly reason: string) {
    super(`ticket bundle ${commit}: ${reason}`);
  }
}

export interface BatchInput {
  ops: QueueOp[]; // the next L1 operations, oldest first
  bundles: SignedBundle[];
  /** Payment tickets (docs/PROTOCOL.md §16), in an instance that has them. */
  tickets?: TicketBatchInput;
}

export interface TicketBatchInput {
  /** This batch's number on L1 (0-based): committed bundles are decided by its beacon. */
  batchNumber: number;
  commits: SignedTicketBundle[];
  /** The batch whose L1 beacon the winners were drawn under, and that beacon (0: not recorded). */
  beaconBatch: number;
  beacon: bigint;
  /** Winners, each bundle's in index order: the leaf holding the bundle, the ticket's index, and the bundle's tickets. */
  winners: { bundleIdx: number; index: number; tickets: TicketBundle }[];
}

export interface Withdrawal {
  address: bigint;
  amount: bigint;
}

export interface BatchResult {
  state: RollupState; // the state after the batch (the input state is untouched)
  publicInputs: PublicInputs;
  body: Uint8Array;
  decoded: Body;
  withdrawals: Withdrawal[];
  /** The circuit's input, signal name -> value(s), ready for snarkjs. */
  circuitInput: Record<string, unknown>;
}

/**
 * Applies one batch to a copy of `prev` exactly as the circuit does and returns
 * the result together with the witness input. Throws, naming the problem,
 * when the batch breaks a rule the circuit enforces.
 */
export interface BuildOptions {
  /** Soundness tests only: skip the model's checks (signature, nonce, balance, widths). */
  unchecked?: boolean;
  /** Replaying batches that were fully checked when they were sealed. */
  skipSignatureCheck?: boolean;
  /**
   * True when bundle `b`'s signature is already known to verify against exactly
   * `key` (checked at acceptance): the check is skipped only then, so a key that
   * changed since is checked again, as the circuit will.
   */
  verifiedAgainst?: (b: number, key: PublicKey) => boolean;
  /** Soundness tests only: alter the per-address credits before the slots apply them. */
  adjustCredits?: (credits: Map<bigint, bigint>) => void;
  /** Soundness tests only: reorder the credit slots after the treasury's (new accounts come first otherwise). */
  slotOrder?: (entries: [bigint, bigint][]) => [bigint, bigint][];
  /** Soundness tests only: credit an address at this leaf instead of its own. */
  slotLeaf?: (address: bigint) => number | undefined;
}

export async function buildBatch(prev: RollupState, input: BatchInput, domain: bigint, opts: BuildOptions = {}): Promise<BatchResult> {
  const p = prev.params;
  const s = prev.clone();
  s.unchecked = !!opts.unchecked;
  const K = p.entries;
  if (input.ops.length > p.queueOps) throw new Error(`a batch consumes at most ${p.queueOps} queue operations, got ${input.ops.length}`);
  if (input.bundles.length > p.bundles) throw new Error(`a batch holds at most ${p.bundles} bundles, got ${input.bundles.length}`);

  const oldRoot = s.root;
  const oldQueueHash = s.queueHash;
  const body: Body = { ops: [], bundles: [], slots: [], newAddresses: [] };
  const withdrawals: Withdrawal[] = [];
  const w: Record<string, unknown[]> = {};
  const push = (name: string, v: unknown) => (w[name] ??= []).push(v);
  const openLeaf = (prefix: string, index: number) => {
    push(`${prefix}Leaf`, leafFields(s.account(index)));
    push(`${prefix}Siblings`, s.tree.siblings(index));
  };

  // 1. L1 queue operations, in order.
  for (let q = 0; q < p.queueOps; q++) {
    const op = input.ops[q];
    if (!op) {
      for (const n of ["opEnabled", "opIsWithdrawal", "opAddress", "opAmount", "opAx", "opAy", "opAccount", "opAccountIdx"]) push(n, 0n);
      openLeaf("op", 0);
      continue;
    }
    const idx = op.kind === "deposit" ? s.leafFor(op.address) : op.account;
    const before = s.account(idx);
    push("opEnabled", 1n);
    push("opIsWithdrawal", op.kind === "withdrawal" ? 1n : 0n);
    push("opAddress", op.address);
    push("opAmount", op.amount);
    push("opAx", op.ax);
    push("opAy", op.ay);
    push("opAccount", BigInt(op.account));
    push("opAccountIdx", BigInt(idx));
    openLeaf("op", idx);
    let amount: bigint;
    if (op.kind === "deposit") {
      if (before.address !== 0n && before.address !== op.address) throw new Error(`deposit leaf ${idx} belongs to another address`);
      const keyed = op.ax !== 0n;
      s.write(idx, {
        address: op.address,
        balance: before.balance + op.amount,
        ax: keyed ? op.ax : before.ax,
        ay: keyed ? op.ay : before.ay,
        nonce: before.nonce,
      });
      amount = op.amount;
    } else {
      const owns = before.address === op.address && op.address !== 0n;
      amount = owns ? before.balance : 0n;
      if (owns) {
        s.write(idx, { ...before, balance: 0n });
        if (amount > 0n) withdrawals.push({ address: op.address, amount });
      }
    }
    s.queueHash = queueStep(s.queueHash, op);
    s.queueConsumed++;
    body.ops.push({ accountIdx: idx, amount });
  }

  // 2. Signed bundles: provider debits; credits collected per address.
  const treasury = s.account(0).address;
  const credits = new Map<bigint, bigint>([[treasury, 0n]]);
  const credit = (address: bigint, amount: bigint) => {
    if (amount > 0n) credits.set(address, (credits.get(address) ?? 0n) + amount);
  };
  const bundleHashes: bigint[] = [];
  for (let b = 0; b < p.bundles; b++) {
    const bundle = input.bundles[b];
    const receipts = bundle?.receipts ?? [];
    if (bundle && !opts.unchecked) checkBundleShape(receipts, p);
    const providerIdx = bundle ? receipts[0].providerIdx : 0;
    const provider = s.account(providerIdx);
    if (bundle) {
      if (provider.address === 0n) throw new BundleError(b, `provider account ${providerIdx} does not exist`);
      if (!opts.unchecked && receipts[0].nonce !== provider.nonce) throw new BundleError(b, `first nonce ${receipts[0].nonce} does not match provider nonce ${provider.nonce}`);
      if (!opts.unchecked && !opts.skipSignatureCheck && !opts.verifiedAgainst?.(b, provider)) {
        const problem = await keyProblem(provider);
        if (problem) throw new BundleError(b, `provider ${providerIdx}'s key cannot sign: ${problem}`);
        if (!(await verifySignature(bundleMessage(receipts, p, domain), bundle.signature, provider))) {
          throw new BundleError(b, `the signature does not verify against provider ${providerIdx}'s current key`);
        }
      }
    }
    push("bProviderIdx", BigInt(providerIdx));
    openLeaf("b", providerIdx);
    push("bSig", bundle ? [bundle.signature.S, bundle.signature.R8x, bundle.signature.R8y] : [0n, 0n, 0n]);
    const en: bigint[] = [], owner: bigint[] = [], fee: bigint[] = [], ih: bigint[] = [], oh: bigint[] = [];
    const contributor: bigint[][] = [], score: bigint[][] = [];
    let totalFee = 0n;
    for (let j = 0; j < p.bundleSize; j++) {
      const r = receipts[j];
      en.push(r ? 1n : 0n);
      owner.push(r?.owner ?? 0n);
      fee.push(r?.fee ?? 0n);
      ih.push(r?.inputHash ?? 0n);
      oh.push(r?.outputHash ?? 0n);
      const entries = paddedEntries(r?.entries ?? [], K);
      contributor.push(entries.map((e) => e.contributor));
      score.push(entries.map((e) => e.score));
      if (!r) continue;
      const pay = payout(r.fee, entries.map((e) => e.score), p);
      credits.set(treasury, credits.get(treasury)! + pay.protocol);
      entries.forEach((e, i) => credit(e.contributor, pay.shares[i]));
      credit(r.owner, pay.ownerTotal);
      totalFee += r.fee;
    }
    for (const [n, v] of [["bEnabled", en], ["rOwner", owner], ["rFee", fee], ["rInputHash", ih], ["rOutputHash", oh], ["rContributor", contributor], ["rScore", score]] as const) push(n, v);
    if (bundle) {
      if (!opts.unchecked && totalFee > provider.balance) throw new BundleError(b, `fees ${totalFee} exceed provider ${providerIdx}'s balance ${provider.balance}`);
      s.write(providerIdx, { ...provider, balance: provider.balance - totalFee, nonce: provider.nonce + BigInt(receipts.length) });
    }
    body.bundles.push({ providerIdx, count: receipts.length, totalFee });
  }

  // 2b. Ticket bundles committed, winners paid, the pool moved (§16.3).
  let ticketInputs: PublicInputs["tickets"];
  const ts = ticketShape(p);
  if (ts.enabled) {
    const tk: TicketBatchInput = input.tickets ?? { batchNumber: 0, commits: [], beaconBatch: 0, beacon: 0n, winners: [] };
    if (tk.commits.length > ts.commits) throw new Error(`a batch commits at most ${ts.commits} ticket bundles, got ${tk.commits.length}`);
    if (tk.winners.length > ts.winners) throw new Error(`a batch pays at most ${ts.winners} winning tickets, got ${tk.winners.length}`);
    const settings = { treeDepth: ts.treeDepth };
    const slot = (prefix: string, x: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(x)) {
        if (["rootIn", "domain", "batchNumber", "beaconBatch", "beacon"].includes(k)) continue;
        push(prefix + k[0].toUpperCase() + k.slice(1), v);
      }
    };
    let inflow = 0n, outflow = 0n;
    body.commits = [];
    for (let c = 0; c < ts.commits; c++) {
      const b = tk.commits[c];
      if (!b) {
        slot("tc", idleCommitInput(s, domain, tk.batchNumber));
        continue;
      }
      const r = await commitTicketBundle(s, b, settings, domain, tk.batchNumber).catch((e: Error) => {
        throw new TicketBundleError(c, e.message);
      });
      slot("tc", r.circuitInput);
      inflow += r.inflow;
      body.commits.push({ providerIdx: b.providerIdx, bundleIdx: r.bundleIdx, count: r.record.count, rootHash: r.record.root.hash, rootSum: r.record.root.sum });
    }
    body.winners = [];
    for (let x = 0; x < ts.winners; x++) {
      const win = tk.winners[x];
      if (!win) {
        slot("tw", idleWinnerInput(s, settings, tk.beaconBatch, tk.beacon));
        continue;
      }
      const r = settleWinner(s, win.bundleIdx, win.tickets, win.index, settings, tk.beaconBatch, tk.beacon);
      slot("tw", r.circuitInput);
      r.credits.forEach(([address, amount]) => credit(address, amount));
      outflow += r.outflow;
      body.winners.push({ bundleIdx: win.bundleIdx, ticketIndex: win.index });
    }
    const pool = updatePool(s, inflow, outflow);
    slot("tp", pool.circuitInput);
    body.pool = { poolIdx: pool.poolIdx, inflow, outflow };
    ticketInputs = { batchNumber: BigInt(tk.batchNumber), beaconBatch: BigInt(tk.beaconBatch), beacon: tk.beacon };
  } else if (input.tickets && (input.tickets.commits.length || input.tickets.winners.length)) {
    throw new Error("this instance has no ticket steps (circuits.json: ticketCommits, winners)");
  }

  // 3. Credit slots: the treasury first, then the addresses that have no leaf
  // yet (their addresses are published, slot k with new address k), then the
  // rest; each credited address once.
  opts.adjustCredits?.(credits);
  if (credits.size > p.slots) throw new Error(`the batch credits ${credits.size} accounts (treasury included); the instance has ${p.slots} slots`);
  const isNew = ([a]: [bigint, bigint]) => s.indexOf(a) === undefined;
  const [treasuryEntry, ...others] = credits.entries(); // the treasury's entry was made first
  const opening = others.filter(isNew);
  const ordered = [...opening, ...others.filter((e) => !isNew(e))];
  const entries = [treasuryEntry, ...(opts.slotOrder?.(ordered) ?? ordered)];
  for (let t = 0; t < p.slots; t++) {
    const e = entries[t];
    const idx = !e ? 0 : t === 0 ? 0 : opts.slotLeaf?.(e[0]) ?? s.leafFor(e[0]);
    const before = s.account(idx);
    push("cAccountIdx", BigInt(idx));
    push("cAddress", e ? e[0] : 0n);
    push("cDelta", e ? e[1] : 0n);
    openLeaf("c", idx);
    if (!e) continue;
    if (before.address === 0n) {
      // New address k belongs to slot k (a test hook may break the prefix; the circuit refuses that).
      if (!opts.unchecked && t > p.newAccounts) {
        throw new Error(`the batch opens ${opening.length} new accounts; the instance publishes at most ${p.newAccounts}`);
      }
      if (t >= 1 && t <= p.newAccounts) body.newAddresses[t - 1] = e[0];
      s.creditLeaves++;
    }
    s.write(idx, { ...before, address: e[0], balance: before.balance + e[1] });
    body.slots.push({ accountIdx: idx, delta: e[1] });
  }

  body.newAddresses = Array.from({ length: p.newAccounts }, (_, k) => body.newAddresses[k] ?? 0n);
  const bodyBytes = encodeBody(body, p);
  const publicInputs: PublicInputs = {
    oldRoot,
    newRoot: s.root,
    oldQueueHash,
    newQueueHash: s.queueHash,
    domain,
    bodyHash: bodyHash(bodyBytes),
    ...(ticketInputs ? { tickets: ticketInputs } : {}),
  };
  const { tickets: ticketPublic, ...sixInputs } = publicInputs;
  // An instance without tickets still has the three ticket inputs, unused and private.
  const circuitInput: Record<string, unknown> = { ...sixInputs, ...(ticketPublic ?? { batchNumber: 0n, beaconBatch: 0n, beacon: 0n }), ...w };
  return { state: s, publicInputs, body: bodyBytes, decoded: body, withdrawals, circuitInput };
}
