import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/finetune/index.js';
import { attentionBias } from '../../../src/finetune/hf/layers.js';
import { scaledMaskedSoftmax } from '../../../src/finetune/models/transformer.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('scaledMaskedSoftmax — attention probabilities with the closed-form softmax gradient', () => {
  // B 2, H 3, T 5 queries after 2 cached positions (S 7), causal with a padded key in row 1.
  const [B, H, T, S] = [2, 3, 5, 7];
  const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1];
  const scale = 0.37;
  const data = Float32Array.from({ length: B * H * T * S }, (_, i) => Math.sin(i * 0.77) * 3);
  const weights = Float32Array.from({ length: B * H * T * S }, (_, i) => Math.cos(i * 1.31));
  const eager = (s: tf.Tensor, bias: tf.Tensor | null) => {
    let z = s.mul(scale);
    if (bias) z = z.reshape([B, H, T, S]).add(bias).reshape(s.shape);
    return tf.softmax(z);
  };

  it('equals the tfjs eager form (value and gradient) with and without a mask, for scores laid out [B·H, T, S]', () => {
    for (const withBias of [true, false]) {
      const bias = withBias ? attentionBias(B, T, S, { causal: true, mask }) : null;
      const x = tf.tensor3d(data, [B * H, T, S]);
      const w = tf.tensor3d(weights, [B * H, T, S]);
      const ours = tf.tidy(() => [scaledMaskedSoftmax(x, scale, bias, [B, H, T, S]).dataSync(), tf.grad((s: tf.Tensor) => scaledMaskedSoftmax(s, scale, bias, [B, H, T, S]).mul(w).sum())(x).dataSync()]);
      const ref = tf.tidy(() => [eager(x, bias).dataSync(), tf.grad((s: tf.Tensor) => eager(s, bias).mul(w).sum())(x).dataSync()]);
      for (let i = 0; i < data.length; i++) {
        expect(Math.abs(ours[0]![i]! - ref[0]![i]!)).toBeLessThan(1e-6);
        expect(Math.abs(ours[1]![i]! - ref[1]![i]!)).toBeLessThan(1e-6);
      }
      if (bias) {
        // Masked keys (later than the query, or padding) get probability 0; each row sums to 1.
        const p = ours[0]!;
        expect(p[(0 * T + 0) * S + 3]).toBe(0); // query 0 sees positions 0..2 only
        expect(p[((1 * H) * T + 4) * S + 2]).toBe(0); // row 1's key 2 is padding
        for (let r = 0; r < B * H * T; r++) expect(Array.from(p.slice(r * S, (r + 1) * S)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
      tf.dispose([x, w, ...(bias ? [bias] : [])]);
    }
  });

  it('has a gradient equal to finite differences, and keeps tf.memory() flat over repeated calls', () => {
    const bias = attentionBias(B, T, S, { causal: true, mask })!;
    const w = tf.tensor3d(weights, [B * H, T, S]);
    const loss = (s: tf.Tensor) => scaledMaskedSoftmax(s, scale, bias, [B, H, T, S]).mul(w).sum();
    const x = tf.tensor3d(data, [B * H, T, S]);
    const before = tf.memory().numTensors;
    for (let rep = 0; rep < 3; rep++) tf.tidy(() => void tf.grad(loss)(x).dataSync());
    expect(tf.memory().numTensors).toBe(before);
    const grad = tf.tidy(() => tf.grad(loss)(x).dataSync());
    const eps = 1e-2;
    for (const i of [0, 8, 40, 101, data.length - 1]) {
      const plus = data.slice();
      const minus = data.slice();
      plus[i]! += eps;
      minus[i]! -= eps;
      const fd = tf.tidy(() => (loss(tf.tensor3d(plus, [B * H, T, S])).dataSync()[0]! - loss(tf.tensor3d(minus, [B * H, T, S])).dataSync()[0]!) / (2 * eps));
      expect(grad[i]).toBeCloseTo(fd, 3);
    }
    tf.dispose([bias, w, x]);
  });
});
