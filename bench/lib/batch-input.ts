// A batch input for the prover benches: one that uses every part of the circuit.
import { publicKeyOf, signMessage } from "../../core/crypto.js";
import { loadInstance } from "../../core/params.js";
import { domainOf } from "../../core/publicData.js";
import { bundleMessage, type Receipt } from "../../core/receipt.js";
import { buildBatch, RollupState } from "../../core/rollup.js";

/** A batch that uses every part of the circuit: a deposit, then a full bundle paying K contributors per receipt. */
export async function batchInput(instance: string): Promise<Record<string, unknown>> {
  const p = loadInstance(instance).params;
  const domain = domainOf(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
  const key = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
  const pub = await publicKeyOf(key);
  let state = new RollupState(p, 0x7ea5n);
  state = (await buildBatch(state, { ops: [{ kind: "deposit", address: 0xa11cen, amount: 10n ** 24n, ax: pub.ax, ay: pub.ay, account: 0 }], bundles: [] }, domain)).state;
  const receipts: Receipt[] = Array.from({ length: p.bundleSize }, (_, j) => ({
    providerIdx: 1, owner: 0xb0b0n, fee: 10n ** 18n + BigInt(j), nonce: BigInt(j), inputHash: BigInt(j + 1), outputHash: BigInt(j + 2),
    // Contributors shared between receipts, so that the credited accounts fit the instance's slots.
    entries: Array.from({ length: p.entries }, (_, e) => ({ contributor: 0xc000n + BigInt(e % Math.max(1, p.slots - 3)), score: BigInt(e + 1) })),
  }));
  const signature = await signMessage(key, bundleMessage(receipts, p, domain));
  return (await buildBatch(state, { ops: [], bundles: [{ receipts, signature }] }, domain)).circuitInput;
}

