import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm, createAdamW, globalNorm, initBackend, tf } from '../../../src/finetune/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** AdamW in float64 by hand (PyTorch's order: decay, then the Adam step). */
function adamwReference(w: number[], grads: number[][], lr: number, wd: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[] {
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  const x = [...w];
  grads.forEach((g, t) => {
    for (let i = 0; i < x.length; i++) {
      x[i] = x[i]! * (1 - lr * wd);
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
      const mh = m[i]! / (1 - b1 ** (t + 1));
      const vh = v[i]! / (1 - b2 ** (t + 1));
      x[i] = x[i]! - (lr * mh) / (Math.sqrt(vh) + eps);
    }
  });
  return x;
}

describe('AdamW', () => {
  it('one and three steps equal a hand computation, with per-group lr multiplier and weight decay', () => {
    const w0 = [1, -2, 0.5];
    const a = tf.variable(tf.tensor1d(w0));
    const b = tf.variable(tf.tensor1d(w0));
    const opt = createAdamW(
      [
        { name: 'a', variable: a },
        { name: 'b', variable: b, lrMultiplier: 4, weightDecay: 0 },
      ],
      { weightDecay: 0.1 },
    );
    const grads = [[0.5, 0.1, -0.3], [0.2, -0.4, 0.05], [-0.1, 0.3, 0.7]];
    // Step 1: m̂ = g and v̂ = g², so the Adam term is lr·g/(|g| + ε) ≈ lr·sign(g): a value checkable by eye.
    const g1 = tf.tensor1d(grads[0]!);
    opt.apply(new Map([['a', g1], ['b', g1]]), 0.1);
    expect(Array.from(a.dataSync())).toEqual(w0.map((x, i) => expect.closeTo(x * (1 - 0.01) - 0.1 * Math.sign(grads[0]![i]!), 6)));
    for (const g of grads.slice(1)) {
      const t = tf.tensor1d(g);
      opt.apply(new Map([['a', t], ['b', t]]), 0.1);
      t.dispose();
    }
    const refA = adamwReference(w0, grads, 0.1, 0.1);
    const refB = adamwReference(w0, grads, 0.4, 0);
    Array.from(a.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(refA[i]!, 6));
    Array.from(b.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(refB[i]!, 6));
    expect(opt.step).toBe(3);
    // State round-trips into a fresh optimizer that then takes the same next step.
    const state = opt.getState();
    const c = tf.variable(a.clone());
    const opt2 = createAdamW([{ name: 'a', variable: c }], { weightDecay: 0.1 });
    opt2.setState({ step: state.step, m: { a: state.m.a! }, v: { a: state.v.a! } });
    const g4 = tf.tensor1d([0.3, 0.3, -0.3]);
    opt.apply(new Map([['a', g4]]), 0.1);
    opt2.apply(new Map([['a', g4]]), 0.1);
    expect(Array.from(c.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(() => opt2.setState({ step: 1, m: {}, v: {} })).toThrow(/CHECKPOINT_INVALID/);
    tf.dispose([a, b, c, g1, g4]);
    opt.dispose();
    opt2.dispose();
  });

  it('rejects bad hyper-parameters and duplicate names', () => {
    const v = tf.variable(tf.zeros([2]));
    expect(() => createAdamW([{ name: 'v', variable: v }], { beta1: 1 })).toThrow(/TRAINING_CONFIG_INVALID/);
    expect(() => createAdamW([{ name: 'v', variable: v }, { name: 'v', variable: v }])).toThrow(/twice/);
    v.dispose();
  });
});

describe('clipping by global norm', () => {
  it('computes √Σg² and scales by maxNorm/(norm + 1e-6) only above the threshold', () => {
    const grads = new Map<string, tf.Tensor>([
      ['x', tf.tensor1d([3, 0])],
      ['y', tf.tensor2d([[0, 4]])],
    ]);
    const norm = globalNorm(grads.values());
    expect(norm).toBeCloseTo(5, 6);
    clipByGlobalNorm(grads, norm, 10);
    expect(Array.from(grads.get('x')!.dataSync())).toEqual([3, 0]);
    clipByGlobalNorm(grads, norm, 1);
    const f = 1 / (5 + 1e-6);
    expect(grads.get('x')!.dataSync()[0]).toBeCloseTo(3 * f, 6);
    expect(grads.get('y')!.dataSync()[1]).toBeCloseTo(4 * f, 6);
    expect(globalNorm(grads.values())).toBeCloseTo(1, 5);
    tf.dispose([...grads.values()]);
  });
});
