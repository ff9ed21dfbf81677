import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/finetune/index.js';
import { rmsNorm } from '../../../src/finetune/hf/layers.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('rmsNorm — LlamaRMSNorm with its closed-form gradient', () => {
  const [N, D] = [6, 10];
  const eps = 1e-5;
  const xs = Float32Array.from({ length: N * D }, (_, i) => Math.sin(i * 0.73) * (1 + (i % 3)));
  const ws = Float32Array.from({ length: D }, (_, j) => 0.5 + Math.cos(j));
  const dys = Float32Array.from({ length: N * D }, (_, i) => Math.cos(i * 1.7));
  // The unfused definition, in float64 by hand: y = w·x / √(mean(x²) + ε).
  const reference = (x: Float64Array | Float32Array, w: Float64Array | Float32Array): Float64Array => {
    const y = new Float64Array(N * D);
    for (let n = 0; n < N; n++) {
      let ss = 0;
      for (let j = 0; j < D; j++) ss += x[n * D + j]! ** 2;
      const r = 1 / Math.sqrt(ss / D + eps);
      for (let j = 0; j < D; j++) y[n * D + j] = w[j]! * x[n * D + j]! * r;
    }
    return y;
  };
  const lossOf = (x: Float64Array | Float32Array, w: Float64Array | Float32Array) => reference(x, w).reduce((a, v, i) => a + v * dys[i]!, 0);

  it('equals the float64 definition and the tfjs op chain it replaces', () => {
    const x = tf.tensor2d(xs, [N, D]);
    const w = tf.tensor1d(ws);
    const ours = tf.tidy(() => rmsNorm(x, w, eps).dataSync());
    const chain = tf.tidy(() => x.mul(tf.rsqrt(x.mul(x).mean(-1, true).add(eps))).mul(w).dataSync());
    const ref = reference(xs, ws);
    for (let i = 0; i < N * D; i++) {
      expect(Math.abs(ours[i]! - ref[i]!)).toBeLessThan(1e-6);
      expect(ours[i]).toBe(chain[i]);
    }
    tf.dispose([x, w]);
  });

  it('has gradients in x and in the weight equal to central finite differences of the float64 definition, and a rank-3 input works', () => {
    const x = tf.tensor3d(xs, [2, N / 2, D]);
    const w = tf.variable(tf.tensor1d(ws), true);
    const dy = tf.tensor3d(dys, [2, N / 2, D]);
    const before = tf.memory().numTensors;
    const [gx, gw] = tf.tidy(() => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => rmsNorm(a, b, eps).mul(dy).sum())([x, w]);
      return [g[0]!.dataSync(), g[1]!.dataSync()];
    });
    expect(tf.memory().numTensors).toBe(before);
    const h = 1e-5;
    const x64 = Float64Array.from(xs);
    const w64 = Float64Array.from(ws);
    for (let i = 0; i < N * D; i++) {
      const p = x64.slice();
      const m = x64.slice();
      p[i]! += h;
      m[i]! -= h;
      expect(Math.abs(gx[i]! - (lossOf(p, w64) - lossOf(m, w64)) / (2 * h))).toBeLessThan(2e-5);
    }
    for (let j = 0; j < D; j++) {
      const p = w64.slice();
      const m = w64.slice();
      p[j]! += h;
      m[j]! -= h;
      expect(Math.abs(gw[j]! - (lossOf(x64, p) - lossOf(x64, m)) / (2 * h))).toBeLessThan(2e-5);
    }
    tf.dispose([x, w, dy]);
  });

  it('gives a frozen weight no gradient work and still the right input gradient; a wrong weight size is a typed error', () => {
    const x = tf.tensor2d(xs, [N, D]);
    const frozen = tf.variable(tf.tensor1d(ws), false);
    const dy = tf.tensor2d(dys, [N, D]);
    const gx = tf.tidy(() => tf.grad((a: tf.Tensor) => rmsNorm(a, frozen, eps).mul(dy).sum())(x).dataSync());
    const chain = tf.tidy(() => tf.grad((a: tf.Tensor) => a.mul(tf.rsqrt(a.mul(a).mean(-1, true).add(eps))).mul(frozen).mul(dy).sum())(x).dataSync());
    for (let i = 0; i < N * D; i++) expect(Math.abs(gx[i]! - chain[i]!)).toBeLessThan(1e-6);
    const bad = tf.ones([D + 1]);
    expect(() => rmsNorm(x, bad, eps)).toThrow(expect.objectContaining({ code: 'LORA_SHAPE_MISMATCH' }));
    tf.dispose([x, frozen, dy, bad]);
  });
});
