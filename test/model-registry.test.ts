// ModelRegistry on Hardhat's in-process EVM: registration with the training set
// read from DatanetRegistry (root computed on-chain, equal to the TypeScript
// mirror), every refusal by its custom error, and owner-only updates.
import { expect } from "chai";
import hre from "hardhat";
import "@nomicfoundation/hardhat-ethers";
import type { Contract } from "ethers";
import { canonicalText, contributionHash } from "../attribution/datanet/content.js";
import { trainingSetRoot } from "../models/registry.js";

describe("ModelRegistry", function () {
  type Signer = Awaited<ReturnType<typeof hre.ethers.getSigners>>[number];
  let datanets: Contract, models: Contract;
  let curator: Signer, alice: Signer, bob: Signer;
  const hashes = ["whale oil", "harpoon line", "fellow citizens", "the union is strong", "a fifth text"].map((t) => contributionHash(canonicalText(t)));
  const artifact = (n: number) => hre.ethers.zeroPadValue(hre.ethers.toBeHex(0xa000 + n), 32);
  const cfg = hre.ethers.id("config");
  const metrics = hre.ethers.id("metrics");
  const as = (c: Contract, who: Signer) => c.connect(who as never) as Contract;
  const reverts = async (p: Promise<unknown>, error: string) => {
    let msg = "";
    await p.catch((e) => (msg = String(e?.message ?? e)));
    expect(msg, `expected ${error}`).to.contain(error);
  };
  /** Commits (once per artifact and owner, in its own block) and reveals: ModelRegistry's commit–reveal. */
  const salt = (art: string, who: string) => hre.ethers.id(`salt:${art}:${who}`);
  const reg = async (who: Signer, kind: number, parent: number, art: string, c: string, m: string, price: bigint | number, ids: number[]) => {
    const owner = await who.getAddress();
    const commitment = await models.commitmentOf(art, owner, salt(art, owner));
    if ((await models.commitmentBlock(commitment)) === 0n) await (await as(models, who).commit(commitment)).wait();
    return as(models, who).register(kind, parent, art, c, m, price, ids, salt(art, owner));
  };
  const registered = async (tx: Promise<{ wait(): Promise<unknown> }>) => {
    const r = (await (await tx).wait()) as { logs: unknown[] };
    return r.logs.map((l) => models.interface.parseLog(l as never)).filter((l) => l !== null);
  };

  before(async () => {
    await hre.run("compile", { quiet: true });
    [curator, alice, bob] = (await hre.ethers.getSigners()).slice(15, 18);
    const t = await hre.ethers.getContractFactory("OpenToken");
    const token = (await t.deploy(await curator.getAddress())) as unknown as Contract;
    datanets = (await (await hre.ethers.getContractFactory("DatanetRegistry")).deploy(await token.getAddress(), 3600)) as unknown as Contract;
    models = (await (await hre.ethers.getContractFactory("ModelRegistry")).deploy(await datanets.getAddress())) as unknown as Contract;
    await (await as(datanets, curator).createDatanet("moby", "", "PD", 0, await curator.getAddress())).wait();
    await (await as(datanets, curator).createDatanet("sotu", "", "PD", 0, await curator.getAddress())).wait();
    // Contributions 1-2 in datanet 1, 3-5 in datanet 2; 5 gets slashed.
    const place = [1, 1, 2, 2, 2];
    for (let i = 0; i < hashes.length; i++) {
      const salt = hre.ethers.id(`salt${i}`);
      await (await as(datanets, alice).commit(await datanets.commitmentOf(place[i], hashes[i], await alice.getAddress(), salt))).wait();
      await (await as(datanets, alice).contribute(place[i], hashes[i], 0, salt)).wait();
    }
    await (await as(datanets, curator).slash(5, 0)).wait();
  });

  it("registers a base without a training set, then an adapter whose root and datanets it computes from the registry", async () => {
    const base = await registered(reg(alice, 0, 0, artifact(1), cfg, metrics, 0, []));
    expect(base.map((l) => l!.name)).to.deep.equal(["ModelRegistered", "TrainingSet"]);
    expect(base[0]!.args.modelId).to.equal(1n);
    expect(base[0]!.args.trainingSetRoot).to.equal(hre.ethers.ZeroHash);

    const ids = [1, 3, 4];
    const expectedRoot = trainingSetRoot(ids.map((id) => ({ id, contentHash: hashes[id - 1] })));
    expect(await models.trainingSetRoot(ids)).to.equal(expectedRoot);
    const logs = await registered(reg(bob, 1, 1, artifact(2), cfg, metrics, 5n * 10n ** 15n, ids));
    expect([...logs[0]!.args]).to.deep.equal([2n, await bob.getAddress(), 1n, 1n, artifact(2), cfg, expectedRoot, metrics, 5n * 10n ** 15n]);
    expect([logs[1]!.args.modelId, [...logs[1]!.args.datanetIds].map(Number), [...logs[1]!.args.contributionIds].map(Number)]).to.deep.equal([2n, [1, 2], ids]);
    const m = await models.model(2);
    expect([m.owner, m.kind, m.status, m.parent, m.contributionCount, m.trainingSetRoot]).to.deep.equal([await bob.getAddress(), 1n, 0n, 1n, 3n, expectedRoot]);
    expect((await models.datanetsOf(2)).map(Number)).to.deep.equal([1, 2]);
    expect(await models.modelIdOf(artifact(2))).to.equal(2n);
  });

  it("the Merkle root: one leaf is the leaf, an odd last node moves up, and order matters only through ids", async () => {
    const leaf = (id: number) => hre.ethers.keccak256(hre.ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "bytes32"], [id, hashes[id - 1]]));
    expect(await models.trainingSetRoot([2])).to.equal(leaf(2));
    const pair = (a: string, b: string) => hre.ethers.keccak256(hre.ethers.concat([a, b]));
    expect(await models.trainingSetRoot([1, 2, 3])).to.equal(pair(pair(leaf(1), leaf(2)), leaf(3)));
    expect(trainingSetRoot([3, 1, 2].map((id) => ({ id, contentHash: hashes[id - 1] })))).to.equal(pair(pair(leaf(1), leaf(2)), leaf(3)));
  });

  it("refuses unknown, slashed, repeated or unsorted contributions, an empty set, and bad parents", async () => {
    await reverts(reg(bob, 1, 1, artifact(3), cfg, metrics, 0, [1, 9]), "UnknownContribution(9)");
    await reverts(reg(bob, 1, 1, artifact(3), cfg, metrics, 0, [0]), "UnknownContribution(0)");
    await reverts(reg(bob, 1, 1, artifact(3), cfg, metrics, 0, [4, 5]), "SlashedContribution(5)");
    await reverts(reg(bob, 1, 1, artifact(3), cfg, metrics, 0, [3, 3]), "ContributionsNotIncreasing(1)");
    await reverts(reg(bob, 1, 1, artifact(3), cfg, metrics, 0, [4, 3]), "ContributionsNotIncreasing(1)");
    await reverts(reg(bob, 1, 1, artifact(3), cfg, metrics, 0, []), "EmptyTrainingSet");
    await reverts(reg(bob, 2, 0, artifact(3), cfg, metrics, 0, []), "EmptyTrainingSet");
    await reverts(reg(bob, 1, 2, artifact(3), cfg, metrics, 0, [1]), "InvalidParent(2)"); // model 2 is an adapter
    await reverts(reg(bob, 1, 0, artifact(3), cfg, metrics, 0, [1]), "InvalidParent(0)");
    await reverts(reg(bob, 1, 7, artifact(3), cfg, metrics, 0, [1]), "InvalidParent(7)");
    await reverts(reg(bob, 2, 1, artifact(3), cfg, metrics, 0, [1]), "ParentNotAllowed");
    await reverts(reg(bob, 1, 1, hre.ethers.ZeroHash, cfg, metrics, 0, [1]), "ZeroArtifactHash");
    await reverts(reg(bob, 1, 1, artifact(2), cfg, metrics, 0, [1]), "ArtifactAlreadyRegistered");
    const classifier = await registered(reg(bob, 2, 0, artifact(3), cfg, metrics, 0, [3]));
    expect(classifier[0]!.args.modelId).to.equal(3n);
  });

  it("only the owner changes price or status, each with an event; a retired base takes no new adapters", async () => {
    await reverts(as(models, alice).setPrice(2, 1), "NotModelOwner");
    await reverts(as(models, alice).setStatus(2, 1), "NotModelOwner");
    await reverts(as(models, bob).setPrice(9, 1), "UnknownModel(9)");
    const price = await registered(as(models, bob).setPrice(2, 7n));
    expect([price[0]!.name, ...price[0]!.args]).to.deep.equal(["PriceChanged", 2n, 5n * 10n ** 15n, 7n]);
    expect((await models.model(2)).pricePer1kTokens).to.equal(7n);
    await reverts(as(models, bob).setStatus(2, 0), "StatusUnchanged");
    const retired = await registered(as(models, alice).setStatus(1, 1));
    expect([retired[0]!.name, ...retired[0]!.args]).to.deep.equal(["StatusChanged", 1n, 1n]);
    await reverts(reg(bob, 1, 1, artifact(4), cfg, metrics, 0, [1]), "ParentRetired(1)");
    await (await as(models, alice).setStatus(1, 0)).wait();
    await registered(reg(bob, 1, 1, artifact(4), cfg, metrics, 0, [1]));
    expect(await models.modelCount()).to.equal(4n);
  });

  it("registration is commit–reveal: no commitment, or one from this block, is refused", async () => {
    const owner = await bob.getAddress();
    const art = artifact(10);
    const commitment = await models.commitmentOf(art, owner, salt(art, owner));
    await reverts(as(models, bob).register(2, 0, art, cfg, metrics, 0, [3], salt(art, owner)), `NoCommitment("${commitment}")`);
    await hre.network.provider.send("evm_setAutomine", [false]);
    try {
      await as(models, bob).commit(commitment, { gasLimit: 100_000 });
      const reveal = await as(models, bob).register(2, 0, art, cfg, metrics, 0, [3], salt(art, owner), { gasLimit: 2_000_000 });
      await hre.network.provider.send("evm_mine", []);
      const trace = await hre.network.provider.send("debug_traceTransaction", [reveal.hash]);
      expect(models.interface.parseError(trace.returnValue.startsWith("0x") ? trace.returnValue : `0x${trace.returnValue}`)?.name).to.equal("CommitmentTooRecent");
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }
    expect(await models.modelIdOf(art)).to.equal(0n);
    await registered(as(models, bob).register(2, 0, art, cfg, metrics, 0, [3], salt(art, owner))); // a block later
    expect((await models.model(await models.modelIdOf(art))).owner).to.equal(owner);
  });

  it("a copied register() in the mempool cannot take the weights: the copy has no commitment (the audit's front-run)", async () => {
    const [owner, thief] = [await alice.getAddress(), await bob.getAddress()];
    const art = artifact(11);
    await (await as(models, alice).commit(await models.commitmentOf(art, owner, salt(art, owner)))).wait();
    await hre.network.provider.send("evm_setAutomine", [false]);
    let copied: { hash: string };
    try {
      await as(models, alice).register(2, 0, art, cfg, metrics, 10n ** 15n, [1], salt(art, owner), { gasLimit: 2_000_000, maxPriorityFeePerGas: 10n ** 9n, maxFeePerGas: 10n ** 11n });
      const pending = await hre.network.provider.send("eth_getBlockByNumber", ["pending", true]);
      const seen = models.interface.parseTransaction({ data: pending.transactions.at(-1).input })!;
      // Mallory copies everything, outbids, and even sends her own commitment first in the same block.
      await as(models, bob).commit(await models.commitmentOf(seen.args[2], thief, seen.args[7]), { gasLimit: 100_000, maxPriorityFeePerGas: 6n * 10n ** 9n, maxFeePerGas: 10n ** 11n });
      copied = await as(models, bob).register(seen.args[0], seen.args[1], seen.args[2], seen.args[3], seen.args[4], 10n ** 24n, [2], seen.args[7], { gasLimit: 2_000_000, maxPriorityFeePerGas: 5n * 10n ** 9n, maxFeePerGas: 10n ** 11n });
      await hre.network.provider.send("evm_mine", []);
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }
    const trace = await hre.network.provider.send("debug_traceTransaction", [copied!.hash]);
    expect(models.interface.parseError(trace.returnValue.startsWith("0x") ? trace.returnValue : `0x${trace.returnValue}`)?.name).to.equal("CommitmentTooRecent");
    const m = await models.model(await models.modelIdOf(art));
    expect([m.owner, m.pricePer1kTokens, m.contributionCount]).to.deep.equal([owner, 10n ** 15n, 1n]);
  });

  it("the earliest commitment wins: an owner whose reveal lands after a front-runner's younger registration takes the entry over", async () => {
    const [owner, thief] = [await alice.getAddress(), await bob.getAddress()];
    const art = artifact(12);
    await (await as(models, alice).commit(await models.commitmentOf(art, owner, salt(art, owner)))).wait(); // Alice first
    const stolen = await registered(reg(bob, 2, 0, art, cfg, metrics, 10n ** 24n, [2])); // Mallory commits later, reveals first
    const id = stolen[0]!.args.modelId as bigint;
    expect((await models.model(id)).owner).to.equal(thief);
    const logs = await registered(as(models, alice).register(2, 0, art, cfg, metrics, 10n ** 15n, [1, 3], salt(art, owner)));
    expect(logs.map((l) => l!.name)).to.deep.equal(["ModelReassigned", "ModelRegistered", "TrainingSet"]);
    expect([...logs[0]!.args].slice(0, 3)).to.deep.equal([id, thief, owner]);
    const m = await models.model(id);
    expect([m.owner, m.pricePer1kTokens, m.contributionCount, m.trainingSetRoot]).to.deep.equal([owner, 10n ** 15n, 2n, await models.trainingSetRoot([1, 3])]);
    expect(await models.modelIdOf(art)).to.equal(id);
    // Neither can register it again, and the displaced one cannot win it back with its younger commitment.
    await reverts(reg(bob, 2, 0, art, cfg, metrics, 1, [2]), `ArtifactAlreadyRegistered("${art}", ${id})`);
    await reverts(reg(alice, 2, 0, art, cfg, metrics, 1, [2]), `ArtifactAlreadyRegistered("${art}", ${id})`);
  });
});
