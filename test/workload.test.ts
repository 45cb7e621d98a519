// The reference workload of the benchmarks (bench/lib/workload.ts): seeded,
// Zipf-distributed as stated, K distinct contributors per receipt.
import { expect } from "chai";
import { newPerBatch, prng, REFERENCE, touchedPerBatch, workload, Zipf, type WorkloadEvent } from "../bench/lib/workload.js";

describe("reference workload", () => {
  it("draws Zipf ranks with the stated law", () => {
    const n = 1000, s = 1.0, draws = 200_000;
    const z = new Zipf(n, s);
    const rand = prng(7);
    const counts = new Array(n).fill(0);
    for (let i = 0; i < draws; i++) counts[z.draw(rand)]++;
    const h = Array.from({ length: n }, (_, k) => 1 / Math.pow(k + 1, s)).reduce((a, b) => a + b, 0);
    for (const k of [0, 1, 9, 99]) {
      const expected = draws / Math.pow(k + 1, s) / h;
      expect(Math.abs(counts[k] - expected), `rank ${k}: ${counts[k]} against ${expected.toFixed(0)}`).to.be.lessThan(5 * Math.sqrt(expected));
    }
    expect(Math.min(...counts.slice(0, 10))).to.be.greaterThan(0);
  });

  it("is the same stream for the same seed, with K distinct contributors per receipt", () => {
    const take = (k: number) => {
      const it = workload(REFERENCE);
      return Array.from({ length: k }, () => it.next().value as WorkloadEvent);
    };
    const a = take(500), b = take(500);
    expect(a).to.deep.equal(b);
    const receipts = a.filter((e) => e.kind === "receipt");
    for (const e of receipts) {
      expect(new Set(e.receipt.contributors).size).to.equal(REFERENCE.entries);
      expect(e.receipt.scores.every((x) => Number.isInteger(x) && x > 0)).to.equal(true);
    }
    const ops = a.length - receipts.length;
    expect(ops).to.be.within(2, 40); // about 3% of receipts bring an L1 operation
  });

  it("counts each touched account once per batch", () => {
    const [t] = touchedPerBatch({ ...REFERENCE, contributors: 3, entries: 3, owners: 1, providers: 1, depositsPerReceipt: 0, withdrawalsPerReceipt: 0 }, 50, 1);
    expect(t).to.deep.equal({ receipts: 50, ops: 0, contributors: 3, owners: 1, providers: 1, total: 6 });
  });

  it("counts as new only the accounts that no earlier receipt credited", () => {
    const tiny = { ...REFERENCE, contributors: 3, entries: 3, owners: 1, providers: 1, depositsPerReceipt: 0, withdrawalsPerReceipt: 0 };
    // 3 contributors + 1 owner, all credited by the first receipt: new in the first batch only
    expect(newPerBatch(tiny, 5, 0, 3)).to.deep.equal([{ credited: 4, fresh: 4 }, { credited: 4, fresh: 0 }, { credited: 4, fresh: 0 }]);
    expect(newPerBatch(tiny, 5, 1, 1)).to.deep.equal([{ credited: 4, fresh: 0 }]);
    const aged = newPerBatch(REFERENCE, 12, 20_000, 5), young = newPerBatch(REFERENCE, 12, 0, 5);
    expect(aged.reduce((a, x) => a + x.fresh, 0)).to.be.lessThan(young.reduce((a, x) => a + x.fresh, 0));
  });
});
