// The serving node's receipt outbox: nonces, bundles, and what happens to
// receipts the sequencer refuses (serving/outbox.ts).
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCrypto } from "../core/crypto.js";
import { receiptHash, type Receipt } from "../core/receipt.js";
import { Outbox } from "../serving/outbox.js";
import { inferenceFee } from "../serving/receipts.js";
import { params } from "./helpers.js";

describe("serving outbox", () => {
  const hash = (r: Receipt) => receiptHash(r, params.entries);
  const hex = (x: bigint) => `0x${x.toString(16).padStart(64, "0")}`;
  const receipt = (fee: bigint, contributor = 0xc1n): Omit<Receipt, "nonce"> => ({ providerIdx: 2, owner: 0xa1n, fee, inputHash: 1n, outputHash: 2n, entries: [{ contributor, score: 5n }] });
  const signature = { R8x: 1n, R8y: 2n, S: 3n };
  let outbox: Outbox;
  before(initCrypto);
  beforeEach(() => {
    outbox = new Outbox(join(mkdtempSync(join(tmpdir(), "poa-outbox-")), "outbox.db"), hash);
  });
  afterEach(() => outbox.close());

  it("issues consecutive nonces from the sequencer's next nonce, ids are the receipts' hashes, and the fees wait until acknowledged", () => {
    const a = outbox.issue(receipt(10n), 2, { tokens: 3 }, 7n);
    const b = outbox.issue(receipt(20n), 2, {}, 0n); // a stale floor never reuses a nonce
    expect([a.receipt.nonce, b.receipt.nonce]).to.deep.equal([7n, 8n]);
    expect(a.id).to.equal(hex(hash(a.receipt)));
    expect(a.detail).to.deep.equal({ tokens: 3 });
    expect(outbox.unsettledFees()).to.equal(30n);
    const bundle = outbox.addBundle({ receipts: [a.receipt, b.receipt], signature }, [a.id, b.id]);
    expect(outbox.inFlight()!.receiptIds).to.deep.equal([a.id, b.id]);
    expect(outbox.inFlight()!.bundle).to.deep.equal({ receipts: [a.receipt, b.receipt], signature });
    expect(() => outbox.addBundle({ receipts: [a.receipt], signature }, [a.id])).to.throw(`receipt ${a.id} is not waiting for a bundle`);
    expect(outbox.acknowledge(bundle.id)).to.equal(30n);
    expect(outbox.unsettledFees()).to.equal(0n);
    expect(outbox.inFlight()).to.equal(undefined);
    expect(outbox.counts()).to.deep.equal({ issued: 0, bundled: 0, accepted: 2, rejected: 0 });
  });

  it("a refused bundle is split into single receipts; a refused single receipt is rejected and the later ones move down a nonce, keeping their ids", () => {
    const [a, b, c] = [10n, 20n, 30n].map((fee) => outbox.issue(receipt(fee), 2, {}, 0n));
    const pair = outbox.addBundle({ receipts: [a.receipt, b.receipt], signature }, [a.id, b.id]);
    expect(() => outbox.reject(pair.id, "too_many_new_accounts")).to.throw("holds 2 receipts; only a single receipt is rejected");
    outbox.split(pair.id);
    expect(outbox.issued().map((r) => [r.id, r.alone])).to.deep.equal([[a.id, true], [b.id, true], [c.id, false]]);
    const alone = outbox.addBundle({ receipts: [a.receipt], signature }, [a.id]);
    const moved = outbox.reject(alone.id, "too_many_new_accounts: the bundle credits 4 accounts that have no leaf yet");
    expect(moved.map((r) => [r.id, r.receipt.nonce])).to.deep.equal([[b.id, 0n], [c.id, 1n]]);
    const cNow = outbox.receipt(c.id)!;
    expect(cNow.hash).to.equal(hex(hash({ ...c.receipt, nonce: 1n })));
    expect(outbox.receipt(cNow.hash)!.id).to.equal(c.id); // found by its new hash too
    expect(outbox.receipt(a.id)).to.include({ status: "rejected", error: "too_many_new_accounts: the bundle credits 4 accounts that have no leaf yet" });
    expect(outbox.unsettledFees()).to.equal(50n);
    expect(outbox.nextNonce(0n)).to.equal(2n);
  });

  it("charges the registered price per 1,000 tokens, rounded up", () => {
    expect(inferenceFee(1000n, 1)).to.equal(1n);
    expect(inferenceFee(10n ** 15n, 61)).to.equal(61n * 10n ** 12n);
    expect(inferenceFee(999n, 1)).to.equal(1n);
    expect(inferenceFee(1001n, 1)).to.equal(2n);
    expect(inferenceFee(0n, 500)).to.equal(0n);
  });
});
