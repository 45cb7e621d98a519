// Dense kernels on Float32Array, row-major. Every loop runs along contiguous
// memory in its innermost index (i-k-j order), which is what makes plain JS
// competitive here: V8 keeps the operands in registers and the rows in cache.
// The training, fine-tuning and serving paths all go through these functions.

/** C[M×N] (+)= A[M×K] · B[K×N]. Two rows of C and four of B per pass: each C element is loaded and stored K/4 times instead of K. */
export function matmul(A: Float32Array, B: Float32Array, C: Float32Array, M: number, K: number, N: number, accumulate = false): void {
  if (!accumulate) C.fill(0, 0, M * N);
  let i = 0;
  for (; i + 1 < M; i += 2) {
    const c0 = i * N, c1 = c0 + N, a0 = i * K, a1 = a0 + K;
    let k = 0;
    for (; k + 3 < K; k += 4) {
      const x0 = A[a0 + k], x1 = A[a0 + k + 1], x2 = A[a0 + k + 2], x3 = A[a0 + k + 3];
      const y0 = A[a1 + k], y1 = A[a1 + k + 1], y2 = A[a1 + k + 2], y3 = A[a1 + k + 3];
      const b0 = k * N, b1 = b0 + N, b2 = b1 + N, b3 = b2 + N;
      for (let j = 0; j < N; j++) {
        const p = B[b0 + j], q = B[b1 + j], r = B[b2 + j], s = B[b3 + j];
        C[c0 + j] += x0 * p + x1 * q + x2 * r + x3 * s;
        C[c1 + j] += y0 * p + y1 * q + y2 * r + y3 * s;
      }
    }
    for (; k < K; k++) {
      const x = A[a0 + k], y = A[a1 + k], bk = k * N;
      for (let j = 0; j < N; j++) {
        C[c0 + j] += x * B[bk + j];
        C[c1 + j] += y * B[bk + j];
      }
    }
  }
  // A last odd row sums in the same order as a paired row, so a row's result does not depend on
  // its neighbours: a sequence decoded in a batch gets exactly the logits it gets alone.
  for (; i < M; i++) {
    const c0 = i * N, a0 = i * K;
    let k = 0;
    for (; k + 3 < K; k += 4) {
      const x0 = A[a0 + k], x1 = A[a0 + k + 1], x2 = A[a0 + k + 2], x3 = A[a0 + k + 3];
      const b0 = k * N, b1 = b0 + N, b2 = b1 + N, b3 = b2 + N;
      for (let j = 0; j < N; j++) C[c0 + j] += x0 * B[b0 + j] + x1 * B[b1 + j] + x2 * B[b2 + j] + x3 * B[b3 + j];
    }
    for (; k < K; k++) {
      const x = A[a0 + k], bk = k * N;
      for (let j = 0; j < N; j++) C[c0 + j] += x * B[bk + j];
    }
  }
}

/**
 * C[M×K] (+)= A[M×N] · B[K×N]ᵀ. For many rows, B is transposed once (K·N moves)
 * and matmul's blocked loop does the rest; dot products of rows run at half its speed.
 */
export function matmulBT(A: Float32Array, B: Float32Array, C: Float32Array, M: number, N: number, K: number, accumulate = false): void {
  if (M >= 8) {
    const Bt = new Float32Array(N * K);
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) Bt[j * K + k] = B[k * N + j];
    matmul(A, Bt, C, M, N, K, accumulate);
    return;
  }
  for (let i = 0; i < M; i++) {
    const ai = i * N, ci = i * K;
    let k = 0;
    for (; k + 1 < K; k += 2) {
      const b0 = k * N, b1 = b0 + N;
      let s0 = 0, s1 = 0;
      for (let j = 0; j < N; j++) {
        const a = A[ai + j];
        s0 += a * B[b0 + j];
        s1 += a * B[b1 + j];
      }
      if (accumulate) {
        C[ci + k] += s0;
        C[ci + k + 1] += s1;
      } else {
        C[ci + k] = s0;
        C[ci + k + 1] = s1;
      }
    }
    for (; k < K; k++) {
      const bk = k * N;
      let s = 0;
      for (let j = 0; j < N; j++) s += A[ai + j] * B[bk + j];
      C[ci + k] = accumulate ? C[ci + k] + s : s;
    }
  }
}

/** C[K×N] += A[M×K]ᵀ · B[M×N] (weight gradients: outer products of rows), four rows of B into two of C per pass. */
export function matmulATAccumulate(A: Float32Array, B: Float32Array, C: Float32Array, M: number, K: number, N: number): void {
  let i = 0;
  for (; i + 3 < M; i += 4) {
    const a0 = i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    const b0 = i * N, b1 = b0 + N, b2 = b1 + N, b3 = b2 + N;
    let k = 0;
    for (; k + 1 < K; k += 2) {
      const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
      const y0 = A[a0 + k + 1], y1 = A[a1 + k + 1], y2 = A[a2 + k + 1], y3 = A[a3 + k + 1];
      const c0 = k * N, c1 = c0 + N;
      for (let j = 0; j < N; j++) {
        const p = B[b0 + j], q = B[b1 + j], r = B[b2 + j], s = B[b3 + j];
        C[c0 + j] += x0 * p + x1 * q + x2 * r + x3 * s;
        C[c1 + j] += y0 * p + y1 * q + y2 * r + y3 * s;
      }
    }
    for (; k < K; k++) {
      const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k], ck = k * N;
      for (let j = 0; j < N; j++) C[ck + j] += x0 * B[b0 + j] + x1 * B[b1 + j] + x2 * B[b2 + j] + x3 * B[b3 + j];
    }
  }
  for (; i < M; i++) {
    const ai = i * K, bi = i * N;
    for (let k = 0; k < K; k++) {
      const a = A[ai + k], ck = k * N;
      for (let j = 0; j < N; j++) C[ck + j] += a * B[bi + j];
    }
  }
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** GELU (tanh form), elementwise. */
export function gelu(x: Float32Array, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v)));
  }
}

/** dx = dy · gelu'(x). */
export function geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const u = GELU_C * (v + 0.044715 * v * v * v);
    const t = Math.tanh(u);
    const du = GELU_C * (1 + 3 * 0.044715 * v * v);
    dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
  }
}

/** In-place softmax of a row segment; returns the log of the normalizer (for log-probabilities). */
export function softmaxRow(x: Float32Array, off: number, n: number): number {
  let max = -Infinity;
  for (let j = 0; j < n; j++) if (x[off + j] > max) max = x[off + j];
  let sum = 0;
  for (let j = 0; j < n; j++) sum += x[off + j] = Math.exp(x[off + j] - max);
  const inv = 1 / sum;
  for (let j = 0; j < n; j++) x[off + j] *= inv;
  return max + Math.log(sum);
}

/**
 * RMS normalization with a learned gain per channel, for N rows of width d.
 * Keeps 1/rms per row for the backward pass.
 */
export function rmsNorm(x: Float32Array, gain: Float32Array, gOff: number, out: Float32Array, invRms: Float32Array, N: number, d: number): void {
  for (let i = 0; i < N; i++) {
    const o = i * d;
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[o + j] * x[o + j];
    const r = 1 / Math.sqrt(ss / d + 1e-5);
    invRms[i] = r;
    for (let j = 0; j < d; j++) out[o + j] = x[o + j] * r * gain[gOff + j];
  }
}

/** Backward of rmsNorm: dx (accumulated) and, when given, dGain (accumulated). */
export function rmsNormBackward(x: Float32Array, gain: Float32Array, gOff: number, invRms: Float32Array, dy: Float32Array, dx: Float32Array, dGain: Float32Array | null, N: number, d: number): void {
  for (let i = 0; i < N; i++) {
    const o = i * d;
    const r = invRms[i];
    let dot = 0;
    for (let j = 0; j < d; j++) {
      const g = dy[o + j] * gain[gOff + j];
      dot += g * x[o + j];
      if (dGain) dGain[gOff + j] += dy[o + j] * x[o + j] * r;
    }
    const c = (dot * r * r * r) / d;
    for (let j = 0; j < d; j++) dx[o + j] += dy[o + j] * gain[gOff + j] * r - c * x[o + j];
  }
}
