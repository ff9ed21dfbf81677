import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/finetune/index.js';
import { rmsNorm } from '../../../src/finetune/hf/rms-norm.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const seeded = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + seed) * (1 + (i % 3)));

/** LlamaRMSNorm by the definition in float64. */
function bruteForce(x: Float32Array, w: Float32Array, D: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += D) {
    let ss = 0;
    for (let j = 0; j < D; j++) ss += x[o + j]! ** 2;
    const r = 1 / Math.sqrt(ss / D + eps);
    for (let j = 0; j < D; j++) out[o + j] = w[j]! * x[o + j]! * r;
  }
  return out;
}

/** A float64 loss Σ c·rmsNorm(x, w) for finite differences. */
function lossOf(x: Float32Array | Float64Array, w: Float32Array | Float64Array, c: Float32Array, D: number, eps: number): number {
  let total = 0;
  for (let o = 0; o < x.length; o += D) {
    let ss = 0;
    for (let j = 0; j < D; j++) ss += x[o + j]! ** 2;
    const r = 1 / Math.sqrt(ss / D + eps);
    for (let j = 0; j < D; j++) total += c[o + j]! * w[j]! * x[o + j]! * r;
  }
  return total;
}

describe('rmsNorm — LlamaRMSNorm as one operation with its closed-form gradient', () => {
  it('equals the definition and the tfjs eager form for odd widths and ranks', () => {
    for (const [shape, eps] of [[[1, 1], 1e-6], [[3, 7], 1e-5], [[2, 3, 5], 1e-6], [[4, 33], 1e-2]] as Array<[number[], number]>) {
      const D = shape[shape.length - 1]!;
      const size = shape.reduce((a, b) => a * b, 1);
      const xData = seeded(size, D);
      const wData = seeded(D, 7);
      const x = tf.tensor(xData, shape);
      const w = tf.tensor1d(wData);
      const ours = rmsNorm(x, w, eps);
      expect(ours.shape).toEqual(shape);
      const values = ours.dataSync();
      const exact = bruteForce(xData, wData, D, eps);
      for (let i = 0; i < size; i++) expect(Math.abs(values[i]! - exact[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(exact[i]!)));
      const eager = tf.tidy(() => x.mul(tf.rsqrt(x.mul(x).mean(-1, true).add(eps))).mul(w).dataSync());
      for (let i = 0; i < size; i++) expect(Math.abs(values[i]! - eager[i]!)).toBeLessThan(1e-6 * (1 + Math.abs(eager[i]!)));
      tf.dispose([x, w, ours]);
    }
  });

  it('has gradients for x and a trainable weight equal to finite differences of a float64 loss; a frozen weight gets none; memory flat', () => {
    const [N, D, eps] = [3, 6, 1e-5];
    const xData = seeded(N * D, 2);
    const wData = seeded(D, 5);
    const c = seeded(N * D, 11);
    const x = tf.variable(tf.tensor2d(xData, [N, D]));
    const trainableW = tf.variable(tf.tensor1d(wData));
    const frozenW = tf.variable(tf.tensor1d(wData), false);
    const cT = tf.tensor2d(c, [N, D]);
    const grads = (w: tf.Variable) => {
      const { value, grads: g } = tf.variableGrads(() => rmsNorm(x, w, eps).mul(cT).sum() as tf.Scalar, [x, w].filter((v) => v.trainable));
      const out = Object.fromEntries(Object.entries(g).map(([k, t]) => [k, Array.from(t.dataSync())]));
      tf.dispose([value, ...Object.values(g)]);
      return out;
    };
    const before = tf.memory().numTensors;
    for (let rep = 0; rep < 3; rep++) grads(trainableW);
    expect(tf.memory().numTensors).toBe(before);
    const g = grads(trainableW);
    const h = 1e-5;
    const fd = (which: 'x' | 'w', i: number) => {
      const xs = Float64Array.from(xData);
      const ws = Float64Array.from(wData);
      const arr = which === 'x' ? xs : ws;
      arr[i]! += h;
      const plus = lossOf(xs, ws, c, D, eps);
      arr[i]! -= 2 * h;
      return (plus - lossOf(xs, ws, c, D, eps)) / (2 * h);
    };
    for (let i = 0; i < N * D; i++) expect(g[x.name]![i]).toBeCloseTo(fd('x', i), 4);
    for (let j = 0; j < D; j++) expect(g[trainableW.name]![j]).toBeCloseTo(fd('w', j), 4);
    const frozen = grads(frozenW);
    expect(Object.keys(frozen)).toEqual([x.name]);
    for (let i = 0; i < N * D; i++) expect(frozen[x.name]![i]).toBeCloseTo(g[x.name]![i]!, 6);
    tf.dispose([x, trainableW, frozenW, cT]);
  });

  it('refuses a weight that does not match the last axis with a typed error', () => {
    const x = tf.zeros([2, 4]);
    const w = tf.ones([3]);
    expect(() => rmsNorm(x, w, 1e-6)).toThrow(expect.objectContaining({ code: 'LORA_SHAPE_MISMATCH' }));
    tf.dispose([x, w]);
  });
});
