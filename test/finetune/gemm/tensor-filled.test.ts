import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/finetune/index.js';
import { tensorFilled, valuesOf } from '../../../src/finetune/gemm/gemm-linear.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('tensorFilled — a tensor written in place in tfjs memory', () => {
  it('holds exactly what fill wrote, in the requested shape, and is freed like any tensor', () => {
    const before = tf.memory().numTensors;
    const t = tensorFilled([3, 4, 5], (v) => {
      expect(v.length).toBe(60);
      for (let i = 0; i < v.length; i++) v[i] = i * 0.5 - 7;
    });
    expect(t.shape).toEqual([3, 4, 5]);
    expect(t.dtype).toBe('float32');
    expect(Array.from(t.dataSync())).toEqual(Array.from({ length: 60 }, (_, i) => i * 0.5 - 7));
    // An op on it reads the written values (the tensor is an ordinary tfjs tensor).
    const sum = t.sum();
    expect(sum.dataSync()[0]).toBeCloseTo(Array.from({ length: 60 }, (_, i) => i * 0.5 - 7).reduce((a, b) => a + b), 4);
    tf.dispose([t, sum]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads an older tensor inside fill correctly even when the output made tfjs grow its heap', () => {
    const source = tf.tensor1d(Float32Array.from({ length: 1000 }, (_, i) => Math.cos(i)));
    const expected = Array.from(source.dataSync(), (x) => Math.fround(2 * x));
    // 96 MiB: more than the heap holds at this point, so the allocation grows it (detaching earlier views).
    const big = tensorFilled([24 * 1024 * 1024], (v) => {
      const src = valuesOf(source);
      for (let i = 0; i < 1000; i++) v[i] = 2 * src[i]!;
      v.fill(0, 1000);
    });
    const head = big.slice(0, 1000);
    expect(Array.from(head.dataSync())).toEqual(expected);
    tf.dispose([big, head, source]);
  });
});
