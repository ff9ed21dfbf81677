import { describe, expect, it } from 'vitest';
import { logitGradients, perExampleGradients, selectParameters } from '../../src/attribution/index.js';
import { backwardWithCapture } from '../../src/attribution/per-example-gradients.js';
import { disposeCapture, setBaseTrainable, tf } from '../../src/finetune/index.js';
import { attachAdapter, autogradPerExample, maxAbs, randomData, tinyLr, tinyMlp } from './helpers.js';

describe('perExampleGradients', () => {
  for (const target of ['loss', 'margin'] as const) {
    it(`logistic regression (${target}): equals one tfjs backward pass per example`, () => {
      const model = tinyLr(1, 5, 3);
      const { x, labels } = randomData(7, 5, 3, 11);
      const xt = tf.tensor2d(x, [7, 5]);
      const got = perExampleGradients(model, xt, labels, { target });
      const entries = selectParameters(model);
      expect(entries.map((e) => e.name)).toEqual(['linear.weight', 'linear.bias']);
      const ref = autogradPerExample(model, x, labels, entries.map((e) => e.variable), target);
      expect(got.dim).toBe(5 * 3 + 3);
      for (let i = 0; i < 7; i++) expect(maxAbs(got.data.subarray(i * got.dim, (i + 1) * got.dim), ref[i]!)).toBeLessThan(2e-5);
      xt.dispose();
      model.dispose();
    });
  }

  it('MLP, all weights: equals one tfjs backward pass per example', () => {
    const model = tinyMlp(2, 6, [5, 4], 3);
    const { x, labels } = randomData(6, 6, 3, 12);
    const xt = tf.tensor2d(x, [6, 6]);
    const got = perExampleGradients(model, xt, labels);
    const entries = selectParameters(model);
    const ref = autogradPerExample(model, x, labels, entries.map((e) => e.variable));
    for (let i = 0; i < 6; i++) expect(maxAbs(got.data.subarray(i * got.dim, (i + 1) * got.dim), ref[i]!)).toBeLessThan(2e-5);
    // The reported losses are the per-example cross-entropies.
    const lossRef = tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 3), model.forward(xt), undefined, undefined, tf.Reduction.NONE).dataSync());
    expect(maxAbs(got.loss, lossRef)).toBeLessThan(1e-5);
    xt.dispose();
    model.dispose();
  });

  it('MLP with LoRA on every layer, frozen base: A and B gradients equal autograd; "all" adds the frozen kernels', () => {
    const model = tinyMlp(3, 6, [5], 3);
    for (const layer of model.linears.values()) attachAdapter(layer, 2, 30 + layer.inFeatures, 1.5);
    setBaseTrainable(model, false);
    const { x, labels } = randomData(5, 6, 3, 13);
    const xt = tf.tensor2d(x, [5, 6]);
    const got = perExampleGradients(model, xt, labels);
    const entries = selectParameters(model);
    expect(entries.map((e) => e.name)).toEqual(['fc1.lora_A.default', 'fc1.lora_B.default', 'fc2.lora_A.default', 'fc2.lora_B.default']);
    const ref = autogradPerExample(model, x, labels, entries.map((e) => e.variable));
    for (let i = 0; i < 5; i++) expect(maxAbs(got.data.subarray(i * got.dim, (i + 1) * got.dim), ref[i]!)).toBeLessThan(2e-5);

    const all = perExampleGradients(model, xt, labels, { parameters: 'all' });
    const allEntries = selectParameters(model, { parameters: 'all' });
    expect(allEntries.length).toBe(8);
    const refAll = autogradPerExample(model, x, labels, allEntries.map((e) => e.variable));
    for (let i = 0; i < 5; i++) expect(maxAbs(all.data.subarray(i * all.dim, (i + 1) * all.dim), refAll[i]!)).toBeLessThan(2e-5);
    // Trainability is restored afterwards.
    expect(model.linears.get('fc1')!.kernel.trainable).toBe(false);
    xt.dispose();
    model.dispose();
  });

  it('backwardWithCapture: frozen variables yield δ, flags come back, and a throwing pass leaks no tensor', () => {
    const model = tinyMlp(4, 6, [5], 3);
    setBaseTrainable(model, false);
    const { x } = randomData(4, 6, 3, 14);
    const xt = tf.tensor2d(x, [4, 6]);
    const entries = selectParameters(model, { parameters: 'all' });
    const before = tf.memory().numTensors;
    const capture = backwardWithCapture(entries, (c) => tf.sum(model.forward(xt, { capture: c })) as tf.Scalar);
    // f = Σ z: the last layer's δ is all ones, although its kernel is frozen.
    expect(Array.from(capture.outputGrads.get('fc2')!.dataSync())).toEqual(new Array(12).fill(1));
    disposeCapture(capture);
    expect(entries.every((e) => e.variable.trainable === false)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(() =>
      backwardWithCapture(entries, (c) => {
        model.forward(xt, { capture: c });
        throw new Error('objective failed');
      }),
    ).toThrow('objective failed');
    expect(entries.every((e) => e.variable.trainable === false)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    xt.dispose();
    model.dispose();
  });

  it('logit gradients: loss = p − e_y and margin = e_y − q by finite differences of the float64 objectives', () => {
    const z = [0.3, -1.2, 2.0, 0.1, 0.5, -0.7];
    const labels = [2, 0];
    const lse = (v: number[]) => Math.log(v.reduce((a, b) => a + Math.exp(b), 0));
    const objective = (zz: number[], i: number, target: 'loss' | 'margin') => {
      const row = zz.slice(i * 3, i * 3 + 3);
      const y = labels[i]!;
      return target === 'loss' ? lse(row) - row[y]! : row[y]! - lse(row.filter((_, c) => c !== y));
    };
    for (const target of ['loss', 'margin'] as const) {
      const { grad } = logitGradients(z, 3, labels, target);
      for (let i = 0; i < 2; i++) {
        for (let c = 0; c < 3; c++) {
          const h = 1e-6;
          const zp = [...z], zm = [...z];
          zp[i * 3 + c]! += h;
          zm[i * 3 + c]! -= h;
          const fd = (objective(zp, i, target) - objective(zm, i, target)) / (2 * h);
          expect(Math.abs(grad[i * 3 + c]! - fd)).toBeLessThan(1e-6);
        }
      }
    }
    expect(() => logitGradients(z, 3, [3, 0], 'loss')).toThrow(/ATTRIBUTION_INPUT_INVALID/);
  });
});
