import { tf } from '../../../src/finetune/index.js';
import type { Model } from '../../../src/finetune/models/model.js';

/** Logits as a plain array (the forward pass in a tidy, then read and freed). */
export function logitsOf(model: Model, x: tf.Tensor): Float32Array {
  const out = tf.tidy(() => model.forward(x));
  const values = Float32Array.from(out.dataSync() as Float32Array);
  out.dispose();
  return values;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

export function maxAbs(a: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]!));
  return max;
}

export function values(v: tf.Tensor): Float32Array {
  return Float32Array.from(v.dataSync() as Float32Array);
}

export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Every base weight's bytes, by name. */
export function snapshotWeights(model: Model): Map<string, Float32Array> {
  return new Map([...model.weights].map(([name, v]) => [name, values(v)]));
}

/** Row-major float64 product of [n, k]·[k, m]. */
export function matmul64(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += a[i * k + t]! * b[t * m + j]!;
    out[i * m + j] = s;
  }
  return out;
}

export function randomInputs(n: number, d: number, seed: number): tf.Tensor2D {
  return tf.randomNormal([n, d], 0, 1, 'float32', seed) as tf.Tensor2D;
}
