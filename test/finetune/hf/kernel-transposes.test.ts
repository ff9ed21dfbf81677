/**
 * The speed paths of Hugging Face training: frozen-kernel transposes kept between steps (rebuilt when a kernel is
 * reassigned, freed with the model) and the softmax-based cross-entropy with its closed-form gradient — each checked
 * against an independent computation (plain transposes, finite differences, float64 cross-entropy).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attachAdapter,
  createKernelTransposes,
  initBackend,
  loadPretrained,
  makeBatch,
  disposeBatch,
  mergeAdapter,
  setActiveAdapters,
  taskLoss,
  tf,
  train,
  weightedCrossEntropy,
  type TrainingExample,
} from '../../../src/finetune/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/hf');

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('frozen-kernel transposes', () => {
  it('keeps one transpose per kernel, rebuilds it when the kernel is reassigned, and frees everything on dispose', () => {
    const before = tf.memory().numTensors;
    const values = Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 2);
    const init = tf.tensor2d(values, [3, 4]);
    const kernel = tf.variable(init, false);
    init.dispose();
    const cache = createKernelTransposes();
    const first = cache.of(kernel);
    expect(cache.of(kernel)).toBe(first);
    expect(first.shape).toEqual([4, 3]);
    const got = first.dataSync();
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) expect(got[j * 3 + i]).toBe(values[i * 4 + j]);
    tf.tidy(() => kernel.assign(tf.fill([3, 4], 7)));
    const second = cache.of(kernel);
    expect(first.isDisposed).toBe(true);
    expect(Array.from(second.dataSync())).toEqual(new Array(12).fill(7));
    expect(cache.size).toBe(1);
    cache.dispose();
    expect(second.isDisposed).toBe(true);
    kernel.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('after a merge rewrites a frozen kernel, the LoRA gradient through it still matches finite differences; the model frees its transposes', async () => {
    const before = tf.memory().numTensors;
    const model = await loadPretrained(join(ROOT, 'mistral'));
    attachAdapter(model, 'merged', { r: 2, alpha: 4, dropout: 0, targetModules: ['model.layers.1.mlp.down_proj'] }, { seed: 2 });
    attachAdapter(model, 'tuned', { r: 2, alpha: 4, dropout: 0, targetModules: ['model.layers.0.self_attn.q_proj'] }, { seed: 3 });
    const merged = model.linears.get('model.layers.1.mlp.down_proj')!.adapters.get('merged')!;
    const tuned = model.linears.get('model.layers.0.self_attn.q_proj')!.adapters.get('tuned')!;
    tf.tidy(() => merged.B.assign(tf.randomNormal(merged.B.shape, 0, 0.5, 'float32', 4)));
    tf.tidy(() => tuned.B.assign(tf.randomNormal(tuned.B.shape, 0, 0.3, 'float32', 5)));
    setActiveAdapters(model, ['tuned']);
    const examples: TrainingExample[] = [{ input: [1, 5, 9, 23, 42, 77, 100, 3] }, { input: [2, 4, 6, 8, 10] }];
    const batch = makeBatch(model, 'causal-lm', examples, [0, 0]);
    const gradOf = () => {
      const { value, grads } = tf.variableGrads(() => taskLoss(model, 'causal-lm', batch), [tuned.A]);
      value.dispose();
      const g = Float32Array.from(grads[tuned.A.name]!.dataSync() as Float32Array);
      for (const t of Object.values(grads)) t.dispose();
      return g;
    };
    gradOf(); // fills the transposes of the frozen kernels, down_proj's included
    mergeAdapter(model, 'merged'); // down_proj's kernel ← W + s·A·B: a new data id
    setActiveAdapters(model, ['tuned']);
    const g = gradOf();
    const values = Float32Array.from(tuned.A.dataSync() as Float32Array);
    const eps = 1e-2;
    for (const i of [0, 17, values.length - 1]) {
      const at = (delta: number) => {
        const copy = Float32Array.from(values);
        copy[i]! += delta;
        tf.tidy(() => tuned.A.assign(tf.tensor(copy, tuned.A.shape)));
        return tf.tidy(() => taskLoss(model, 'causal-lm', batch).dataSync()[0]!);
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      expect(Math.abs(g[i]! - fd)).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
    }
    tf.tidy(() => tuned.A.assign(tf.tensor(values, tuned.A.shape)));
    disposeBatch(batch);
    await train(model, { task: 'causal-lm', train: examples, seed: 1, batchSize: 2, maxSteps: 2, learningRate: 1e-3 });
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('weightedCrossEntropy', () => {
  it('equals Σ wᵢ·(−log softmax(xᵢ)[yᵢ]) in float64, also for logit gaps far past exp’s range, with gradient wᵢ·(softmax − onehot)', () => {
    const N = 4;
    const C = 5;
    const x = [
      [0.1, -0.3, 2.0, 0.5, -1.0],
      [300, 0, -200, 5, 1], // the target below is at −200: a gap of 500
      [1, 1, 1, 1, 1],
      [-3, 4, 0.25, 9, -7],
    ];
    const y = [2, 2, 0, 3];
    const w = [1, 0.5, 0, 2];
    const logits = tf.variable(tf.tensor2d(x), true);
    const targets = tf.tensor1d(y, 'int32');
    const weights = tf.tensor1d(w);
    const { value, grads } = tf.variableGrads(() => weightedCrossEntropy(logits, targets, weights), [logits]);
    let expected = 0;
    const expectedGrad: number[] = [];
    for (let i = 0; i < N; i++) {
      const max = Math.max(...x[i]!);
      const z = x[i]!.reduce((a, v) => a + Math.exp(v - max), 0);
      const lse = max + Math.log(z);
      expected += w[i]! * (lse - x[i]![y[i]!]!);
      for (let k = 0; k < C; k++) expectedGrad.push(w[i]! * (Math.exp(x[i]![k]! - lse) - (k === y[i] ? 1 : 0)));
    }
    const got = value.dataSync()[0]!;
    expect(Number.isFinite(got)).toBe(true);
    expect(Math.abs(got - expected)).toBeLessThan(1e-4 * Math.max(1, Math.abs(expected)));
    const g = grads[logits.name]!.dataSync();
    expectedGrad.forEach((e, i) => expect(Math.abs(g[i]! - e)).toBeLessThan(1e-6));
    for (const t of [logits, targets, weights, value, ...Object.values(grads)]) t.dispose();
  });
});
