// The sequencer's side of payment tickets (docs/PROTOCOL.md §16): which ticket
// bundles a batch commits, which winners it pays under which beacon, when a
// beacon is due on L1, and what became of a ticket. The rules themselves are the
// model's (core/ticket*.ts) and the circuit's; this file only chooses.
//
// Batch numbers: the store counts batches from 1; the circuit, the contract's
// beacons and a bundle leaf's commitBatch count them from 0 (batch n here is
// n - 1 there).
import type { Contract } from "ethers";
import { ticketShape, type BatchParams } from "../core/params.js";
import { payout } from "../core/payout.js";
import type { BatchResult, RollupState, TicketBatchInput } from "../core/rollup.js";
import { expectedValue, POOL_ADDRESS, seedTicketHashes, winners, type Ticket } from "../core/ticket.js";
import type { BatchStatus, BatchTickets, Store, StoredTicketBundle } from "./store.js";

/** What a batch's ticket steps were chosen to be: stored with the batch, and the model's input. */
export interface ChosenTickets {
  stored: BatchTickets;
  input: Omit<TicketBatchInput, "batchNumber">;
}

export type TicketOutcome = "pending" | "won" | "lost";

/** GET /v1/receipts/{id} for a ticket. */
export interface TicketView {
  id: string;
  kind: "ticket";
  /** Of the ticket bundle: accepted, rejected, or the status of the batch that committed it. */
  status: "accepted" | "rejected" | BatchStatus | "batched";
  bundle: number;
  position: number;
  /** The batch that committed it (null before), and the beacon that decides it (null until recorded). */
  batch: number | null;
  beacon: string | null;
  winProb: string;
  face: string;
  expectedValue: string;
  /** The model's owner and the contributors, each with its share at the expected value and, if paid, at face value. */
  owner: { address: string; expected: string; paid: string | null };
  entries: { contributor: string; score: string; expected: string; paid: string | null }[];
  outcome: TicketOutcome;
  /** The batch that paid it, if it won and was paid, and that batch's status. */
  paidIn: number | null;
  paidStatus: BatchStatus | null;
  error: string | null;
}

export interface TicketEarnings {
  address: string;
  /** Committed tickets (in finalized batches) that credit the address, those that won, and those paid. */
  tickets: number;
  won: number;
  paid: number;
  /** OPEN base units: the payout rule at every ticket's expected value, and at face value over paid winners. */
  expected: string;
  realized: string;
  series: { batch: number; at: number; expected: string; realized: string }[];
}

export interface TicketOverview {
  /** The pool over finalized batches: what commits paid in, what winners took out, what it holds. */
  pool: { address: string; inflow: string; paidOut: string; balance: string };
  tickets: { committed: number; won: number; paid: number; waiting: number };
  bundles: { id: number; provider: number; count: number; rootSum: string; batch: number; beacon: string | null; firstTicket: string; winners: { index: number; id: string; face: string; paidIn: number | null }[] }[];
}

/** The part of a payout that `address` gets (as contributor and as owner), as a function of the fee; undefined if none. */
function shareOf(owner: bigint, entries: { contributor: bigint }[], address: bigint, split: (fee: bigint) => ReturnType<typeof payout>): ((fee: bigint) => bigint) | undefined {
  const slots = entries.map((e, k) => (e.contributor === address ? k : -1)).filter((k) => k >= 0);
  if (slots.length === 0 && owner !== address) return undefined;
  return (fee) => {
    const pay = split(fee);
    return slots.reduce((a, k) => a + pay.shares[k], owner === address ? pay.ownerTotal : 0n);
  };
}

/** What the pool pays a winner: its face value less the protocol's share, which stays in the pool (§16.4). */
export function winnerOutflow(t: Ticket, p: BatchParams): bigint {
  return t.receipt.fee - payout(t.receipt.fee, [], p).protocol;
}

/**
 * Whether ticket work fills the next batch (PROTOCOL §16.5). Commits and winners share a batch, and its
 * proof costs the same however few it holds: when one kind fills its records the batch waits for the
 * other to fill too, as any item waits, at most maxWaitMs from the oldest (Sequencer.maybeSeal). It does
 * not wait for winners that cannot come (no sealed batch awaits its beacon), nor when commits are
 * backlogged (twice a batch's records waiting). Receipts and L1 operations never wait for tickets.
 */
export async function ticketsFillBatch(
  shape: { commits: number; winners: number },
  w: { commitsWaiting: number; winnersDue: number; moreWinners: boolean; awaitingBeacon: () => Promise<boolean> },
): Promise<boolean> {
  const commitsFull = w.commitsWaiting >= shape.commits;
  const winnersFull = w.winnersDue >= shape.winners || w.moreWinners;
  if (commitsFull && winnersFull) return true;
  if (w.commitsWaiting >= 2 * shape.commits) return true;
  return commitsFull && !(await w.awaitingBeacon());
}

export class TicketSettler {
  readonly shape: ReturnType<typeof ticketShape>;
  /** Committed ticket bundle id -> its leaf in the state tree, and back. */
  private readonly leafOf = new Map<number, number>();
  private readonly bundleAt = new Map<number, number>();
  /** Ticket bundle id -> the (store-numbered) batch that committed it. */
  private readonly committedIn = new Map<number, number>();
  /** "bundleId:index" -> the batch that paid that winner. */
  private readonly paidIn = new Map<string, number>();
  /** Recorded beacons by 0-based batch number (never 0 once recorded). */
  private readonly beacons = new Map<number, bigint>();
  /** Winning indices of a committed bundle, once its beacon is known. */
  private readonly winnersOf = new Map<number, number[]>();

  constructor(
    readonly params: BatchParams,
    readonly store: Store,
    readonly rollup: Contract,
  ) {
    this.shape = ticketShape(params);
  }

  get enabled(): boolean {
    return this.shape.enabled;
  }

  /** Records what a sealed (or replayed) batch did with tickets. */
  noteBatch(number: number, t: BatchTickets | undefined, r: BatchResult): void {
    if (!t) return;
    t.commitIds.forEach((id, i) => {
      const leaf = r.decoded.commits![i].bundleIdx;
      this.leafOf.set(id, leaf);
      this.bundleAt.set(leaf, id);
      this.committedIn.set(id, number);
    });
    for (const w of t.winners) this.paidIn.set(`${w.ticketBundleId}:${w.index}`, number);
  }

  /** Forgets batches from `number` on: they were unsealed. */
  forgetFrom(number: number): void {
    for (const [id, n] of [...this.committedIn]) {
      if (n < number) continue;
      this.bundleAt.delete(this.leafOf.get(id)!);
      this.leafOf.delete(id);
      this.committedIn.delete(id);
      this.winnersOf.delete(id);
    }
    for (const [k, n] of [...this.paidIn]) if (n >= number) this.paidIn.delete(k);
  }

  /**
   * A stored bundle whose tickets' hashes are its tickets' ids, computed by the ingest check that
   * accepted it: the commit, the draw and each winner then never hash its 4^DT tickets again.
   */
  async withHashes(b: StoredTicketBundle): Promise<StoredTicketBundle> {
    if (!this.seeded.has(b.bundle.tickets)) {
      // (A bundle whose ids a later bundle took over, after a rejection, is simply hashed again.)
      const ids = await this.store.ticketIds(b.id);
      if (ids.length === b.bundle.tickets.length) seedTicketHashes(b.bundle, this.params.entries, ids.map((id) => BigInt(id)));
      this.seeded.add(b.bundle.tickets);
    }
    return b;
  }
  private readonly seeded = new WeakSet<Ticket[]>();

  private async bundleOf(id: number) {
    return (await this.withHashes((await this.store.ticketBundle(id))!)).bundle;
  }

  /** The model's ticket input for stored batch `number` (replay, or a batch just chosen). */
  async inputFor(number: number, t: BatchTickets | undefined): Promise<TicketBatchInput | undefined> {
    if (!this.enabled) return undefined;
    const tk = t ?? { commitIds: [], beaconBatch: 0, beacon: 0n, winners: [] };
    const bundle = (id: number) => this.bundleOf(id);
    return {
      batchNumber: number - 1,
      commits: await Promise.all(tk.commitIds.map(bundle)),
      beaconBatch: tk.beaconBatch,
      beacon: tk.beacon,
      winners: await Promise.all(tk.winners.map(async (w) => ({ bundleIdx: this.leafOf.get(w.ticketBundleId)!, index: w.index, tickets: await bundle(w.ticketBundleId) }))),
    };
  }

  /**
   * The pending ticket bundles a batch commits: each provider's in nonce order from `next` (its nonce
   * once the batch's receipt bundles are applied), while the tree has leaves for them. A provider's
   * later bundles wait behind one that does not continue its nonces.
   */
  chooseCommits(pending: StoredTicketBundle[], next: (provider: number) => bigint, leavesLeft: number): StoredTicketBundle[] {
    const out: StoredTicketBundle[] = [];
    const nonce = new Map<number, bigint | null>();
    for (const b of pending) {
      if (out.length >= Math.min(this.shape.commits, leavesLeft)) break;
      const n = nonce.has(b.providerIdx) ? nonce.get(b.providerIdx)! : next(b.providerIdx);
      if (n === null || b.bundle.firstNonce !== n) {
        nonce.set(b.providerIdx, null);
        continue;
      }
      out.push(b);
      nonce.set(b.providerIdx, n + BigInt(b.count));
    }
    return out;
  }

  /** The beacon of 0-based batch n as L1 holds it (0: not recorded yet). */
  async beaconOf(n: number): Promise<bigint> {
    const known = this.beacons.get(n);
    if (known) return known;
    const b = BigInt(await this.rollup.beacon(n));
    if (b !== 0n) this.beacons.set(n, b);
    return b;
  }

  private async winningIndices(id: number, beacon: bigint): Promise<number[]> {
    let w = this.winnersOf.get(id);
    if (!w) {
      w = winners(await this.bundleOf(id), this.params.entries, beacon);
      this.winnersOf.set(id, w);
    }
    return w;
  }

  /**
   * The winners the next batch pays: from the oldest commit batch whose beacon is recorded and that
   * has winners left, each bundle's in index order, up to the instance's NW, while the pool (with
   * this batch's `inflow`) can pay them and their credits fit the slots beside `credited` (the
   * receipts' addresses), the new ones within the new-account records and within `leaves`, the
   * leaves credits may still open (those reserved for depositors are not theirs). A winner that does
   * not fit waits, and its bundle's later winners with it.
   */
  async chooseWinners(s: RollupState, inflow: bigint, credited: Set<bigint>, leaves = Infinity): Promise<Pick<ChosenTickets["input"], "beaconBatch" | "beacon" | "winners"> & { ids: BatchTickets["winners"]; more: boolean }> {
    const none = { beaconBatch: 0, beacon: 0n, winners: [], ids: [], more: false };
    let found: (Pick<ChosenTickets["input"], "beaconBatch" | "beacon" | "winners"> & { ids: BatchTickets["winners"]; more: boolean }) | undefined;
    const open = new Map<number, { id: number; leaf: number; cursor: number }[]>();
    for (const [leaf, rec] of s.bundles) {
      const id = this.bundleAt.get(leaf);
      if (id === undefined || rec.cursor >= rec.count) continue;
      open.set(rec.commitBatch, [...(open.get(rec.commitBatch) ?? []), { id, leaf, cursor: rec.cursor }]);
    }
    const poolIdx = s.indexOf(POOL_ADDRESS);
    for (const n of [...open.keys()].sort((a, b) => a - b)) {
      const beacon = await this.beaconOf(n);
      if (beacon === 0n) continue;
      if (found) {
        // A batch pays one beacon's winners: any winner of a later commit batch waits for another batch.
        for (const o of open.get(n)!) if ((await this.winningIndices(o.id, beacon)).some((j) => j >= o.cursor)) return { ...found, more: true };
        continue;
      }
      let more = false;
      let pool = (poolIdx === undefined ? 0n : s.account(poolIdx).balance) + inflow;
      const addresses = new Set(credited);
      const chosen: TicketBatchInput["winners"] = [];
      const ids: BatchTickets["winners"] = [];
      for (const o of open.get(n)!.sort((a, b) => a.leaf - b.leaf)) {
        // Most bundles have paid all their winners long ago: only one with a winner left is read.
        const left = (await this.winningIndices(o.id, beacon)).filter((j) => j >= o.cursor);
        if (left.length === 0) continue;
        const bundle = await this.bundleOf(o.id);
        for (const j of left) {
          const t = bundle.tickets[j];
          const mine = [...t.receipt.entries.map((e) => e.contributor), t.receipt.owner];
          const after = new Set([...addresses, ...mine]);
          const cost = winnerOutflow(t, this.params);
          const opening = this.opening(s, after);
          if (chosen.length >= this.shape.winners || cost > pool || after.size > this.params.slots || opening > this.params.newAccounts || opening > leaves) {
            more = true; // this one waits, and its bundle's later winners with it
            break;
          }
          pool -= cost;
          mine.forEach((a) => addresses.add(a));
          chosen.push({ bundleIdx: o.leaf, index: j, tickets: bundle });
          ids.push({ ticketBundleId: o.id, index: j });
        }
      }
      if (chosen.length > 0) found = { beaconBatch: n, beacon, winners: chosen, ids, more };
      if (found?.more) return found;
    }
    return found ?? none;
  }

  /** Whether a sealed batch committed tickets whose beacon is not recorded yet: its winners may soon be due. */
  async awaitingBeacon(): Promise<boolean> {
    for (const n of new Set(this.committedIn.values())) if ((await this.beaconOf(n - 1)) === 0n) return true;
    return false;
  }

  private opening(s: RollupState, addresses: Set<bigint>): number {
    return [...addresses].filter((a) => s.indexOf(a) === undefined).length;
  }

  /**
   * A 0-based batch that committed tickets, is on L1 (below `onChain` batches there) and whose beacon
   * a recordBeacon call sent now can record (its commit block is past), or undefined.
   */
  async dueBeacon(onChain: number): Promise<number | undefined> {
    const waiting = [...new Set(this.committedIn.values())].map((n) => n - 1).filter((n) => n < onChain && !this.beacons.has(n)).sort((a, b) => a - b);
    for (const n of waiting) {
      if ((await this.beaconOf(n)) !== 0n) continue;
      const committedAt = Number(await this.rollup.commitBlock(n));
      if (committedAt > 0 && (await this.rollup.runner!.provider!.getBlockNumber()) >= committedAt) return n;
    }
    return undefined;
  }

  /**
   * An address's ticket earnings in finalized batches (PROTOCOL §16.4): expected, the payout rule applied to
   * every committed ticket at its expected value (what exact receipts would have paid), against realized, the
   * payout rule at face value over the winners paid; cumulative per batch that moved either.
   */
  async earnings(address: bigint): Promise<TicketEarnings> {
    const final = await this.finalBatches();
    const perBatch = new Map<number, { expected: bigint; realized: bigint }>();
    const add = (n: number, k: "expected" | "realized", v: bigint) => {
      const x = perBatch.get(n) ?? { expected: 0n, realized: 0n };
      x[k] += v;
      perBatch.set(n, x);
    };
    let tickets = 0, won = 0, paid = 0;
    for (const b of await this.store.committedTicketBundles()) {
      if (!final.has(b.batch!)) continue;
      const beacon = await this.beaconOf(b.batch! - 1);
      const wins = beacon === 0n ? [] : await this.winningIndices(b.id, beacon);
      b.bundle.tickets.forEach((t, j) => {
        const mine = shareOf(t.receipt.owner, t.receipt.entries, address, (fee) => payout(fee, t.receipt.entries.map((e) => e.score), this.params));
        if (!mine) return;
        tickets++;
        add(b.batch!, "expected", mine(expectedValue(t).value));
        if (!wins.includes(j)) return;
        won++;
        const payer = this.paidIn.get(`${b.id}:${j}`);
        if (payer === undefined || !final.has(payer)) return;
        paid++;
        add(payer, "realized", mine(t.receipt.fee));
      });
    }
    let expected = 0n, realized = 0n;
    const series = [...perBatch.keys()].sort((x, y) => x - y).map((n) => {
      expected += perBatch.get(n)!.expected;
      realized += perBatch.get(n)!.realized;
      return { batch: n, at: final.get(n)!, expected: expected.toString(), realized: realized.toString() };
    });
    return { address: `0x${address.toString(16).padStart(40, "0")}`, tickets, won, paid, expected: expected.toString(), realized: realized.toString(), series };
  }

  /** Finalized batch numbers with the time each was finalized (ms). */
  private async finalBatches(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const b of await this.store.batches()) if (b.status === "finalized") out.set(b.number, b.updatedAt);
    return out;
  }

  /** The explorer's ticket page: the pool, and the latest ticket bundles with every winner and whether it was paid. */
  /** The pool and ticket counts, and the newest `limit` committed bundles (with an id below `before`: the next page). */
  async overview(limit: number, before?: number): Promise<TicketOverview> {
    const final = await this.finalBatches();
    const all = await this.store.committedTicketBundles();
    let inflow = 0n, outflow = 0n, committed = 0, wonCount = 0, paidCount = 0;
    const bundles: TicketOverview["bundles"] = [];
    for (const b of all) {
      const beacon = await this.beaconOf(b.batch! - 1);
      const wins = beacon === 0n ? [] : await this.winningIndices(b.id, beacon);
      const ids = await this.store.ticketIds(b.id);
      const winners = wins.map((j) => ({ index: j, id: ids[j], face: b.bundle.tickets[j].receipt.fee.toString(), paidIn: this.paidIn.get(`${b.id}:${j}`) ?? null }));
      if (final.has(b.batch!)) inflow += b.rootSum;
      for (const w of winners) if (w.paidIn !== null && final.has(w.paidIn)) outflow += winnerOutflow(b.bundle.tickets[w.index], this.params);
      committed += b.count;
      wonCount += wins.length;
      paidCount += winners.filter((w) => w.paidIn !== null).length;
      bundles.push({ id: b.id, provider: b.providerIdx, count: b.count, rootSum: b.rootSum.toString(), batch: b.batch!, beacon: beacon === 0n ? null : beacon.toString(), winners, firstTicket: ids[0] });
    }
    return {
      pool: { address: `0x${POOL_ADDRESS.toString(16)}`, inflow: inflow.toString(), paidOut: outflow.toString(), balance: (inflow - outflow).toString() },
      tickets: { committed, won: wonCount, paid: paidCount, waiting: wonCount - paidCount },
      bundles: bundles.reverse().filter((b) => before === undefined || b.id < before).slice(0, limit),
    };
  }

  /** A ticket's view, or undefined if no ticket has this id. */
  async view(id: string): Promise<TicketView | undefined> {
    const found = await this.store.ticket(id.toLowerCase());
    return found && (await this.viewsIn(found.bundle, [{ id, position: found.position }]))[0];
  }

  /** Views of tickets of one bundle (a bundle just accepted: all of them), its batch, beacon and winners read once. */
  async viewsIn(b: StoredTicketBundle, at: { id: string; position: number }[]): Promise<TicketView[]> {
    const commit = b.batch === null ? undefined : await this.store.batch(b.batch);
    const beacon = b.batch === null ? 0n : await this.beaconOf(b.batch - 1);
    const won = beacon === 0n ? undefined : new Set(await this.winningIndices(b.id, beacon));
    const addr = (a: bigint) => `0x${a.toString(16).padStart(40, "0")}`;
    const views: TicketView[] = [];
    for (const { id, position } of at) {
      const t = b.bundle.tickets[position];
      const outcome: TicketOutcome = won === undefined ? "pending" : won.has(position) ? "won" : "lost";
      const paidIn = this.paidIn.get(`${b.id}:${position}`) ?? null;
      const paid = paidIn === null ? undefined : await this.store.batch(paidIn);
      const scores = t.receipt.entries.map((e) => e.score);
      const atEv = payout(expectedValue(t).value, scores, this.params), atFace = paidIn === null ? undefined : payout(t.receipt.fee, scores, this.params);
      views.push({
        id: id.toLowerCase(), kind: "ticket", status: b.status === "batched" ? commit!.status : b.status, bundle: b.id, position, batch: b.batch,
        beacon: beacon === 0n ? null : beacon.toString(), winProb: t.winProb.toString(), face: t.receipt.fee.toString(), expectedValue: expectedValue(t).value.toString(),
        owner: { address: addr(t.receipt.owner), expected: atEv.ownerTotal.toString(), paid: atFace?.ownerTotal.toString() ?? null },
        entries: t.receipt.entries.map((e, k) => ({ contributor: addr(e.contributor), score: e.score.toString(), expected: atEv.shares[k].toString(), paid: atFace?.shares[k].toString() ?? null })),
        outcome, paidIn, paidStatus: paid?.status ?? null, error: b.error,
      });
    }
    return views;
  }
}
