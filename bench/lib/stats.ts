// Summary statistics shared by the benchmarks.

/** The q-quantile (nearest rank) of xs. */
export const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

export const median = (xs: number[]) => quantile(xs, 0.5);

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Area under the ROC curve of `scores` for the `positive` examples (Mann–Whitney, ties by order). */
export function auc(scores: number[], positive: boolean[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0, nPos = 0;
  order.forEach(([, i], r) => positive[i] && ((rankSum += r + 1), nPos++));
  const nNeg = scores.length - nPos;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i] / n), (mb += b[i] / n);
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < n; i++) {
    num += (a[i] - ma) * (b[i] - mb);
    da += (a[i] - ma) ** 2;
    db += (b[i] - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

/** Spearman's rank correlation (ties broken by position). */
export function spearman(a: number[], b: number[]): number {
  const ranks = (xs: number[]) => {
    const r = new Array<number>(xs.length);
    xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]).forEach(([, i], k) => (r[i] = k));
    return r;
  };
  return pearson(ranks(a), ranks(b));
}
