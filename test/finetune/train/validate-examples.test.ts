/**
 * Issue 13 kind 3: `train()` refuses examples the model cannot take — label ≥ numClasses, negative, NaN or fractional;
 * token ids ≥ vocab, negative or NaN; NaN/Inf features, wrong widths — with TRAINING_EXAMPLE_INVALID naming the source and
 * example index, before any weight moves.
 */
import { describe, expect, it } from 'vitest';
import { isProvenantError, type ProvenantError } from '../../../src/core/index.js';
import { createLogisticRegression, createMlp, createTransformer, tf, train, type Model, type TrainingExample } from '../../../src/finetune/index.js';

const lrExamples = (n: number): TrainingExample[] => Array.from({ length: n }, (_, i) => ({ input: [i % 3, 1, -1, 0.5], label: i % 3 }));

async function refused(model: Model, options: Parameters<typeof train>[1]): Promise<ProvenantError> {
  const before = [...model.weights.values()].map((v) => Float32Array.from(v.dataSync() as Float32Array));
  const error = await train(model, options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(isProvenantError(error, 'TRAINING_EXAMPLE_INVALID')).toBe(true);
  // Nothing trained: the weights are untouched.
  [...model.weights.values()].forEach((v, k) => expect(v.dataSync()).toEqual(before[k]));
  return error as ProvenantError;
}

describe('train() refuses examples the model cannot take', () => {
  it.each([
    ['label = numClasses', 3, /label 3 is not a class index in \[0, 3\)/],
    ['label > numClasses', 17, /label 17/],
    ['negative label', -1, /label -1/],
    ['NaN label', Number.NaN, /label NaN/],
    ['fractional label', 1.5, /label 1.5/],
    ['missing label', undefined, /label missing/],
  ])('logistic regression: %s', async (_name, label, pattern) => {
    const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1 });
    const examples = lrExamples(10);
    examples[6] = { input: [1, 2, 3, 4], label: label as number };
    const error = await refused(model, { task: 'classification', train: examples, seed: 1, epochs: 1, batchSize: 4 });
    expect(error.data).toEqual({ source: 'train', example: 6 });
    expect(error.message).toMatch(pattern);
    model.dispose();
  });

  it.each([
    ['NaN feature', [1, Number.NaN, 0, 0], /feature 1 is NaN/],
    ['Infinity feature', [Number.POSITIVE_INFINITY, 0, 0, 0], /feature 0 is Infinity/],
    ['wrong width', [1, 2, 3], /3 features, the model takes 4/],
  ])('MLP: %s, in a second data source', async (_name, input, pattern) => {
    const model = createMlp({ inputSize: 4, hiddenSizes: [3], numClasses: 3, seed: 2 });
    const replay = lrExamples(5);
    replay[2] = { input: input as number[], label: 0 };
    const error = await refused(model, { task: 'classification', train: [{ name: 'main', examples: lrExamples(8) }, { name: 'replay', examples: replay, weight: 0.5 }], seed: 1, batchSize: 4 });
    expect(error.data).toEqual({ source: 'replay', example: 2 });
    expect(error.message).toMatch(pattern);
    model.dispose();
  });

  it('validation examples are checked too', async () => {
    const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1 });
    const error = await refused(model, { task: 'classification', train: lrExamples(6), validation: [{ input: [0, 0, 0, 0], label: 9 }], seed: 1 });
    expect(error.data).toEqual({ source: 'validation', example: 0 });
    model.dispose();
  });

  it.each([
    ['id = vocab size', 32, /token 2 is 32, not an id in \[0, 32\)/],
    ['negative id', -4, /token 2 is -4/],
    ['NaN id', Number.NaN, /token 2 is NaN/],
    ['fractional id', 2.5, /token 2 is 2.5/],
  ])('transformer (causal LM and classification): %s', async (_name, id, pattern) => {
    for (const task of ['causal-lm', 'classification'] as const) {
      const model = createTransformer({ vocabSize: 32, maxSeqLen: 8, dModel: 8, nHeads: 2, nLayers: 1, mlpHidden: 16, seed: 3, ...(task === 'classification' ? { numClasses: 2 } : {}) });
      const examples: TrainingExample[] = Array.from({ length: 6 }, (_, i) => ({ input: [1, 2, 3, 4, (i % 5) + 1], ...(task === 'classification' ? { label: i % 2 } : {}) }));
      examples[4] = { input: [1, 2, id, 3], ...(task === 'classification' ? { label: 0 } : {}) };
      const error = await refused(model, { task, train: examples, seed: 1, batchSize: 3 });
      expect(error.data).toEqual({ source: 'train', example: 4 });
      expect(error.message).toMatch(pattern);
      model.dispose();
    }
  });

  it('valid examples still train (the check refuses nothing that fits)', async () => {
    const model = createLogisticRegression({ inputSize: 4, numClasses: 3, seed: 1 });
    const before = tf.memory().numTensors;
    const result = await train(model, { task: 'classification', train: lrExamples(12), seed: 1, epochs: 2, batchSize: 4 });
    expect(result.log.length).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
