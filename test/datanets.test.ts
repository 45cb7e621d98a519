// Datanets: canonical content and its hash, the content store, the
// DatanetRegistry contract, and /v1/datanets over real HTTP against a real
// `hardhat node`.
import { expect } from "chai";
import hre from "hardhat";
import "@nomicfoundation/hardhat-ethers";
import { Contract, type Wallet } from "ethers";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalRecord, canonicalText, contributionHash, MAX_CONTENT_BYTES } from "../attribution/datanet/content.js";
import { commitTokens, contributionTokenRoot, signConsent, signDatanetRequest, signTokenConsent } from "../attribution/datanet/registry.js";
import { initCrypto } from "../core/crypto.js";
import { FIELD_MODULUS } from "../core/field.js";
import { CONTRIBUTION_TOKEN_DEPTH, TokenCommitment } from "../core/token-commitment.js";
import { ContentStore } from "../attribution/datanet/store.js";
import { startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { deployRollup, type Deployment } from "../ops/deploy.js";
import { startService, type Service } from "../sequencer/service.js";
import { INSTANCE, OPEN } from "./helpers.js";
import { http } from "./lib/http.js";
import { poaExec } from "./lib/poa.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("utf8");

describe("datanet content", () => {
  it("canonical text: NFC, \\n line ends; the hash is SHA-256 of those bytes", () => {
    const a = canonicalText("Cafe\u0301\r\nline two\rthree");
    expect(hex(a)).to.equal("Café\nline two\nthree");
    expect(contributionHash(a)).to.equal("0x" + createHash("sha256").update("Café\nline two\nthree").digest("hex"));
    expect(contributionHash(canonicalText(Buffer.from("Café\nline two\nthree")))).to.equal(contributionHash(a));
  });

  it("canonical JSON records: sorted keys at every depth, no whitespace", () => {
    const r = canonicalRecord({ b: 1, a: { z: [3, { y: true, x: null }], c: "é" } });
    expect(hex(r)).to.equal('{"a":{"c":"é","z":[3,{"x":null,"y":true}]},"b":1}');
    expect(contributionHash(canonicalRecord({ a: { c: "é", z: [3, { x: null, y: true }] }, b: 1 }))).to.equal(contributionHash(r));
  });

  it("refuses empty, oversized, invalid UTF-8 and non-record content by name", () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as { code: string }).code;
      }
      return "accepted";
    };
    expect(code(() => canonicalText(" \n\t"))).to.equal("empty_content");
    expect(code(() => canonicalText(Buffer.from([0x68, 0xc3, 0x28])))).to.equal("invalid_utf8");
    expect(code(() => canonicalText("x".repeat(MAX_CONTENT_BYTES + 1)))).to.equal("content_too_large");
    expect(code(() => canonicalText("x".repeat(MAX_CONTENT_BYTES)))).to.equal("accepted");
    expect(code(() => canonicalRecord([1, 2]))).to.equal("not_a_record");
    expect(code(() => canonicalRecord("text"))).to.equal("not_a_record");
    expect(code(() => canonicalRecord({}))).to.equal("empty_content");
  });
});

describe("content store", () => {
  it("stores by hash, and refuses to serve bytes changed on disk", () => {
    const dir = mkdtempSync(join(tmpdir(), "poa-store-"));
    const store = new ContentStore(dir);
    const bytes = canonicalText("the quick brown fox");
    const hash = store.put(bytes);
    expect(hash).to.equal(contributionHash(bytes));
    expect(store.put(bytes)).to.equal(hash); // idempotent
    expect(Buffer.from(store.get(hash)).equals(Buffer.from(bytes))).to.equal(true);
    const file = join(dir, hash.slice(2, 4), hash.slice(2));
    writeFileSync(file, "the quick brown cat");
    expect(() => store.get(hash)).to.throw(`content ${hash} is corrupted on disk`);
    expect(() => store.get("0x" + "ab".repeat(32))).to.throw("no content 0x" + "ab".repeat(32));
    expect(() => store.get("abc")).to.throw("a content hash is 0x and 64 lowercase hex digits");
    expect(readdirSync(join(dir, hash.slice(2, 4)))).to.deep.equal([hash.slice(2)]); // no temporary files left
  });
});

describe("DatanetRegistry", function () {
  type Signer = Awaited<ReturnType<typeof hre.ethers.getSigners>>[number];
  let registry: Contract, token: Contract;
  let curator: Signer, alice: Signer, bob: Signer, relayer: Signer;
  const LOCK = 3600;
  const h1 = contributionHash(canonicalText("first contribution"));
  const h2 = contributionHash(canonicalText("second contribution"));

  const as = (c: Contract, who: Signer) => c.connect(who as never) as Contract;
  /** `who` commits to registering `hash` in `datanet` for `contributor`; returns the salt once the commitment is mined. */
  const committed = async (who: Signer, datanet: number, hash: string, contributor: Signer, salt = hre.ethers.hexlify(hre.ethers.randomBytes(32))) => {
    await (await as(registry, who).commit(await registry.commitmentOf(datanet, hash, await contributor.getAddress(), salt))).wait();
    return salt;
  };
  const reverts = async (p: Promise<unknown>, error: string) => {
    let msg = "";
    await p.catch((e) => (msg = String(e?.message ?? e)));
    expect(msg, `expected ${error}`).to.contain(error);
  };

  before(async () => {
    await hre.run("compile", { quiet: true });
    [curator, alice, bob, relayer] = (await hre.ethers.getSigners()).slice(10, 14);
    const t = await hre.ethers.getContractFactory("OpenToken");
    token = (await t.deploy(await (await hre.ethers.getSigners())[0].getAddress())) as unknown as Contract;
    const r = await hre.ethers.getContractFactory("DatanetRegistry");
    registry = (await r.deploy(await token.getAddress(), LOCK)) as unknown as Contract;
    await (await token.transfer(await alice.getAddress(), 100n * OPEN)).wait();
  });

  it("creates a datanet with its curator, license and kind, and says so in an event", async () => {
    await expectEvent(as(registry, alice).createDatanet("medical-qa", "Q&A pairs", "CC-BY-4.0", 0, await curator.getAddress()), "DatanetCreated", [1n, await curator.getAddress(), 0n, "medical-qa", "CC-BY-4.0"]);
    const d = await registry.datanet(1);
    expect([d.name, d.description, d.license, d.curator, d.kind, d.contributionCount]).to.deep.equal(["medical-qa", "Q&A pairs", "CC-BY-4.0", await curator.getAddress(), 0n, 0n]);
    await reverts(registry.createDatanet("", "", "MIT", 0, await curator.getAddress()), "EmptyName");
    await reverts(registry.createDatanet("x".repeat(65), "", "MIT", 0, await curator.getAddress()), "TextTooLong");
    await reverts(registry.createDatanet("n", "", "MIT", 0, hre.ethers.ZeroAddress), "ZeroCurator");
  });

  it("registers a contribution with a stake, and refuses the same content twice in a datanet", async () => {
    await (await as(token, alice).approve(await registry.getAddress(), 10n * OPEN)).wait();
    await reverts(as(registry, alice).contribute(1, h1, 10n * OPEN, hre.ethers.ZeroHash), "NoCommitment");
    await expectEvent(as(registry, alice).contribute(1, h1, 10n * OPEN, await committed(alice, 1, h1, alice)), "ContributionRegistered", [1n, 1n, await alice.getAddress(), h1, 10n * OPEN]);
    expect(await token.balanceOf(await registry.getAddress())).to.equal(10n * OPEN);
    const c = await registry.contribution(1);
    expect([c.datanetId, c.contentHash, c.contributor, c.stake, c.slashed]).to.deep.equal([1n, h1, await alice.getAddress(), 10n * OPEN, false]);
    expect(await registry.contributionIdOf(1, h1)).to.equal(1n);
    await reverts(as(registry, bob).contribute(1, h1, 0, await committed(bob, 1, h1, bob)), "DuplicateContent");
    await reverts(as(registry, bob).contribute(7, h2, 0, await committed(bob, 7, h2, bob)), "UnknownDatanet");
    await reverts(as(registry, bob).contribute(1, hre.ethers.ZeroHash, 0, await committed(bob, 1, hre.ethers.ZeroHash, bob)), "ZeroContentHash");
    // The same content may enter another datanet.
    await (await registry.createDatanet("other", "", "MIT", 0, await curator.getAddress())).wait();
    await expectEvent(as(registry, bob).contribute(2, h1, 0, await committed(bob, 2, h1, bob)), "ContributionRegistered", [2n, 2n, await bob.getAddress(), h1, 0n]);
  });

  it("relays a registration signed by its contributor (EIP-712), and refuses a forged consent", async () => {
    const sig = await signConsent(bob as never, registry, 1, h2);
    const salt = await committed(relayer, 1, h2, bob);
    await reverts(as(registry, relayer).contributeFor(1, h2, await alice.getAddress(), salt, sig), "InvalidContributorSignature");
    await expectEvent(as(registry, relayer).contributeFor(1, h2, await bob.getAddress(), salt, sig), "ContributionRegistered", [3n, 1n, await bob.getAddress(), h2, 0n]);
    await reverts(as(registry, relayer).contributeFor(1, h2, await bob.getAddress(), salt, sig), "DuplicateContent");
  });

  it("cannot be front-run: a copied hash needs its own commitment a block old, and the earliest commitment wins", async () => {
    const victim = bob, attacker = alice;
    const h = contributionHash(canonicalText("a recipe the attacker wants credit for"));
    const sig = await signConsent(victim as never, registry, 1, h);
    const salt = await committed(relayer, 1, h, victim);
    // The relayed reveal is pending; the attacker sees its hash and tries to register it first, in the same block.
    await hre.network.provider.send("evm_setAutomine", [false]);
    try {
      const attackerSalt = hre.ethers.hexlify(hre.ethers.randomBytes(32));
      await as(registry, attacker).commit(await registry.commitmentOf(1, h, await attacker.getAddress(), attackerSalt), { gasLimit: 100_000 });
      const steal = await as(registry, attacker).contribute(1, h, 0, attackerSalt, { gasLimit: 500_000, maxPriorityFeePerGas: 10n ** 10n, maxFeePerGas: 10n ** 11n });
      await as(registry, relayer).contributeFor(1, h, await victim.getAddress(), salt, sig, { gasLimit: 500_000 });
      await hre.network.provider.send("evm_mine", []);
      // The attacker's registration was mined first, in the block of its own commitment, and reverted.
      const stolen = (await hre.ethers.provider.getTransactionReceipt(steal.hash))!;
      expect(stolen.status).to.equal(0);
      const trace = await hre.network.provider.send("debug_traceTransaction", [steal.hash, { disableStorage: true, disableMemory: true, disableStack: true }]);
      expect(registry.interface.parseError(`0x${String(trace.returnValue).replace(/^0x/, "")}`)?.name).to.equal("CommitmentTooRecent");
      const id = await registry.contributionIdOf(1, h);
      expect((await registry.contribution(id)).contributor).to.equal(await victim.getAddress());
      // A block later the attacker's commitment is old enough, but younger than the victim's.
      await hre.network.provider.send("evm_setAutomine", [true]);
      await reverts(as(registry, attacker).contribute(1, h, 0, attackerSalt), "DuplicateContent");
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }

    // A reveal that is delayed still wins against a later commitment: the content passes to it, and the displaced stake goes back.
    const h3 = contributionHash(canonicalText("a delayed reveal"));
    const victimSalt = await committed(relayer, 1, h3, victim);
    const committedAt = BigInt((await hre.ethers.provider.getBlockNumber()));
    await (await as(token, attacker).approve(await registry.getAddress(), 2n * OPEN)).wait();
    const attackerSalt = await committed(attacker, 1, h3, attacker);
    await (await as(registry, attacker).contribute(1, h3, 2n * OPEN, attackerSalt)).wait();
    const id = await registry.contributionIdOf(1, h3);
    const before = await token.balanceOf(await attacker.getAddress());
    await expectEvent(as(registry, relayer).contributeFor(1, h3, await victim.getAddress(), victimSalt, await signConsent(victim as never, registry, 1, h3)), "ContributionReassigned", [id, await attacker.getAddress(), await victim.getAddress(), committedAt]);
    const c = await registry.contribution(id);
    expect([c.contributor, c.stake, c.committedAt]).to.deep.equal([await victim.getAddress(), 0n, committedAt]);
    expect((await token.balanceOf(await attacker.getAddress())) - before).to.equal(2n * OPEN);
    // The registration does not move again: the attacker's commitment is younger.
    await reverts(as(registry, attacker).contribute(1, h3, 0, await committed(attacker, 1, h3, attacker)), "DuplicateContent");
  });

  it("locks a stake, returns it after the lock, and lets only the curator slash", async () => {
    await reverts(as(registry, alice).withdrawStake(1), "StakeLocked");
    await reverts(as(registry, bob).withdrawStake(1), "NotContributor");
    await reverts(as(registry, alice).slash(1, 1), "NotCurator");
    // Bob stakes on his relayed contribution; the curator slashes it as adversarial.
    await (await as(token, alice).transfer(await bob.getAddress(), 4n * OPEN)).wait();
    await (await as(token, bob).approve(await registry.getAddress(), 4n * OPEN)).wait();
    await expectEvent(as(registry, bob).addStake(3, 4n * OPEN), "StakeAdded", [3n, await bob.getAddress(), 4n * OPEN, 4n * OPEN]);
    const before = await token.balanceOf(await curator.getAddress());
    await expectEvent(as(registry, curator).slash(3, 1), "ContributionSlashed", [3n, 1n, 1n, 4n * OPEN, await curator.getAddress()]);
    expect((await token.balanceOf(await curator.getAddress())) - before).to.equal(4n * OPEN);
    expect((await registry.contribution(3)).slashed).to.equal(true);
    await reverts(as(registry, curator).slash(3, 0), "AlreadySlashed");
    await reverts(as(registry, bob).withdrawStake(3), "AlreadySlashed");
    // Alice waits out the lock and takes her stake back, once.
    await hre.network.provider.send("evm_increaseTime", [LOCK]);
    await hre.network.provider.send("evm_mine");
    const a0 = await token.balanceOf(await alice.getAddress());
    await expectEvent(as(registry, alice).withdrawStake(1), "StakeWithdrawn", [1n, await alice.getAddress(), 10n * OPEN]);
    expect((await token.balanceOf(await alice.getAddress())) - a0).to.equal(10n * OPEN);
    await reverts(as(registry, alice).withdrawStake(1), "NothingStaked");
    expect(await token.balanceOf(await registry.getAddress())).to.equal(0n);
  });

  it("names unknown contributions, zero stakes and a zero curator", async () => {
    await reverts(as(registry, curator).slash(99, 0), "UnknownContribution");
    await reverts(as(registry, alice).withdrawStake(0), "UnknownContribution");
    await reverts(as(registry, alice).addStake(1, 0), "ZeroAmount");
    await reverts(as(registry, curator).setCurator(1, hre.ethers.ZeroAddress), "ZeroCurator");
    await reverts(registry.createDatanet("n", "d".repeat(1025), "MIT", 0, await curator.getAddress()), "TextTooLong");
    await reverts(registry.createDatanet("n", "", "L".repeat(65), 0, await curator.getAddress()), "TextTooLong");
  });

  it("commits a contribution's tokens once, from its contributor or relayed with its consent; the curator slashes a root that is not the content's", async () => {
    await initCrypto();
    const text = "Fold the saffron into warm quince purée before the almonds brown.";
    const h4 = contributionHash(canonicalText(text));
    await (await as(registry, alice).contribute(1, h4, 0, await committed(alice, 1, h4, alice))).wait();
    const id = Number(await registry.contributionIdOf(1, h4));
    const root = await contributionTokenRoot(canonicalText(text));
    expect(root).to.equal(TokenCommitment.ofText(text, CONTRIBUTION_TOKEN_DEPTH).root);
    const hex32 = (x: bigint) => hre.ethers.toBeHex(x, 32);
    await reverts(as(registry, bob).commitTokens(id, hex32(root)), "NotContributor");
    await reverts(as(registry, alice).commitTokens(id, hre.ethers.ZeroHash), "TokenRootNotInField");
    await reverts(as(registry, alice).commitTokens(id, hex32(FIELD_MODULUS)), "TokenRootNotInField");
    // Alice commits the root of other text: it is on L1, once, and the curator who recomputes it from the content slashes her.
    const wrong = await contributionTokenRoot(canonicalText("Fold the saffron into cold quince purée before the almonds brown."));
    await expectEvent(as(registry, alice).commitTokens(id, hex32(wrong)), "TokensCommitted", [BigInt(id), await alice.getAddress(), hex32(wrong)]);
    expect(BigInt(await registry.tokenRootOf(id))).to.equal(wrong);
    await reverts(as(registry, alice).commitTokens(id, hex32(root)), "TokensAlreadyCommitted");
    expect(wrong).to.not.equal(root);
    await expectEvent(as(registry, curator).slash(id, 3), "ContributionSlashed", [BigInt(id), 1n, 3n, 0n, await curator.getAddress()]);
    // Relayed: the relayer pays, the contributor signs TokenCommitment(contributionId, tokenRoot).
    // The consent names the content, so an upload signs it with the registration's, before the contribution has an id.
    const recipe = "a recipe the attacker wants credit for"; // Bob's, since the front-running test
    const hr = contributionHash(canonicalText(recipe));
    const bobs = Number(await registry.contributionIdOf(1, hr));
    const r2 = await contributionTokenRoot(canonicalText(recipe));
    await reverts(commitTokens(as(registry, relayer), { contributionId: bobs, tokenRoot: r2, signature: await signTokenConsent(alice as never, registry, 1, hr, r2) }), "InvalidContributorSignature");
    await reverts(commitTokens(as(registry, relayer), { contributionId: bobs, tokenRoot: r2 + 1n, signature: await signTokenConsent(bob as never, registry, 1, hr, r2) }), "InvalidContributorSignature");
    await reverts(commitTokens(as(registry, relayer), { contributionId: bobs, tokenRoot: r2, signature: await signTokenConsent(bob as never, registry, 2, hr, r2) }), "InvalidContributorSignature");
    await commitTokens(as(registry, relayer), { contributionId: bobs, tokenRoot: r2, signature: await signTokenConsent(bob as never, registry, 1, hr, r2) });
    expect(BigInt(await registry.tokenRootOf(bobs))).to.equal(r2);
    await reverts(as(registry, bob).commitTokens(3, hex32(r2)), "AlreadySlashed"); // contribution 3 was slashed
    // A contribution that passes to an earlier commitment loses the displaced contributor's token root.
    const h5 = contributionHash(canonicalText("a reveal that arrives late"));
    const bobSalt = await committed(relayer, 1, h5, bob);
    await (await as(registry, alice).contribute(1, h5, 0, await committed(alice, 1, h5, alice))).wait();
    const moved = Number(await registry.contributionIdOf(1, h5));
    await (await as(registry, alice).commitTokens(moved, hex32(r2))).wait();
    await expectEvent(as(registry, relayer).contributeFor(1, h5, await bob.getAddress(), bobSalt, await signConsent(bob as never, registry, 1, h5)), "TokensCommitted", [BigInt(moved), await bob.getAddress(), hre.ethers.ZeroHash]);
    expect(await registry.tokenRootOf(moved)).to.equal(hre.ethers.ZeroHash);
  });

  it("hands curation over only from the curator", async () => {
    await reverts(as(registry, alice).setCurator(1, await alice.getAddress()), "NotCurator");
    await expectEvent(as(registry, curator).setCurator(1, await bob.getAddress()), "CuratorChanged", [1n, await curator.getAddress(), await bob.getAddress()]);
    await reverts(as(registry, curator).slash(1, 0), "NotCurator");
  });

  async function expectEvent(tx: Promise<{ wait(): Promise<{ logs: unknown[] } | null> }>, name: string, args: unknown[]): Promise<void> {
    const receipt = (await (await tx).wait())!;
    const parsed = receipt.logs.map((l) => registry.interface.parseLog(l as never)).filter((l) => l?.name === name);
    expect(parsed.length, `${name} emitted`).to.equal(1);
    expect([...parsed[0]!.args]).to.deep.equal(args);
  }
});

describe("/v1/datanets over HTTP", function () {
  let chain: LocalChain;
  let d: Deployment;
  let svc: Service;
  let curator: Wallet, alice: Wallet;
  const api = (method: string, path: string, body?: unknown) => http(svc.url, method, path, body);
  /** A creation request signed by `creator` (the curator unless given). */
  const signedCreate = async (fields: { name: string; description?: string; license: string; kind: string; curator: string }, creator: Wallet = curator, deadline = Math.floor(Date.now() / 1000) + 600) => {
    const request = { description: "", ...fields, kind: fields.kind as "text", creator: creator.address, deadline };
    return { ...request, signature: await signDatanetRequest(creator, d.registry.connect(chain.provider) as Contract, request) };
  };
  const text = async (path: string, body: Uint8Array | string, headers: Record<string, string>) => {
    const res = await fetch(`${svc.url}${path}`, { method: "POST", headers: { "content-type": "text/plain", ...headers }, body: typeof body === "string" ? body : Buffer.from(body) });
    return { status: res.status, json: await res.json() };
  };

  before(async () => {
    chain = await startLocalChain(19545 + (process.pid % 1000));
    [curator, alice] = [3, 4].map((i) => devWallet(i, chain.provider));
    const deployer = devWallet(0, chain.provider);
    d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: devWallet(1).address });
    svc = await startService({
      rpcUrl: chain.url, rollupAddress: await d.rollup.getAddress(), sequencerKey: devWallet(1).privateKey, instance: INSTANCE,
      dbFile: join(mkdtempSync(join(tmpdir(), "poa-")), "sequencer.db"), port: 0, maxWaitMs: 300, pollMs: 100, proverThreads: 1,
      registryAddress: await d.registry.getAddress(), relayerKey: devWallet(19).privateKey, registryFromBlock: d.registryBlock,
      relayLimits: { perAddress: 6, total: 100, windowMs: 3_600_000 },
    });
  });

  after(async () => {
    await svc?.close();
    await chain?.stop();
  });

  it("creates datanets, uploads text and JSON, lists them with provenance and serves checked content", async () => {
    const t = await api("POST", "/v1/datanets", await signedCreate({ name: "recipes", description: "cooking steps", license: "CC0-1.0", kind: "text", curator: curator.address }));
    expect(t.status).to.equal(201);
    expect(t.json.datanet).to.include({ id: 1, name: "recipes", kind: "text", curator: curator.address, contributions: 0 });
    const j = await api("POST", "/v1/datanets", await signedCreate({ name: "labels", license: "MIT", kind: "json", curator: curator.address }));
    expect(j.json.datanet).to.include({ id: 2, kind: "json", description: "" });

    const body = "Whisk two eggs.\r\nFold in the flour.";
    const hash = contributionHash(canonicalText(body));
    const sig = await signConsent(alice, d.registry.connect(chain.provider) as Contract, 1, hash);
    const up = await text("/v1/datanets/1/contributions", body, { "x-contributor": alice.address, "x-signature": sig });
    expect(up.status, JSON.stringify(up.json)).to.equal(201);
    expect(up.json).to.include({ id: 1, datanetId: 1, contentHash: hash, contributor: alice.address, stake: "0", slashed: false, tokenRoot: null });
    const onChain = await chain.provider.getTransactionReceipt(up.json.txHash);
    expect(onChain!.blockNumber).to.equal(up.json.blockNumber);

    const record = { text: "great product", label: "positive" };
    const rhash = contributionHash(canonicalRecord(record));
    const rsig = await signConsent(alice, d.registry.connect(chain.provider) as Contract, 2, rhash);
    const rup = await api("POST", "/v1/datanets/2/contributions", { contributor: alice.address, signature: rsig, record });
    expect(rup.status, JSON.stringify(rup.json)).to.equal(201);

    const list = await api("GET", "/v1/datanets");
    expect(list.json.datanets.map((x: { id: number; contributions: number }) => [x.id, x.contributions])).to.deep.equal([[1, 1], [2, 1]]);
    const contributions = await api("GET", "/v1/datanets/1/contributions");
    expect(contributions.json.contributions).to.have.length(1);
    expect(contributions.json.contributions[0]).to.include({ contentHash: hash, contributor: alice.address, txHash: up.json.txHash });
    const one = await api("GET", `/v1/datanets/1/contributions/${hash}`);
    expect(one.json).to.include({ id: 1, txHash: up.json.txHash });
    const content = await fetch(`${svc.url}/v1/datanets/1/contributions/${hash}/content`);
    expect(content.headers.get("content-type")).to.match(/^text\/plain/);
    expect(await content.text()).to.equal("Whisk two eggs.\nFold in the flour.");
    const rcontent = await fetch(`${svc.url}/v1/datanets/2/contributions/${rhash}/content`);
    expect(await rcontent.text()).to.equal('{"label":"positive","text":"great product"}');
  });

  it("relays an upload's token commitment with its registration, and refuses a consent to another root before registering", async () => {
    const registry = d.registry.connect(chain.provider) as Contract;
    const carol = devWallet(6, chain.provider); // not Alice: her relayed writes are counted below
    const body = "Simmer the quince slowly with a strip of lemon peel.";
    const bytes = canonicalText(body);
    const hash = contributionHash(bytes);
    const root = await contributionTokenRoot(bytes);
    const before = Number(await d.registry.contributionCount());
    // A consent to the root of other text: refused by name, nothing registered.
    const otherRoot = await contributionTokenRoot(canonicalText("Simmer the quince quickly."));
    const bad = await api("POST", "/v1/datanets/1/contributions", { contributor: carol.address, signature: await signConsent(carol, registry, 1, hash), tokenSignature: await signTokenConsent(carol, registry, 1, hash, otherRoot), text: body });
    expect(bad.status).to.equal(401);
    expect(bad.json.error).to.include({ code: "invalid_token_signature" });
    expect(bad.json.error.message).to.contain(hre.ethers.toBeHex(root, 32));
    expect(Number(await d.registry.contributionCount())).to.equal(before);
    // The consent to its own root: registered, and the root is on L1.
    const up = await text("/v1/datanets/1/contributions", body, { "x-contributor": carol.address, "x-signature": await signConsent(carol, registry, 1, hash), "x-token-signature": await signTokenConsent(carol, registry, 1, hash, root) });
    expect(up.status, JSON.stringify(up.json)).to.equal(201);
    expect(up.json.tokenRoot).to.equal(hre.ethers.toBeHex(root, 32));
    expect(BigInt(await d.registry.tokenRootOf(up.json.id))).to.equal(root);
    expect((await api("GET", `/v1/datanets/1/contributions/${hash}`)).json.tokenRoot).to.equal(hre.ethers.toBeHex(root, 32));
    // poa datanet upload, its own process, signs both consents.
    const file = join(mkdtempSync(join(tmpdir(), "poa-up-")), "passage.txt");
    const passage = "Poach the pears in spiced red wine until a knife slides through them.";
    writeFileSync(file, passage);
    const key = devWallet(7).privateKey;
    const r = await poaExec(["datanet", "upload", "1", "--file", file, "--api", svc.url, "--rpc", chain.url, "--rollup", await d.rollup.getAddress(), "--registry", await d.registry.getAddress(), "--private-key", key]);
    expect(r.status, r.stderr).to.equal(0);
    const cliRoot = hre.ethers.toBeHex(await contributionTokenRoot(canonicalText(passage)), 32);
    expect(r.stdout).to.contain(`, tokens ${cliRoot}`);
    expect(await d.registry.tokenRootOf(Number(await d.registry.contributionIdOf(1, contributionHash(canonicalText(passage)))))).to.equal(cliRoot);
  });

  let createdRequest: object;

  it("refuses bad uploads with a clear 4xx and registers nothing", async () => {
    createdRequest = await signedCreate({ name: "labels-2", license: "MIT", kind: "json", curator: curator.address });
    expect((await api("POST", "/v1/datanets", createdRequest)).status).to.equal(201);
    const count = async () => Number(await d.registry.contributionCount());
    const before = await count();
    const signed = async (id: number, bytes: Uint8Array) => signConsent(alice, d.registry.connect(chain.provider) as Contract, id, contributionHash(bytes));
    const hdr = async (id: number, bytes: Uint8Array) => ({ "x-contributor": alice.address, "x-signature": await signed(id, bytes) });
    const cases: [string, Promise<{ status: number; json: { error: { code: string; message: string } } }>, number, string][] = [
      ["empty", text("/v1/datanets/1/contributions", "   ", { "x-contributor": alice.address, "x-signature": "0x" + "11".repeat(65) }), 400, "empty_content"],
      ["invalid UTF-8", text("/v1/datanets/1/contributions", new Uint8Array([0x66, 0xff, 0x66]), { "x-contributor": alice.address, "x-signature": "0x" + "11".repeat(65) }), 400, "invalid_utf8"],
      ["oversized", text("/v1/datanets/1/contributions", "x".repeat(MAX_CONTENT_BYTES + 10_000), { "x-contributor": alice.address, "x-signature": "0x" + "11".repeat(65) }), 413, "content_too_large"],
      ["oversized, canonical", api("POST", "/v1/datanets/1/contributions", { contributor: alice.address, signature: "0x" + "11".repeat(65), text: "y".repeat(MAX_CONTENT_BYTES + 1) }), 413, "content_too_large"],
      ["unknown datanet", text("/v1/datanets/99/contributions", "hello", await hdr(99, canonicalText("hello"))), 404, "unknown_datanet"],
      ["text into a json datanet", text("/v1/datanets/2/contributions", "hello", await hdr(2, canonicalText("hello"))), 400, "wrong_kind"],
      ["a list as a record", api("POST", "/v1/datanets/2/contributions", { contributor: alice.address, signature: "0x" + "11".repeat(65), record: [1] }), 400, "not_a_record"],
      ["no signature header", text("/v1/datanets/1/contributions", "hello", { "x-contributor": alice.address }), 400, "invalid_headers"],
      ["someone else's consent", text("/v1/datanets/1/contributions", "hello", { "x-contributor": curator.address, "x-signature": await signed(1, canonicalText("hello")) }), 401, "invalid_signature"],
      ["duplicate", text("/v1/datanets/1/contributions", "Whisk two eggs.\nFold in the flour.", await hdr(1, canonicalText("Whisk two eggs.\nFold in the flour."))), 409, "duplicate_content"],
      ["bad datanet", api("POST", "/v1/datanets", await signedCreate({ name: "", license: "MIT", kind: "text", curator: curator.address })), 400, "invalid_body"],
      ["bad kind", api("POST", "/v1/datanets", await signedCreate({ name: "n", license: "MIT", kind: "audio", curator: curator.address })), 400, "invalid_body"],
      // Creation is relayed (the service pays): only for a request its creator signed, once, before its deadline.
      ["an unsigned datanet", api("POST", "/v1/datanets", { name: "n", license: "MIT", kind: "text", curator: curator.address }), 400, "invalid_body"],
      ["a datanet signed by someone else", api("POST", "/v1/datanets", { ...(await signedCreate({ name: "n", license: "MIT", kind: "text", curator: curator.address }, alice)), creator: curator.address }), 401, "invalid_signature"],
      ["a changed field under a signature", api("POST", "/v1/datanets", { ...(await signedCreate({ name: "n", license: "MIT", kind: "text", curator: curator.address })), name: "m" }), 401, "invalid_signature"],
      ["an expired request", api("POST", "/v1/datanets", await signedCreate({ name: "n", license: "MIT", kind: "text", curator: curator.address }, curator, 1_000)), 400, "request_expired"],
      ["a replayed request", api("POST", "/v1/datanets", createdRequest), 409, "request_used"],
      // Found by the fuzzer: each of these was a 500 with a stack trace.
      ["a zero curator", api("POST", "/v1/datanets", await signedCreate({ name: "n", license: "MIT", kind: "text", curator: `0x${"0".repeat(40)}` })), 400, "invalid_body"],
      ["a lone surrogate in a name", api("POST", "/v1/datanets", { ...(await signedCreate({ name: "n", license: "MIT", kind: "text", curator: curator.address })), name: "bad\ud800" }), 400, "invalid_body"],
      ["a NUL in a name", api("POST", "/v1/datanets", await signedCreate({ name: "bad\u0000name", license: "MIT", kind: "text", curator: curator.address })), 400, "invalid_body"],
      ["a right-to-left override in a name", api("POST", "/v1/datanets", await signedCreate({ name: "txt.\u202eexe", license: "MIT", kind: "text", curator: curator.address })), 400, "invalid_body"],
      ["a lone surrogate in text", api("POST", "/v1/datanets/1/contributions", { contributor: alice.address, signature: "0x" + "11".repeat(65), text: "bad\udc00" }), 400, "invalid_utf8"],
      ["a record nested 5,000 deep", http(svc.url, "POST", "/v1/datanets/2/contributions", undefined, `{"contributor":"${alice.address}","signature":"0x${"11".repeat(65)}","record":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`), 400, "record_too_complex"],
      ["a record of 20,000 values", api("POST", "/v1/datanets/2/contributions", { contributor: alice.address, signature: "0x" + "11".repeat(65), record: { xs: Array(20_000).fill(0) } }), 400, "record_too_complex"],
      // Numbers JSON.parse cannot hold exactly would be stored as other numbers.
      ...["12345678901234567890", "1e400", "-0"].map((n) => [`the number ${n}`, http(svc.url, "POST", "/v1/datanets/2/contributions", undefined, `{"contributor":"${alice.address}","signature":"0x${"11".repeat(65)}","record":{"n":${n}}}`), 400, "inexact_number"] as [string, Promise<never>, number, string]),
      ["a datanet sent as text/plain", fetch(`${svc.url}/v1/datanets`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" }).then(async (r) => ({ status: r.status, json: await r.json() })), 415, "unsupported_media_type"],
    ];
    for (const [what, p, status, code] of cases) {
      const r = await p;
      expect(r.status, `${what}: ${JSON.stringify(r.json)}`).to.equal(status);
      expect(r.json.error.code, what).to.equal(code);
      expect(r.json.error.message, what).to.be.a("string").and.not.be.empty;
    }
    expect(await count()).to.equal(before);
    expect((await api("GET", "/v1/datanets/1/contributions/0x1234")).status).to.equal(400);
    expect((await api("GET", `/v1/datanets/1/contributions/0x${"0".repeat(64)}`)).json.error.code).to.equal("unknown_contribution");
    expect((await api("GET", "/v1/datanets/abc")).json.error.code).to.equal("unknown_datanet");
    expect((await api("GET", "/v1/datanets")).json.datanets).to.have.length(3); // no datanet was created by a refused request
  });
  it("relays at most the configured writes per address, then answers 429 with Retry-After", async () => {
    // Alice has 2 relayed uploads behind her, of 6 per hour.
    const upload = async (n: number) => {
      const body = `Contribution number ${n}, written to test the relay limit.`;
      const sig = await signConsent(alice, d.registry.connect(chain.provider) as Contract, 1, contributionHash(canonicalText(body)));
      return text("/v1/datanets/1/contributions", body, { "x-contributor": alice.address, "x-signature": sig });
    };
    for (let n = 0; n < 4; n++) expect((await upload(n)).status, `upload ${n}`).to.equal(201);
    const before = Number(await d.registry.contributionCount());
    const res = await fetch(`${svc.url}/v1/datanets/1/contributions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ contributor: alice.address, signature: await signConsent(alice, d.registry.connect(chain.provider) as Contract, 1, contributionHash(canonicalText("one too many"))), text: "one too many" }) });
    expect(res.status).to.equal(429);
    expect(Number(res.headers.get("retry-after"))).to.be.within(3500, 3600);
    const err = (await res.json()).error;
    expect(err.code).to.equal("relay_rate_limited");
    expect(err.message).to.match(new RegExp(`^${alice.address} has used its 6 relayed writes for now`));
    expect(Number(await d.registry.contributionCount())).to.equal(before);
    // Another address is not affected.
    const other = devWallet(5, chain.provider);
    const body = "A contribution from someone else entirely, still within its limit.";
    const sig = await signConsent(other, d.registry.connect(chain.provider) as Contract, 1, contributionHash(canonicalText(body)));
    expect((await text("/v1/datanets/1/contributions", body, { "x-contributor": other.address, "x-signature": sig })).status).to.equal(201);
  });
});

