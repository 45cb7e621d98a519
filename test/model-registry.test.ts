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
    const base = await registered(as(models, alice).register(0, 0, artifact(1), cfg, metrics, 0, []));
    expect(base.map((l) => l!.name)).to.deep.equal(["ModelRegistered", "TrainingSet"]);
    expect(base[0]!.args.modelId).to.equal(1n);
    expect(base[0]!.args.trainingSetRoot).to.equal(hre.ethers.ZeroHash);

    const ids = [1, 3, 4];
    const expectedRoot = trainingSetRoot(ids.map((id) => ({ id, contentHash: hashes[id - 1] })));
    expect(await models.trainingSetRoot(ids)).to.equal(expectedRoot);
    const logs = await registered(as(models, bob).register(1, 1, artifact(2), cfg, metrics, 5n * 10n ** 15n, ids));
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
    await reverts(as(models, bob).register(1, 1, artifact(3), cfg, metrics, 0, [1, 9]), "UnknownContribution(9)");
    await reverts(as(models, bob).register(1, 1, artifact(3), cfg, metrics, 0, [0]), "UnknownContribution(0)");
    await reverts(as(models, bob).register(1, 1, artifact(3), cfg, metrics, 0, [4, 5]), "SlashedContribution(5)");
    await reverts(as(models, bob).register(1, 1, artifact(3), cfg, metrics, 0, [3, 3]), "ContributionsNotIncreasing(1)");
    await reverts(as(models, bob).register(1, 1, artifact(3), cfg, metrics, 0, [4, 3]), "ContributionsNotIncreasing(1)");
    await reverts(as(models, bob).register(1, 1, artifact(3), cfg, metrics, 0, []), "EmptyTrainingSet");
    await reverts(as(models, bob).register(2, 0, artifact(3), cfg, metrics, 0, []), "EmptyTrainingSet");
    await reverts(as(models, bob).register(1, 2, artifact(3), cfg, metrics, 0, [1]), "InvalidParent(2)"); // model 2 is an adapter
    await reverts(as(models, bob).register(1, 0, artifact(3), cfg, metrics, 0, [1]), "InvalidParent(0)");
    await reverts(as(models, bob).register(1, 7, artifact(3), cfg, metrics, 0, [1]), "InvalidParent(7)");
    await reverts(as(models, bob).register(2, 1, artifact(3), cfg, metrics, 0, [1]), "ParentNotAllowed");
    await reverts(as(models, bob).register(1, 1, hre.ethers.ZeroHash, cfg, metrics, 0, [1]), "ZeroArtifactHash");
    await reverts(as(models, bob).register(1, 1, artifact(2), cfg, metrics, 0, [1]), "ArtifactAlreadyRegistered");
    const classifier = await registered(as(models, bob).register(2, 0, artifact(3), cfg, metrics, 0, [3]));
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
    await reverts(as(models, bob).register(1, 1, artifact(4), cfg, metrics, 0, [1]), "ParentRetired(1)");
    await (await as(models, alice).setStatus(1, 0)).wait();
    await registered(as(models, bob).register(1, 1, artifact(4), cfg, metrics, 0, [1]));
    expect(await models.modelCount()).to.equal(4n);
  });
});
