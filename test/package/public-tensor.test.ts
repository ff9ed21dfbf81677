/**
 * The published declarations name tensors through src/finetune/public-tensor.d.ts (scripts/public-dts.mjs rewrites the
 * tfjs-core import), so those interfaces must describe real tfjs-core tensors: a tfjs-core tensor is assignable to each
 * (checked by `npm run typecheck`, which compiles this file), and every member they declare exists at run time.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type * as pub from '../../src/finetune/public-tensor.js';
import { tf } from '../../src/finetune/tf.js';

/** Reads a tensor only through the published interface, as a package consumer does. */
function describeTensor(t: pub.Tensor): { shape: number[]; dtype: string; size: number; rank: number; values: number[] } {
  return { shape: [...t.shape], dtype: t.dtype, size: t.size, rank: t.rank, values: [...t.dataSync()] };
}

describe('published tensor types', () => {
  it('tfjs-core tensors and variables are assignable to them', () => {
    expectTypeOf<tf.Tensor>().toMatchTypeOf<pub.Tensor>();
    expectTypeOf<tf.Tensor2D>().toMatchTypeOf<pub.Tensor2D>();
    expectTypeOf<tf.Tensor1D>().toMatchTypeOf<pub.Tensor1D>();
    expectTypeOf<tf.Scalar>().toMatchTypeOf<pub.Scalar>();
    expectTypeOf<tf.Variable>().toMatchTypeOf<pub.Variable>();
    expectTypeOf<tf.Variable<tf.Rank.R2>>().toMatchTypeOf<pub.Variable<'R2'>>();
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const published: pub.Tensor2D = x;
    expect(describeTensor(published)).toEqual({ shape: [2, 3], dtype: 'float32', size: 6, rank: 2, values: [1, 2, 3, 4, 5, 6] });
    expect(published.arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
    published.dispose();
    expect(published.isDisposed).toBe(true);
  });

  it('every member the interfaces declare exists on a real tensor and variable', async () => {
    const v = tf.variable(tf.zeros([2, 2]), true, 'w');
    const members: (keyof pub.Variable)[] = ['id', 'shape', 'size', 'dtype', 'rank', 'isDisposed', 'dataSync', 'data', 'arraySync', 'array', 'dispose', 'name', 'trainable', 'assign'];
    for (const member of members) expect(member in v, member).toBe(true);
    const w: pub.Variable = v;
    const next = tf.ones([2, 2]);
    w.assign(next);
    expect(Array.from(await w.data())).toEqual([1, 1, 1, 1]);
    expect(w.name).toBe('w');
    next.dispose();
    v.dispose();
  });
});
