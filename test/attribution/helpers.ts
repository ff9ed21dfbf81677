/** Shared helpers for the attribution tests: tiny models, data, and one-example-at-a-time autograd references. */
import { createLogisticRegression, createMlp, tf, type Linear, type Model } from '../../src/finetune/index.js';

export function attachAdapter(layer: Linear, r: number, seed: number, scale = 2, name = 'default'): void {
  const A = tf.variable(tf.randomNormal([layer.inFeatures, r], 0, 0.3, 'float32', seed), true);
  const B = tf.variable(tf.randomNormal([r, layer.outFeatures], 0, 0.3, 'float32', seed + 1), true);
  layer.adapters.set(name, { A, B, scale, dropout: 0 });
  layer.active = [...layer.active, name];
}

/** Random weights (so gradients are non-trivial), seeded. */
export function randomizeWeights(model: Model, seed: number, std = 0.5): void {
  let k = 0;
  for (const v of model.weights.values()) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, std, 'float32', seed + k++)));
}

export function tinyLr(seed = 1, inputSize = 5, classes = 3): Model {
  const m = createLogisticRegression({ inputSize, numClasses: classes, seed });
  randomizeWeights(m, seed);
  return m;
}

export function tinyMlp(seed = 2, inputSize = 6, hidden = [5], classes = 3): Model {
  const m = createMlp({ inputSize, hiddenSizes: hidden, numClasses: classes, seed });
  randomizeWeights(m, seed);
  return m;
}

export function randomData(n: number, d: number, classes: number, seed: number): { x: Float32Array; labels: Int32Array } {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const x = new Float32Array(n * d).map(() => next() * 2 - 1);
  const labels = new Int32Array(n).map(() => Math.floor(next() * classes));
  return { x, labels };
}

/** −log softmax(z)[y] summed, or the TRAK margin z_y − logsumexp_{c≠y} z_c, written with plain tfjs ops. */
export function referenceObjective(logits: tf.Tensor, labels: Int32Array, classes: number, target: 'loss' | 'margin'): tf.Scalar {
  const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
  if (target === 'loss') return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, undefined, tf.Reduction.SUM) as tf.Scalar;
  const zy = tf.sum(tf.mul(logits, onehot), 1);
  const others = tf.add(logits, tf.mul(onehot, -1e9));
  return tf.sum(tf.sub(zy, tf.logSumExp(others, 1))) as tf.Scalar;
}

/** One backward pass per example with tfjs autograd: the per-example gradient, concatenated over `vars` (flattened). */
export function autogradPerExample(
  model: Model,
  x: Float32Array,
  labels: Int32Array,
  vars: tf.Variable[],
  target: 'loss' | 'margin' = 'loss',
): Float32Array[] {
  const d = x.length / labels.length;
  const out: Float32Array[] = [];
  const restore = vars.map((v) => v.trainable);
  vars.forEach((v) => (v.trainable = true));
  for (let i = 0; i < labels.length; i++) {
    const xi = tf.tensor2d(x.slice(i * d, (i + 1) * d), [1, d]);
    const { value, grads } = tf.variableGrads(() => {
      const z = model.forward(xi);
      return referenceObjective(z, labels.slice(i, i + 1), z.shape[1]!, target);
    }, vars);
    const parts = vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
    const row = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      row.set(p, at);
      at += p.length;
    }
    out.push(row);
    tf.dispose([xi, value, Object.values(grads)]);
  }
  vars.forEach((v, j) => (v.trainable = restore[j]!));
  return out;
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i]!), (mb += b[i]!);
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma, db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/**
 * The factorized projection computed the slow way from full per-example gradients `raw` (rows × rawDim): each block is
 * multiplied by P_in ⊗ P_out (weights), P_out (bias), P_in (LoRA A's input side) or P_out (LoRA B's output side).
 */
export function kroneckerProject(
  raw: { data: Float32Array; dim: number },
  rows: number,
  entries: { kind: string; module: string; shape: number[]; size: number }[],
  model: Model,
  spec: { kind: 'gaussian' | 'rademacher' | 'sparse'; inDim: number; outDim: number; seed: number },
  projectionMatrix: (kind: 'gaussian' | 'rademacher' | 'sparse', d: number, k: number, seed: number) => Float32Array,
  deriveSeed: (seed: number, label: string) => number,
): number[] {
  const { inDim: kIn, outDim: kOut, seed } = spec;
  const expected: number[][] = Array.from({ length: rows }, () => []);
  let rawOffset = 0;
  for (const e of entries) {
    const layer = model.linears.get(e.module)!;
    const Pin = projectionMatrix(spec.kind, layer.inFeatures, kIn, deriveSeed(seed, `${e.module}/in`));
    const Pout = projectionMatrix(spec.kind, layer.outFeatures, kOut, deriveSeed(seed, `${e.module}/out`));
    for (let i = 0; i < rows; i++) {
      const g = (idx: number) => raw.data[i * raw.dim + rawOffset + idx]!;
      const row = expected[i]!;
      if (e.kind === 'weight') {
        const [din, dout] = e.shape as [number, number];
        for (let a = 0; a < kIn; a++) for (let b = 0; b < kOut; b++) {
          let s = 0;
          for (let p = 0; p < din; p++) for (let q = 0; q < dout; q++) s += g(p * dout + q) * Pin[p * kIn + a]! * Pout[q * kOut + b]!;
          row.push(s);
        }
      } else if (e.kind === 'bias') {
        for (let b = 0; b < kOut; b++) {
          let s = 0;
          for (let q = 0; q < e.size; q++) s += g(q) * Pout[q * kOut + b]!;
          row.push(s);
        }
      } else if (e.kind === 'lora_A') {
        const [din, r] = e.shape as [number, number];
        for (let a = 0; a < kIn; a++) for (let c = 0; c < r; c++) {
          let s = 0;
          for (let p = 0; p < din; p++) s += g(p * r + c) * Pin[p * kIn + a]!;
          row.push(s);
        }
      } else {
        const [r, dout] = e.shape as [number, number];
        for (let c = 0; c < r; c++) for (let b = 0; b < kOut; b++) {
          let s = 0;
          for (let q = 0; q < dout; q++) s += g(c * dout + q) * Pout[q * kOut + b]!;
          row.push(s);
        }
      }
    }
    rawOffset += e.size;
  }
  return expected.flat();
}

/** What `f` throws (undefined when it returns): for asserting an error's type and fields. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}
