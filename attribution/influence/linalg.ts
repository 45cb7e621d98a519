// Small dense linear algebra for the influence engine (Float64Array, row-major).

/** Eigen-decomposition of a symmetric k × k matrix by cyclic Jacobi rotations: values, and vectors as columns. */
export function symmetricEigen(A: Float64Array, k: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A), v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  let scale = 0;
  for (let i = 0; i < k * k; i++) scale += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += a[p * k + q] ** 2;
    if (off <= 1e-28 * scale) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = a[p * k + q];
        if (apq === 0) continue;
        const theta = (a[q * k + q] - a[p * k + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = a[r * k + p], arq = a[r * k + q];
          a[r * k + p] = c * arp - s * arq;
          a[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = a[p * k + r], aqr = a[q * k + r];
          a[p * k + r] = c * apr - s * aqr;
          a[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p], vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: k }, (_, i) => a[i * k + i]), vectors: v };
}

/**
 * In place: the `count` vectors of length `len` stored back to back become orthonormal (Gram–Schmidt,
 * twice). A vector that the earlier ones span (what is left is rounding noise) becomes zero.
 */
export function orthonormalize(Q: Float64Array, count: number, len: number): void {
  for (let c = 0; c < count; c++) {
    const qc = Q.subarray(c * len, (c + 1) * len);
    let before = 0;
    for (let j = 0; j < len; j++) before += qc[j] * qc[j];
    for (let pass = 0; pass < 2; pass++) {
      for (let b = 0; b < c; b++) {
        const qb = Q.subarray(b * len, (b + 1) * len);
        let d = 0;
        for (let j = 0; j < len; j++) d += qc[j] * qb[j];
        for (let j = 0; j < len; j++) qc[j] -= d * qb[j];
      }
    }
    let norm = 0;
    for (let j = 0; j < len; j++) norm += qc[j] * qc[j];
    if (norm <= 1e-20 * before || norm === 0) qc.fill(0);
    else for (let j = 0, inv = 1 / Math.sqrt(norm); j < len; j++) qc[j] *= inv;
  }
}
