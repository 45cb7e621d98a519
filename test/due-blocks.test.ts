// Due blocks of the L1 queue (docs/PROTOCOL.md §4, §12) on a real Hardhat chain, and a sequencer
// at its nominal pace, proving real batches, against an outsider's free withdrawal requests sent
// one per block or one every k blocks. The rule: due_i = max(t_i + exitDelay, due_(i-NQ) + blocksPerBatch).
import { expect } from "chai";
import type { Contract } from "ethers";
import hre from "hardhat";
import "@nomicfoundation/hardhat-ethers";
import { deployRollup } from "../ops/deploy.js";
import { proofCalldata } from "../prover/groth16.js";
import { Operator, type PreparedBatch } from "../sequencer/operator.js";
import { INSTANCE, params } from "./helpers.js";

const NQ = params.queueOps;
const send = (method: string, args: unknown[] = []) => hre.network.provider.send(method, args);
const blockNumber = async () => BigInt(await hre.ethers.provider.getBlockNumber());

async function deploy(exitDelay: number, blocksPerBatch: number) {
  await hre.run("compile", { quiet: true });
  const [deployer, sequencer] = await hre.ethers.getSigners();
  const d = await deployRollup(deployer, { instance: INSTANCE, treasury: deployer.address, sequencer: sequencer.address, exitDelay, blocksPerBatch });
  const spammer = (await hre.ethers.getSigners())[9];
  return { d, spam: d.rollup.connect(spammer as never) as Contract, op: new Operator(INSTANCE, d.rollup.connect(sequencer as never) as Contract, d.genesis, await d.rollup.domain()) };
}

/** The rule, computed here from the blocks the requests were mined in. */
function expectedDue(blocks: bigint[], exitDelay: number, blocksPerBatch: number): bigint[] {
  const due: bigint[] = [];
  blocks.forEach((b, i) => {
    const own = b + BigInt(exitDelay);
    const paced = i >= NQ ? due[i - NQ] + BigInt(blocksPerBatch) : 0n;
    due.push(own > paced ? own : paced);
  });
  return due;
}

describe("due blocks: requests spread over blocks get deadlines the nominal pace can meet", function () {
  for (const every of [1, 5, 10, 15]) {
    it(`one request every ${every} block(s), blocksPerBatch 10, exitDelay 100: due_i = max(t_i + 100, due_(i-NQ) + 10)`, async () => {
      const { d, spam } = await deploy(100, 10);
      const blocks: bigint[] = [];
      for (let i = 0; i < 3 * NQ + 2; i++) {
        if (i > 0 && every > 1) await send("hardhat_mine", [`0x${(every - 1).toString(16)}`]);
        const predicted = await d.rollup.nextDueBlock({ blockTag: "latest" });
        const r = await (await spam.requestWithdrawal(1)).wait();
        blocks.push(BigInt(r!.blockNumber));
        const due = (await d.rollup.queuedOps(i)).dueBlock;
        // nextDueBlock() answers for the block it is read in; the request was mined one block later.
        expect(due >= predicted, `op ${i}: due ${due}, predicted at least ${predicted}`).to.equal(true);
      }
      const due = await Promise.all(blocks.map(async (_, i) => (await d.rollup.queuedOps(i)).dueBlock as bigint));
      expect(due).to.deep.equal(expectedDue(blocks, 100, 10));
      for (let i = NQ; i < due.length; i++) expect(due[i] - due[i - NQ] >= 10n, `op ${i} vs op ${i - NQ}`).to.equal(true);
      if (every >= 10) expect(due).to.deep.equal(blocks.map((b) => b + 100n)); // slower than the pace: exitDelay alone
      else expect(due[due.length - 1] - due[0]).to.equal(BigInt(10 * Math.floor((due.length - 1) / NQ))); // the pace, not the arrivals
    });
  }

  it("a consumed operation still paces the one NQ places behind it", async () => {
    const { d, spam, op } = await deploy(6, 4);
    await (await spam.requestWithdrawal(1)).wait();
    const first = (await d.rollup.queuedOps(0)).dueBlock as bigint;
    await op.next(); // op 0 consumed and deleted
    expect(await d.rollup.queueHead()).to.equal(1n);
    const r = await (await spam.requestWithdrawal(1)).wait();
    const due = (await d.rollup.queuedOps(NQ)).dueBlock as bigint;
    const own = BigInt(r!.blockNumber) + 6n;
    expect(due).to.equal(NQ === 1 && first + 4n > own ? first + 4n : own);
  });

  // A sequencer at the nominal pace: every blocksPerBatch blocks it lands one batch of the (up to NQ)
  // oldest operations it had seen when it started proving; no block is mined while it proves.
  for (const every of [1, 3]) {
    it(`a sequencer at its nominal pace is never late against one free request every ${every} block(s) (blocksPerBatch 2), and an outsider cannot force exit mode`, async () => {
      const exitDelay = 6, blocksPerBatch = 2, blocks = every === 1 ? 12 : 10;
      const { d, spam, op } = await deploy(exitDelay, blocksPerBatch);
      await send("evm_setAutomine", [false]);
      const landed: string[] = [];
      try {
        for (let t = 0; t < blocks; t++) {
          let tx: { hash: string } | undefined;
          const pendingOps = Number(await d.rollup.queueLength()) - op.state.queueConsumed;
          if (t % blocksPerBatch === 0 && pendingOps > 0) {
            const b = await op.prepare();
            tx = await op.rollup.submitBatch(b.batch.publicInputs.newRoot, b.batch.decoded.ops.length, 0n, b.batch.body, proofCalldataOf(b), { gasLimit: 3_000_000 });
            op.state = b.batch.state;
          }
          if (t % every === 0) await spam.requestWithdrawal(1, { gasLimit: 400_000 });
          await send("evm_mine");
          if (tx) {
            const receipt = await hre.ethers.provider.getTransactionReceipt(tx.hash);
            expect(receipt!.status, `submitBatch in block ${receipt!.blockNumber} (round ${t}) reverted: the queue head was overdue`).to.equal(1);
            landed.push(`${receipt!.blockNumber}`);
          }
          expect(await d.rollup.overdue(), `overdue after block ${await blockNumber()}`).to.equal(false);
          await expectNoExit(spam);
        }
      } finally {
        await send("evm_setAutomine", [true]);
      }
      // Batches every 2 blocks from the first operation seen on: 5 in 12 blocks; 3 for the sparser requests.
      expect(landed.length).to.equal(every === 1 ? 5 : 3);
      // One request per block outpaces one operation per 2 blocks: the queue grows, and only the paced due blocks keep the sequencer on time.
      if (every === 1) expect(Number(await d.rollup.queueLength()) - Number(await d.rollup.queueHead())).to.equal(7);
      expect(await d.rollup.exitMode()).to.equal(false);
      // The head's deadline still binds: a sequencer that stops is exited once it passes.
      const head = await d.rollup.queueHead();
      const due = (await d.rollup.queuedOps(head)).dueBlock as bigint;
      await send("hardhat_mine", [`0x${(due + 1n - (await blockNumber())).toString(16)}`]);
      expect(await d.rollup.overdue()).to.equal(true);
      await (await spam.activateExitMode()).wait();
      expect(await d.rollup.exitMode()).to.equal(true);
    });
  }
});

const proofCalldataOf = (b: PreparedBatch) => proofCalldata(b.proved.proof);

async function expectNoExit(spam: Contract): Promise<void> {
  try {
    await spam.activateExitMode.staticCall();
  } catch (e) {
    expect(String((e as Error).message)).to.contain("NoOverdueOperation");
    return;
  }
  expect.fail("activateExitMode would succeed for an outsider");
}
