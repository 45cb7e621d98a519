// Named tensors in one flat Float32Array. A model's weights, its gradients, its
// Adam moments and a LoRA adapter all use this layout, so saving, hashing and
// optimizer steps work on a single buffer, and each tensor is a view into it.
import { rng } from "../../attribution/influence/model.js";

export interface TensorSpec {
  name: string;
  rows: number;
  cols: number;
}

export class Layout {
  readonly offsets = new Map<string, { offset: number; rows: number; cols: number }>();
  readonly size: number;
  constructor(readonly specs: readonly TensorSpec[]) {
    let offset = 0;
    for (const s of specs) {
      if (this.offsets.has(s.name)) throw new Error(`tensor ${s.name} declared twice`);
      this.offsets.set(s.name, { offset, rows: s.rows, cols: s.cols });
      offset += s.rows * s.cols;
    }
    this.size = offset;
  }

  /** Views of every tensor of `buffer` by name. */
  views(buffer: Float32Array): Record<string, Float32Array> {
    if (buffer.length !== this.size) throw new Error(`buffer has ${buffer.length} floats, the layout needs ${this.size}`);
    const out: Record<string, Float32Array> = {};
    for (const [name, { offset, rows, cols }] of this.offsets) out[name] = buffer.subarray(offset, offset + rows * cols);
    return out;
  }
}

/** Standard normal samples from a seeded generator (Box–Muller). */
export function gaussian(seed: number): () => number {
  const u = rng(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const a = Math.max(u(), 1e-12);
    const b = u();
    const r = Math.sqrt(-2 * Math.log(a));
    spare = r * Math.sin(2 * Math.PI * b);
    return r * Math.cos(2 * Math.PI * b);
  };
}
