import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/finetune/index.js';
import { rotaryHeads, rotaryTables } from '../../../src/finetune/hf/rotary.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

/** RoFormer's rotation by the definition, in float64: pairs (i, i + d/2) of head h of row r turned by position·θ^(−2i/d). */
function bruteForce(x: Float32Array, positions: number[], B: number, T: number, H: number, d: number, theta: number): Float64Array {
  const half = d / 2;
  const out = new Float64Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < half; i++) {
          const angle = positions[b * T + t]! / theta ** ((2 * i) / d);
          const x1 = x[(b * T + t) * H * d + h * d + i]!;
          const x2 = x[(b * T + t) * H * d + h * d + half + i]!;
          const o = ((b * H + h) * T + t) * d;
          out[o + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
          out[o + half + i] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
        }
      }
    }
  }
  return out;
}

/** transformers' eager form with tfjs ops: split heads, then q·cos + rotate_half(q)·sin (rotate_half = [−x₂, x₁]). */
function tfjsReference(x: tf.Tensor, positions: number[], B: number, T: number, H: number, d: number, theta: number): tf.Tensor {
  const half = d / 2;
  const angles = new Float32Array(B * T * d);
  for (let r = 0; r < B * T; r++) {
    for (let i = 0; i < half; i++) {
      const inv = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / d)));
      angles[r * d + i] = angles[r * d + half + i] = Math.fround(inv * positions[r]!);
    }
  }
  const angle = tf.tensor4d(angles, [B, 1, T, d]);
  const heads = x.reshape([B, T, H, d]).transpose([0, 2, 1, 3]);
  const [x1, x2] = tf.split(heads, 2, 3);
  const rotated = tf.concat([x2!.neg(), x1!], 3);
  return heads.mul(tf.cos(angle)).add(rotated.mul(tf.sin(angle)));
}

const seeded = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 2);

describe('rotaryHeads — RoPE fused with the head split', () => {
  const cases: Array<[number, number, number, number, number]> = [
    [1, 1, 1, 2, 10000],
    [2, 3, 3, 6, 10000],
    [3, 5, 2, 8, 500000],
    [2, 7, 4, 16, 10000],
  ];

  it('equals the definition (float64) and the tfjs eager form for odd shapes and arbitrary positions', () => {
    for (const [B, T, H, d, theta] of cases) {
      const positions = Array.from({ length: B * T }, (_, r) => (r * 37 + 5) % 113);
      const data = seeded(B * T * H * d, B + T + d);
      const x = tf.tensor2d(data, [B * T, H * d]);
      const ours = rotaryHeads(x, rotaryTables(positions, d, theta), B, T, H);
      expect(ours.shape).toEqual([B, H, T, d]);
      const values = ours.dataSync();
      const exact = bruteForce(data, positions, B, T, H, d, theta);
      // Positions up to 112: the float32 angle carries ≈ 1e-5 absolute error, as in transformers.
      for (let i = 0; i < exact.length; i++) expect(Math.abs(values[i]! - exact[i]!)).toBeLessThan(1e-4);
      const reference = tfjsReference(x, positions, B, T, H, d, theta).dataSync();
      for (let i = 0; i < reference.length; i++) expect(Math.abs(values[i]! - reference[i]!)).toBeLessThan(1e-6);
      tf.dispose([x, ours]);
    }
  });

  it('has the inverse rotation as its gradient (finite differences), and leaves no tensors behind', () => {
    const [B, T, H, d] = [2, 3, 3, 6];
    const positions = [0, 1, 2, 7, 8, 9];
    const tables = rotaryTables(positions, d, 10000);
    const weights = tf.tensor4d(seeded(B * H * T * d, 9), [B, H, T, d]);
    const loss = (x: tf.Tensor) => rotaryHeads(x, tables, B, T, H).mul(weights).sum();
    const data = seeded(B * T * H * d, 3);
    const x = tf.tensor2d(data, [B * T, H * d]);
    const before = tf.memory().numTensors;
    for (let rep = 0; rep < 3; rep++) tf.tidy(() => void tf.grad(loss)(x).dataSync());
    expect(tf.memory().numTensors).toBe(before);
    const grad = tf.tidy(() => tf.grad(loss)(x).dataSync());
    const eps = 1e-2;
    for (const i of [0, 4, 17, 35, data.length - 1]) {
      const plus = data.slice();
      const minus = data.slice();
      plus[i]! += eps;
      minus[i]! -= eps;
      const fd = tf.tidy(() => (loss(tf.tensor2d(plus, [B * T, H * d])).dataSync()[0]! - loss(tf.tensor2d(minus, [B * T, H * d])).dataSync()[0]!) / (2 * eps));
      expect(grad[i]).toBeCloseTo(fd, 3);
    }
    tf.dispose([weights, x]);
  });

  it('refuses an input whose shape does not match the tables with a typed error', () => {
    const x = tf.zeros([4, 6]);
    expect(() => rotaryHeads(x, rotaryTables([0, 1, 2], 6, 10000), 1, 4, 1)).toThrow(expect.objectContaining({ code: 'LORA_SHAPE_MISMATCH' }));
    x.dispose();
  });
});
