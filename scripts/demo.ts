// The demo that `npm start` runs against the freshly started service: two
// providers deposit on L1, sign receipts paying three contributors, the
// batches are proved and verified on L1, and a contributor withdraws.
import { Contract, formatUnits } from "ethers";
import { initCrypto, publicKeyOf } from "../core/crypto.js";
import { loadInstance } from "../core/params.js";
import { payout } from "../core/payout.js";
import { contentHash, signBundle, type Receipt } from "../core/receipt.js";
import { bundleToJson } from "../sequencer/schemas.js";
import { api, bjjKey, connect, until, type Connection } from "./lib/client.js";

export async function runDemo(apiUrl: string): Promise<void> {
  await initCrypto();
  const [alice, bob, c1, c2, owner] = await Promise.all([2, 3, 4, 5, 6].map((i) => connect({ account: String(i), api: apiUrl })));
  const params = loadInstance(alice.info.instance).params;
  const domain = BigInt(await alice.rollup.domain());
  console.log("\ndemo: two providers deposit 100 OPEN each and register signing keys on L1");
  for (const p of [alice, bob]) {
    const pub = await publicKeyOf(bjjKey(p.wallet));
    await (await p.token.approve(p.info.rollup, 100n * 10n ** 18n)).wait();
    await (await p.rollup.deposit(100n * 10n ** 18n, pub.ax, pub.ay)).wait();
  }
  const idx = async (w: Connection) => (await until(`account of ${w.wallet.address}`, async () => api(apiUrl, "GET", `/v1/accounts/${w.wallet.address}`))).index as number;
  const [ai, bi] = [await idx(alice), await idx(bob)];
  console.log(`demo: providers have accounts ${ai} and ${bi}`);

  const scores: [bigint, bigint][] = [[70n, 30n], [1n, 3n], [0n, 9n]];
  const fees = [3n * 10n ** 18n, 2n * 10n ** 18n, 10n ** 18n];
  const receipt = (providerIdx: number, nonce: number, j: number): Receipt => ({
    providerIdx, owner: BigInt(owner.wallet.address), fee: fees[j], nonce: BigInt(nonce),
    inputHash: contentHash(`question ${j}`), outputHash: contentHash(`answer ${j}`),
    entries: [{ contributor: BigInt(c1.wallet.address), score: scores[j][0] }, { contributor: BigInt(c2.wallet.address), score: scores[j][1] }],
  });
  const a = await api(apiUrl, "POST", "/v1/bundles", bundleToJson(await signBundle(bjjKey(alice.wallet), [receipt(ai, 0, 0), receipt(ai, 1, 1)], params, domain)));
  const b = await api(apiUrl, "POST", "/v1/bundles", bundleToJson(await signBundle(bjjKey(bob.wallet), [receipt(bi, 0, 2)], params, domain)));
  const ids: string[] = [...a.receipts, ...b.receipts].map((r: { id: string }) => r.id);
  console.log(`demo: 3 signed receipts accepted (curl ${apiUrl}/v1/receipts/${ids[0]})`);
  for (const id of ids) await until(`receipt ${id.slice(0, 10)}… on L1`, async () => ((await api(apiUrl, "GET", `/v1/receipts/${id}`)).status === "finalized" ? true : undefined));
  console.log("demo: all receipts finalized on L1");

  const expected = scores.reduce((acc, s, j) => acc + payout(fees[j], s, params).shares[0], 0n);
  const acct = await api(apiUrl, "GET", `/v1/accounts/${c1.wallet.address}`);
  await (await c1.rollup.requestWithdrawal(acct.index)).wait();
  await until("contributor 1's withdrawal batch", async () => ((await c1.rollup.claimable(c1.wallet.address)) > 0n ? true : undefined));
  const before = BigInt(await c1.token.balanceOf(c1.wallet.address));
  await (await (c1.rollup as Contract).claim(c1.wallet.address)).wait();
  const received = BigInt(await c1.token.balanceOf(c1.wallet.address)) - before;
  console.log(`demo: contributor 1 withdrew ${formatUnits(received, 18)} OPEN on L1; the payout rule gives ${formatUnits(expected, 18)} — ${received === expected ? "exact" : "MISMATCH"}`);
  console.log(`demo: try  npx tsx scripts/poa.ts verify-batch 1   and   curl ${apiUrl}/v1/batches/1\n`);
}
