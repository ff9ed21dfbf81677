import { describe, expect, it } from 'vitest';
import {
  attachAdapter,
  checkMerge,
  createMlp,
  deleteAdapter,
  getAdapterInfo,
  mergeAdapter,
  parameterGroups,
  setActiveAdapters,
  tf,
  unmergeAdapter,
  addWeightedAdapter,
} from '../../../src/finetune/index.js';
import { matmul64, values } from './helpers.js';

describe('LoRA gradients on a zoo model', () => {
  it('∂loss/∂A and ∂loss/∂B of an MLP with adapters match central finite differences of a float64 re-implementation', () => {
    const model = createMlp({ inputSize: 4, hiddenSizes: [5], numClasses: 3, seed: 6 });
    attachAdapter(model, 'a', { r: 2, alpha: 5, modulesToSave: [], initLoraWeights: false }, { seed: 2 });
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
    const labels = [0, 2, 1, 1, 0, 2];
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
    const groups = parameterGroups(model);
    expect(groups.map((g) => g.name)).toEqual(['fc1.lora_A.a.weight', 'fc1.lora_B.a.weight', 'fc2.lora_A.a.weight', 'fc2.lora_B.a.weight']);
    const { grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(y, model.forward(x), undefined, undefined, tf.Reduction.SUM) as tf.Scalar,
      groups.map((g) => g.variable),
    );

    // Float64 forward: logits = relu(x·W1 + b1 + s1·x·A1·B1)·W2 + b2 + s2·h·A2·B2, summed cross-entropy.
    const X = values(x);
    const fc1 = model.linears.get('fc1')!;
    const fc2 = model.linears.get('fc2')!;
    const W1 = values(fc1.kernel), b1 = values(fc1.bias!), W2 = values(fc2.kernel), b2 = values(fc2.bias!);
    const s1 = fc1.adapters.get('a')!.scale, s2 = fc2.adapters.get('a')!.scale;
    const params = groups.map((g) => Float64Array.from(values(g.variable)));
    const [A1, B1, A2, B2] = params as [Float64Array, Float64Array, Float64Array, Float64Array];
    const loss = () => {
      const pre = matmul64(X, W1, 6, 4, 5);
      const up1 = matmul64(matmul64(X, A1, 6, 4, 2), B1, 6, 2, 5);
      const h = pre.map((v, i) => Math.max(0, v + b1[i % 5]! + s1 * up1[i]!));
      const logits = matmul64(h, W2, 6, 5, 3);
      const up2 = matmul64(matmul64(h, A2, 6, 5, 2), B2, 6, 2, 3);
      let total = 0;
      for (let n = 0; n < 6; n++) {
        const z = [0, 1, 2].map((c) => logits[n * 3 + c]! + b2[c]! + s2 * up2[n * 3 + c]!);
        const max = Math.max(...z);
        const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
        total += lse - z[labels[n]!]!;
      }
      return total;
    };
    groups.forEach((g, k) => {
      const p = params[k]!;
      const numeric = Array.from(p, (_, i) => {
        const keep = p[i]!;
        p[i] = keep + 1e-6;
        const up = loss();
        p[i] = keep - 1e-6;
        const down = loss();
        p[i] = keep;
        return (up - down) / 2e-6;
      });
      const analytic = values(grads[g.variable.name]!);
      const scale = Math.max(1, ...numeric.map(Math.abs));
      for (let i = 0; i < numeric.length; i++) expect(Math.abs(analytic[i]! - numeric[i]!) / scale).toBeLessThan(1e-4);
    });
    tf.dispose([x, y, ...Object.values(grads)]);
    model.dispose();
  });
});

describe('no tensor leaks', () => {
  it('attach, switch, merge, checkMerge, weighted merge, delete: tensor count back to where it started', () => {
    const model = createMlp({ inputSize: 4, hiddenSizes: [5], numClasses: 3, seed: 1 });
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
    const start = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) {
      attachAdapter(model, 'a', { r: 2, targetModules: ['fc1'], modulesToSave: ['fc2'], initLoraWeights: false }, { seed: round });
      attachAdapter(model, 'b', { r: 3, targetModules: ['fc1'], initLoraWeights: 'pissa' }, { seed: round, activate: false });
      setActiveAdapters(model, ['a', 'b']);
      mergeAdapter(model, 'b');
      unmergeAdapter(model, 'b');
      checkMerge(model, x);
      addWeightedAdapter(model, { adapters: ['b'], weights: [0.5], name: 'w', combination: 'svd', rank: 1 });
      getAdapterInfo(model, 'w');
      for (const name of ['w', 'b', 'a']) deleteAdapter(model, name);
      expect(tf.memory().numTensors).toBe(start);
    }
    x.dispose();
    model.dispose();
  });
});
