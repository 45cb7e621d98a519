// The reference model on its own: payout rule, tree, public data, batch rules.
import { expect } from "chai";
import { initCrypto, poseidon } from "../core/crypto.js";
import { bodyLength } from "../core/params.js";
import { payout } from "../core/payout.js";
import { bodyHash, decodeBody, encodeBody } from "../core/publicData.js";
import { contentHash } from "../core/receipt.js";
import { buildBatch, RollupState } from "../core/rollup.js";
import { MerkleTree } from "../core/tree.js";
import { bundleFor, deposit, DOMAIN, expectReject, fundedWorld, params, provider, TREASURY, withdrawal } from "./helpers.js";

const cfg = { protocolBps: 500, ownerBps: 2000 };

describe("payout rule", () => {
  it("splits by basis points and pro rata, dust to the owner", () => {
    expect(payout(10000n, [1n, 2n], cfg)).to.deep.equal({ protocol: 500n, ownerTotal: 2000n, shares: [2500n, 5000n] });
    // 7501 * 1/3 and 7501 * 2/3 round down by 1/3 and 2/3: one unit of dust.
    expect(payout(10001n, [1n, 2n], cfg)).to.deep.equal({ protocol: 500n, ownerTotal: 2001n, shares: [2500n, 5000n] });
  });
  it("sends the whole pool to the owner when no score is positive", () => {
    expect(payout(999n, [0n, 0n], cfg)).to.deep.equal({ protocol: 49n, ownerTotal: 950n, shares: [0n, 0n] });
    expect(payout(999n, [], cfg)).to.deep.equal({ protocol: 49n, ownerTotal: 950n, shares: [] });
  });
  it("pays nothing for a zero fee and everything for the maximum fee", () => {
    expect(payout(0n, [5n, 7n], cfg)).to.deep.equal({ protocol: 0n, ownerTotal: 0n, shares: [0n, 0n] });
    const max = (1n << 80n) - 1n;
    const p = payout(max, [(1n << 32n) - 1n, 1n], cfg);
    expect(p.protocol + p.ownerTotal + p.shares[0] + p.shares[1]).to.equal(max);
  });
});

describe("merkle tree", () => {
  before(initCrypto);
  it("starts at the zero root and commits to each leaf by its path", () => {
    const t = new MerkleTree(3);
    let z = 0n;
    for (let i = 0; i < 3; i++) z = poseidon([z, z, z, z]);
    expect(t.root).to.equal(z);
    t.set(22, 42n);
    // leaf 22 = child 2 of node 5 (level 1), child 1 of node 1 (level 2), child 1 of the root
    const z1 = poseidon([0n, 0n, 0n, 0n]);
    const n5 = poseidon([0n, 0n, 42n, 0n]);
    const n1 = poseidon([z1, n5, z1, z1]);
    const z2 = poseidon([z1, z1, z1, z1]);
    expect(t.root).to.equal(poseidon([z2, n1, z2, z2]));
    expect(t.siblings(22)).to.deep.equal([[0n, 0n, 0n], [z1, z1, z1], [z2, z2, z2]]);
    expect(MerkleTree.rootFrom(42n, 22, t.siblings(22))).to.equal(t.root);
    expect(MerkleTree.rootFrom(0n, 21, t.siblings(21))).to.equal(t.root);
    const c = t.clone();
    c.set(1, 7n);
    expect(c.root).to.not.equal(t.root);
    expect(t.leaf(1)).to.equal(0n);
    expect(() => t.set(64, 1n)).to.throw("outside a 3-level 4-ary tree");
  });
});

describe("public data", () => {
  it("encodes big-endian fixed-width records and decodes them back", () => {
    const body = {
      ops: [{ accountIdx: 3, amount: 258n }], bundles: [{ providerIdx: 1, count: 2, totalFee: 5n }], slots: [{ accountIdx: 0, delta: 9n }, { accountIdx: 63, delta: 1n }], newAddresses: [0x7ea5n],
      commits: [{ providerIdx: 1, bundleIdx: 9, count: 16, rootHash: 0xabn, rootSum: 7n }], winners: [{ bundleIdx: 9, ticketIndex: 5 }], pool: { poolIdx: 2, inflow: 7n, outflow: 3n },
    };
    const bytes = encodeBody(body, params);
    // depth 3: a one-byte index; 1 op, 1 bundle, then (the test instance has tickets) 1 commit, 2 winners and the pool, 5 slots, 3 new-account addresses
    const tickets = (2 + 2 + 32 + 12) + 2 * (1 + 2) + (1 + 24);
    expect(bytes.length).to.equal(bodyLength(params)).and.to.equal(13 + 14 + tickets + 5 * 13 + 3 * 20);
    expect(Buffer.from(bytes.subarray(0, 13)).toString("hex")).to.equal("03" + "000000000000000000000102");
    expect(Buffer.from(bytes.subarray(27, 27 + 4)).toString("hex")).to.equal("01" + "09" + "0010");
    expect(Buffer.from(bytes.subarray(27 + 48, 27 + 54)).toString("hex")).to.equal("090005" + "000000");
    expect(Buffer.from(bytes.subarray(27 + 54, 27 + 79)).toString("hex")).to.equal("02" + "000000000000000000000007" + "000000000000000000000003");
    const slots = 27 + tickets;
    expect(Buffer.from(bytes.subarray(slots + 13, slots + 26)).toString("hex")).to.equal("3f" + "000000000000000000000001");
    expect(Buffer.from(bytes.subarray(slots + 65, slots + 85)).toString("hex")).to.equal("7ea5".padStart(40, "0"));
    const d = decodeBody(bytes, params);
    expect(d.commits).to.deep.equal(body.commits);
    expect(d.winners).to.deep.equal([...body.winners, { bundleIdx: 0, ticketIndex: 0 }]);
    expect(d.pool).to.deep.equal(body.pool);
    expect(d.ops[0]).to.deep.equal(body.ops[0]);
    expect(d.bundles[0]).to.deep.equal(body.bundles[0]);
    expect(d.slots[0]).to.deep.equal(body.slots[0]);
    expect(d.slots[1]).to.deep.equal(body.slots[1]);
    expect(d.slots[2]).to.deep.equal({ accountIdx: 0, delta: 0n });
    expect(d.newAddresses).to.deep.equal([0x7ea5n, 0n, 0n]);
    expect(bodyHash(bytes) < 1n << 253n).to.equal(true);
    expect(() => encodeBody({ ...body, ops: [{ accountIdx: 0, amount: 1n << 96n }] }, params)).to.throw("op amount");
  });
  it("hashes content into 248 bits", () => {
    expect(contentHash("abc")).to.equal(BigInt("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015"));
  });
});

describe("reference model batch rules", () => {
  it("credits every unit of every fee exactly once", async () => {
    const alice = await provider(1);
    let { state } = await fundedWorld([alice], 1000n);
    const owner = 0xb0n, c1 = 0xc1n, c2 = 0xc2n;
    const bundle = await bundleFor(state, alice, [{ owner, fee: 10001n, entries: [{ contributor: c1, score: 1n }, { contributor: c2, score: 2n }] }]);
    await expectReject(buildBatch(state, { ops: [], bundles: [bundle] }, DOMAIN), "exceed");
    ({ state } = await fundedWorld([alice], 20000n));
    const b = await buildBatch(state, { ops: [], bundles: [await bundleFor(state, alice, [{ owner, fee: 10001n, entries: [{ contributor: c1, score: 1n }, { contributor: c2, score: 2n }] }])] }, DOMAIN);
    const bal = (a: bigint) => b.state.account(b.state.indexOf(a)!).balance;
    expect([bal(TREASURY), bal(owner), bal(c1), bal(c2), bal(alice.address)]).to.deep.equal([500n, 2001n, 2500n, 5000n, 20000n - 10001n]);
    expect(b.decoded.slots.map((s) => s.delta)).to.deep.equal([500n, 2500n, 5000n, 2001n]);
    expect(b.state.account(b.state.indexOf(alice.address)!).nonce).to.equal(1n);
  });

  it("refuses replayed nonces, bad signatures, unknown providers and too many accounts", async () => {
    const alice = await provider(1);
    const { state } = await fundedWorld([alice], 10n ** 6n);
    const spec = { owner: 0xb0n, fee: 100n, entries: [{ contributor: 0xc1n, score: 1n }] };
    const good = await bundleFor(state, alice, [spec]);
    const after = (await buildBatch(state, { ops: [], bundles: [good] }, DOMAIN)).state;
    await expectReject(buildBatch(after, { ops: [], bundles: [good] }, DOMAIN), "does not match provider nonce");
    const forged = { ...good, signature: { ...good.signature, S: good.signature.S + 1n } };
    await expectReject(buildBatch(state, { ops: [], bundles: [forged] }, DOMAIN), "signature does not verify");
    await expectReject(buildBatch(state, { ops: [], bundles: [good] }, DOMAIN + 1n), "signature does not verify");
    const stranger = { ...good, receipts: good.receipts.map((r) => ({ ...r, providerIdx: 9 })) }; // a free leaf
    await expectReject(buildBatch(state, { ops: [], bundles: [stranger] }, DOMAIN), "does not exist");
    const wide = await bundleFor(state, alice, [{ owner: 0xb0n, fee: 100n, entries: [{ contributor: 0xc1n, score: 1n }, { contributor: 0xc2n, score: 1n }] }, { owner: 0xb1n, fee: 100n, entries: [{ contributor: 0xc3n, score: 1n }, { contributor: 0xc4n, score: 1n }] }]);
    await expectReject(buildBatch(state, { ops: [], bundles: [wide] }, DOMAIN), "the batch credits 7 accounts (treasury included); the instance has 5 slots");
    const fresh = await bundleFor(state, alice, [{ owner: 0xb0n, fee: 100n, entries: [{ contributor: 0xc1n, score: 1n }, { contributor: 0xc2n, score: 1n }] }, { owner: 0xb1n, fee: 1n, entries: [] }]);
    await expectReject(buildBatch(state, { ops: [], bundles: [fresh] }, DOMAIN), "the batch opens 4 new accounts; the instance publishes at most 3");
  });

  it("withdraws a whole balance only for the leaf's owner", async () => {
    const alice = await provider(1);
    const { state } = await fundedWorld([alice], 777n);
    const idx = state.indexOf(alice.address)!;
    const stolen = await buildBatch(state, { ops: [withdrawal(0xbadn, idx)], bundles: [] }, DOMAIN);
    expect(stolen.withdrawals).to.deep.equal([]);
    expect(stolen.state.account(idx).balance).to.equal(777n);
    const own = await buildBatch(state, { ops: [withdrawal(alice.address, idx)], bundles: [] }, DOMAIN);
    expect(own.withdrawals).to.deep.equal([{ address: alice.address, amount: 777n }]);
    expect(own.decoded.ops[0]).to.deep.equal({ accountIdx: idx, amount: 777n });
    expect(own.state.account(idx).balance).to.equal(0n);
  });

  it("tops up an existing account instead of opening a second one", async () => {
    const alice = await provider(1);
    const { state } = await fundedWorld([alice], 5n);
    const b = await buildBatch(state, { ops: [deposit(alice, 6n)], bundles: [] }, DOMAIN);
    expect(b.state.account(state.indexOf(alice.address)!).balance).to.equal(11n);
    expect(b.state.nextIndex).to.equal(state.nextIndex);
    expect(new RollupState(params, TREASURY).root).to.not.equal(state.root);
  });
});

