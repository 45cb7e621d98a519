// The same transformer as models/lm/transformer.ts (pre-norm, RMSNorm with
// gains, causal multi-head attention, GELU MLP, learned positions, no biases),
// written in @tensorflow/tfjs ops on its pure-JS CPU backend, with
// gradients from tf.variableGrads: the baseline that the hand-written engine
// was chosen against (bench/models.ts).
import * as tf from "@tensorflow/tfjs";
import type { LMConfig } from "../../models/lm/transformer.js";

export async function tfjsReady(): Promise<void> {
  await tf.setBackend("cpu");
  await tf.ready();
}

export interface TfjsModel {
  step(tokens: Int32Array, B: number, T: number): number;
  dispose(): void;
}

/** A model with random weights and one SGD step per call (the step's cost is forward + backward + update). */
export function tfjsTransformer(c: LMConfig, lr = 1e-3): TfjsModel {
  const w = (shape: number[], std = 0.02) => tf.variable(tf.randomNormal(shape, 0, std, "float32", 1));
  const ones = (n: number) => tf.variable(tf.ones([n]));
  const tok = w([c.vocab, c.dim]);
  const pos = w([c.context, c.dim]);
  const layers = Array.from({ length: c.layers }, () => ({
    n1: ones(c.dim), q: w([c.dim, c.dim]), k: w([c.dim, c.dim]), v: w([c.dim, c.dim]), o: w([c.dim, c.dim]),
    n2: ones(c.dim), up: w([c.dim, c.hidden]), down: w([c.hidden, c.dim]),
  }));
  const nF = ones(c.dim);
  const head = w([c.dim, c.vocab]);
  const dh = c.dim / c.heads;
  const rms = (x: tf.Tensor, g: tf.Variable) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-5))), g);
  const gelu = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));

  const loss = (inputs: tf.Tensor2D, targets: tf.Tensor1D, B: number, T: number) => {
    const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // lower triangle: causal
    let x = tf.add(tf.gather(tok, inputs), tf.slice(pos, [0, 0], [T, c.dim])) as tf.Tensor; // [B, T, d]
    for (const L of layers) {
      const n = tf.reshape(rms(x, L.n1), [B * T, c.dim]);
      const heads = (m: tf.Tensor) => tf.transpose(tf.reshape(m, [B, T, c.heads, dh]), [0, 2, 1, 3]); // [B, H, T, dh]
      const q = heads(tf.matMul(n, L.q)), k = heads(tf.matMul(n, L.k)), v = heads(tf.matMul(n, L.v));
      const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh));
      const masked = tf.add(scores, tf.mul(tf.sub(1, mask), -1e9));
      const att = tf.matMul(tf.softmax(masked), v); // [B, H, T, dh]
      const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B * T, c.dim]);
      x = tf.add(x, tf.reshape(tf.matMul(merged, L.o), [B, T, c.dim]));
      const n2 = tf.reshape(rms(x, L.n2), [B * T, c.dim]);
      x = tf.add(x, tf.reshape(tf.matMul(gelu(tf.matMul(n2, L.up)), L.down), [B, T, c.dim]));
    }
    const logits = tf.matMul(tf.reshape(rms(x, nF), [B * T, c.dim]), head);
    return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, c.vocab), logits) as tf.Scalar;
  };

  return {
    step(tokens, B, T) {
      return tf.tidy(() => {
        const all = tf.tensor2d(tokens, [B, T + 1], "int32");
        const inputs = tf.slice(all, [0, 0], [B, T]) as tf.Tensor2D;
        const targets = tf.reshape(tf.slice(all, [0, 1], [B, T]), [B * T]) as tf.Tensor1D;
        const { value, grads } = tf.variableGrads(() => loss(inputs, targets, B, T));
        for (const [name, g] of Object.entries(grads)) {
          const v = tf.engine().registeredVariables[name] as tf.Variable;
          v.assign(tf.sub(v, tf.mul(g, lr)));
        }
        return value.dataSync()[0];
      });
    },
    dispose() {
      tf.disposeVariables();
    },
  };
}
