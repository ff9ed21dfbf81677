import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../../src/finetune/index.js';
import { gatherRows } from '../../../src/finetune/hf/layers.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('gatherRows — embedding lookup by row copies', () => {
  it('equals tf.gather for a [V, D] table and a tied [D, V] head kernel, repeated and edge ids included', () => {
    const [V, D] = [11, 7];
    const table = tf.tensor2d(Float32Array.from({ length: V * D }, (_, i) => Math.sin(i * 0.91)), [V, D]);
    const ids = tf.tensor1d([0, 10, 3, 3, 5, 10, 1], 'int32');
    const reference = tf.tidy(() => Array.from(tf.gather(table, ids).dataSync()));
    const before = tf.memory().numTensors;
    const ours = gatherRows(table, ids);
    expect(ours.shape).toEqual([7, D]);
    expect(Array.from(ours.dataSync())).toEqual(reference);
    const kernel = tf.transpose(table); // [D, V], as a tied lm_head's kernel
    const fromKernel = gatherRows(kernel, ids, true);
    expect(Array.from(fromKernel.dataSync())).toEqual(reference);
    tf.dispose([ours, kernel, fromKernel]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([table, ids]);
  });

  it('refuses an id outside the table with a typed error naming it', () => {
    const table = tf.zeros([4, 3]);
    const ids = tf.tensor1d([1, 4], 'int32');
    expect(() => gatherRows(table, ids)).toThrow(expect.objectContaining({ code: 'MODEL_CONFIG_INVALID', message: expect.stringContaining('Token id 4 at position 1') }));
    tf.dispose([table, ids]);
  });
});
