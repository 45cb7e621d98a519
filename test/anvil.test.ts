// End to end on a second, independent EVM: Foundry's anvil (revm), not
// Hardhat's EDR. The operator's path, each step its own `poa` process:
// deploy with `poa deploy --rpc`, run `poa start --rpc`, a provider deposits
// with `poa deposit`, receipts are posted, a contributor withdraws with
// `poa withdraw` and receives exactly the payout rule's share. Real Groth16
// proofs are verified by the contract on anvil (BN254 precompiles, cancun).
import { expect } from "chai";
import { Contract, formatUnits, type Wallet } from "ethers";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initCrypto } from "../core/crypto.js";
import { payout } from "../core/payout.js";
import { signBundle } from "../core/receipt.js";
import { startLocalChain, type LocalChain } from "../ops/chain.js";
import { devWallet } from "../artifacts/dev-wallets.js";
import { artifact } from "../artifacts/contracts.js";
import { bjjKey } from "../ops/client.js";
import { bundleToJson } from "../sequencer/schemas.js";
import { OPEN, params } from "./helpers.js";
import { http, waitFor } from "./lib/http.js";
import { poaRun, poaStart, type Running } from "./lib/poa.js";

describe("end to end on anvil (an independent EVM): poa deploy, start, deposit, withdraw", function () {
  let chain: LocalChain;
  let svc: Running | undefined;
  let deployer: Wallet, alice: Wallet, c1: Wallet, owner: Wallet;
  let addresses: { rollup: string; token: string };

  before(async () => {
    await initCrypto();
    chain = await startLocalChain(12545 + (process.pid % 1000), { engine: "anvil" });
    expect(await chain.provider.send("web3_clientVersion", [])).to.match(/^anvil\//);
    [deployer, alice, c1, owner] = [0, 2, 4, 6].map((i) => devWallet(i, chain.provider));
  });

  after(async () => {
    svc?.proc.kill("SIGKILL");
    await chain?.stop();
  });

  const l1 = (w: Wallet) => ["--rpc", chain.url, "--rollup", addresses.rollup, "--private-key", w.privateKey, "--api", svc!.url];

  it("deploys the contracts with poa deploy", async () => {
    const r = poaRun(["deploy", "--rpc", chain.url, "--private-key", deployer.privateKey, "--sequencer", devWallet(1).address]);
    expect(r.status, r.stderr).to.equal(0);
    addresses = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
    expect(await chain.provider.getCode(addresses.rollup)).to.not.equal("0x");
  });

  it("runs the sequencer with poa start --rpc and settles a deposit with a real proof", async () => {
    svc = await poaStart([
      "--rpc", chain.url, "--rollup", addresses.rollup, "--sequencer-key", devWallet(1).privateKey,
      "--db", join(mkdtempSync(join(tmpdir(), "poa-anvil-")), "sequencer.db"), "--port", "0", "--serve-port", "0", "--max-wait-ms", "200",
    ]);
    const token = new Contract(addresses.token, artifact("OpenToken").abi as never, deployer);
    await (await token.transfer(alice.address, 20n * OPEN)).wait();
    const r = poaRun(["deposit", ...l1(alice), "--amount", "20"]);
    expect(r.status, r.stderr).to.equal(0);
    const acct = (await http(svc.url, "GET", `/v1/accounts/${alice.address}`)).json;
    expect([acct.index, acct.balance]).to.deep.equal([1, (20n * OPEN).toString()]);
  });

  it("pays a contributor exactly the payout rule's share, withdrawn with poa withdraw", async () => {
    const rollup = new Contract(addresses.rollup, artifact("AttributionRollup").abi as never, chain.provider);
    const domain = await rollup.domain();
    const fee = 3n * OPEN + 7n;
    const r = { providerIdx: 1, owner: BigInt(owner.address), fee, nonce: 0n, inputHash: 5n, outputHash: 6n, entries: [{ contributor: BigInt(c1.address), score: 3n }, { contributor: BigInt(owner.address), score: 1n }] };
    const posted = await http(svc!.url, "POST", "/v1/bundles", bundleToJson(await signBundle(bjjKey(alice), [r], params, domain)));
    expect(posted.status, JSON.stringify(posted.json)).to.equal(202);
    const id = posted.json.receipts[0].id;
    await waitFor(`receipt ${id} finalized`, async () => (await http(svc!.url, "GET", `/v1/receipts/${id}`)).json.status === "finalized");
    const share = payout(fee, [3n, 1n], params).shares[0];
    const token = new Contract(addresses.token, artifact("OpenToken").abi as never, chain.provider);
    const before = await token.balanceOf(c1.address);
    const w = poaRun(["withdraw", ...l1(c1)]);
    expect(w.status, w.stderr).to.equal(0);
    expect(w.stdout).to.include(`received ${formatUnits(share, 18)} OPEN at ${c1.address}`);
    expect((await token.balanceOf(c1.address)) - before).to.equal(share);
    // The CLI claims as soon as L1 shows the batch; the sequencer records the
    // finalization when its own submission's receipt arrives, moments later.
    const onChain = BigInt(await rollup.stateRoot());
    await waitFor("the sequencer to record the batch L1 finalized", async () => BigInt((await http(svc!.url, "GET", "/healthz")).json.finalizedRoot) === onChain);
    expect(BigInt((await http(svc!.url, "GET", "/healthz")).json.finalizedRoot)).to.equal(onChain);
  });
});
