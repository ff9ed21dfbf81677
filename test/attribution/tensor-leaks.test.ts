/**
 * Issue 13 kinds 6, 3 and 10 in src/attribution:
 *  - every exported function that touches tensors, run repeatedly as a user calls it, leaves `tf.memory().numTensors`
 *    flat (the cases README: `denseScores(train, test, fitDataInf(train))` grew by 6 per call);
 *  - NaN/Inf in features or gradients handed to scoring, self-influence or top-k is ATTRIBUTION_INPUT_INVALID naming
 *    the row; a row listed twice in an LDS subset is refused;
 *  - an attribution index used after dispose() is ATTRIBUTION_INDEX_DISPOSED, never an empty answer.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  attributeQuery,
  createAttributionIndex,
  createFeaturizer,
  createScoreIndex,
  curvatureMatrix,
  curvatureOperator,
  denseScores,
  featurize,
  fitConjugateGradient,
  fitDataInf,
  fitFisher,
  fitInverseHessian,
  fitLissa,
  fitTrak,
  gaussNewtonFeatures,
  gradCos,
  gradDot,
  largestEigenvalue,
  linearDatamodelingScore,
  perExampleGradients,
  readFeatureStore,
  restoreModel,
  selfInfluence,
  serializeModel,
  tracInCP,
  tracInFeatures,
  writeFeatureStore,
  type FeatureMatrix,
  type Preconditioner,
} from '../../src/attribution/index.js';
import { isProvenantError, type ProvenantError } from '../../src/core/index.js';
import { tf, type Model } from '../../src/finetune/index.js';
import { randomData, tinyMlp } from './helpers.js';

const N = 24;
const D = 6;
const C = 3;
let model: Model;
let data: { x: Float32Array; labels: Int32Array };
let train: FeatureMatrix;
let test: FeatureMatrix;

beforeAll(() => {
  model = tinyMlp(3, D, [5], C);
  data = randomData(N, D, C, 11);
  train = featurize(model, { inputs: data.x, exampleShape: [D], labels: data.labels }).features;
  const q = randomData(4, D, C, 12);
  test = featurize(model, { inputs: q.x, exampleShape: [D], labels: q.labels }).features;
});

/** Runs `f` once to warm up, then `times` more; the live tensor count must not move. */
function expectFlat(name: string, f: () => unknown, times = 5): void {
  f();
  const before = tf.memory().numTensors;
  for (let i = 0; i < times; i++) f();
  expect(tf.memory().numTensors - before, name).toBe(0);
}

const gn = () => gaussNewtonFeatures(model, { inputs: data.x, exampleShape: [D] });

describe('tensors nobody frees (kind 6)', () => {
  const preconditioners: [string, () => Preconditioner][] = [
    ['grad-dot', () => gradDot()],
    ['grad-cos', () => gradCos()],
    ['datainf', () => fitDataInf(train)],
    ['fisher', () => fitFisher(train)],
    ['inverse-hessian', () => fitInverseHessian(curvatureMatrix(gn(), 1e-2), train.dim)],
    ['conjugate-gradient', () => fitConjugateGradient(curvatureOperator(gn(), { l2: 1e-2 }), { tolerance: 1e-4, maxIterations: 50 })],
    ['lissa', () => fitLissa(curvatureOperator(gn(), { l2: 1e-1 }), { depth: 20, seed: 1 })],
    ['tracin', () => tracInCP()],
    ['trak', () => fitTrak([{ features: train, labelProbability: new Float64Array(N).fill(0.5) }])],
  ];

  it('cases README: denseScores(train, test, fitDataInf(train)) five times leaves numTensors flat', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) denseScores(train, test, fitDataInf(train));
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(preconditioners)('denseScores and selfInfluence with a fresh %s preconditioner per call', (name, make) => {
    const tr = name === 'tracin' ? tracInFeatures([train], [0.1]) : train;
    const te = name === 'tracin' ? tracInFeatures([test], [0.1]) : test;
    expectFlat(`denseScores ${name}`, () => denseScores(tr, te, make()), 3);
    expectFlat(`selfInfluence ${name}`, () => selfInfluence(tr, make()), 3);
  });

  it('a preconditioner reused across calls stays usable and leaves nothing behind', () => {
    const pre = fitDataInf(train);
    const first = denseScores(train, test, pre).values;
    expectFlat('reused datainf', () => expect(denseScores(train, test, pre).values).toEqual(first));
  });

  it('score index, featurizers, gradients, curvature, feature store, attribution index and queries', async () => {
    expectFlat('createScoreIndex + topK + groupScores + dispose', () => {
      const index = createScoreIndex(train, { preconditioner: gradDot(), tileRows: 7 });
      index.topK(test, 3);
      index.groupScores(test, Int32Array.from({ length: N }, (_, i) => i % 2), 2);
      index.dispose();
    });
    expectFlat('featurize (dense projection)', () => featurize(model, { inputs: data.x, exampleShape: [D], labels: data.labels }, { projection: { kind: 'rademacher', dim: 8, seed: 1 }, batchSize: 5 }));
    expectFlat('featurize (margin target)', () => featurize(model, { inputs: data.x, exampleShape: [D], labels: data.labels }, { target: 'margin' }));
    expectFlat('createFeaturizer + run + runSeeded + dispose', () => {
      const f = createFeaturizer(model, { batchSize: 7 });
      f.run({ inputs: data.x, exampleShape: [D], labels: data.labels });
      f.runSeeded({ inputs: data.x, exampleShape: [D], labels: data.labels }, (logits) => new Float32Array(logits.length).fill(1));
      f.dispose();
    });
    expectFlat('perExampleGradients', () => {
      const x = tf.tensor2d(data.x, [N, D]);
      perExampleGradients(model, x, data.labels);
      x.dispose();
    });
    expectFlat('gaussNewtonFeatures', () => gn());
    expectFlat('curvatureOperator + largestEigenvalue + dispose', () => {
      const op = curvatureOperator(gn(), { l2: 1e-2 });
      largestEigenvalue(op);
      op.dispose?.();
    });
    expectFlat('serializeModel + restoreModel + dispose', () => restoreModel(serializeModel(model)).dispose());
    const dir = mkdtempSync(join(tmpdir(), 'provenant-leaks-'));
    const features = featurize(model, { inputs: data.x, exampleShape: [D], labels: data.labels });
    const meta = { model, rowIds: Array.from({ length: N }, (_, i) => `0x${i.toString(16).padStart(64, '0')}`), contributors: Array.from({ length: N }, (_, i) => ['a', 'b', '__proto__'][i % 3]!), labels: data.labels };
    await writeFeatureStore(dir, features, meta);
    const store = await readFeatureStore(dir, { model });
    const q = randomData(1, D, C, 99).x;
    expectFlat('createAttributionIndex + attributeQuery + dispose', () => {
      const index = createAttributionIndex(model, store, { preconditioner: gradDot() });
      attributeQuery(model, q, { index, topK: 3, reduction: 'positive-sum' });
      index.dispose();
    });
    const pre = fitDataInf(store.features);
    const index = createAttributionIndex(model, store, { preconditioner: pre });
    expectFlat('attributeQuery on a kept index', () => attributeQuery(model, q, { index, topK: 3 }));
    index.dispose();
    pre.dispose?.();
  });
});

describe('non-finite features are refused naming the row (kind 3)', () => {
  const poisoned = (f: FeatureMatrix, row: number, value: number): FeatureMatrix => {
    const data = Float32Array.from(f.data);
    data[row * f.dim + 1] = value;
    return { ...f, data };
  };
  const expectRow = (call: () => unknown, row: number, what: RegExp) => {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    expect(isProvenantError(error, 'ATTRIBUTION_INPUT_INVALID')).toBe(true);
    expect((error as ProvenantError).data.row).toBe(row);
    expect((error as ProvenantError).message).toMatch(what);
  };

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('%s in a training row or a query row', (bad) => {
    const before = tf.memory().numTensors;
    expectRow(() => denseScores(poisoned(train, 5, bad), test), 5, /training features: row 5/);
    expectRow(() => denseScores(train, poisoned(test, 2, bad), fitDataInf(train)), 2, /query features: row 2/);
    expectRow(() => selfInfluence(poisoned(train, 7, bad), gradCos()), 7, /row 7/);
    expectRow(() => createScoreIndex(poisoned(train, 0, bad)), 0, /row 0/);
    const index = createScoreIndex(train);
    expectRow(() => index.topK(poisoned(test, 3, bad), 5), 3, /query features: row 3/);
    expectRow(() => index.groupScores(poisoned(test, 1, bad), new Int32Array(N), 1), 1, /row 1/);
    index.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('scores that overflow float32 are refused naming the training row', () => {
    const big = { ...train, data: Float32Array.from(train.data, (x, k) => (Math.floor(k / train.dim) === 4 ? 1e30 : x)) };
    const q = { ...test, data: new Float32Array(test.data.length).fill(1e30) };
    expectRow(() => denseScores(big, q), 4, /training row 4/);
  });

  it('a row index listed twice in an LDS subset is refused', () => {
    const scores = denseScores(train, test);
    const truth = {
      nTrain: N,
      nTest: test.rows,
      subsets: [Uint32Array.from([0, 1, 2]), Uint32Array.from([3, 3, 4])],
      outputs: [new Float64Array(test.rows), new Float64Array(test.rows).fill(1)],
    };
    expect(() => linearDatamodelingScore(scores, truth)).toThrow(/truth\.subsets\[1\] lists index 3 twice/);
    truth.subsets[1] = Uint32Array.from([3, 4, 5]);
    truth.outputs[1]![2] = Number.NaN;
    expect(() => linearDatamodelingScore(scores, truth)).toThrow(/truth\.outputs\[1\]\[2\] is NaN/);
  });
});

describe('an index after dispose (kind 10)', () => {
  it('attributeQuery, topK and dense on a disposed index are ATTRIBUTION_INDEX_DISPOSED', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-disposed-'));
    const features = featurize(model, { inputs: data.x, exampleShape: [D], labels: data.labels });
    await writeFeatureStore(dir, features, { model, rowIds: Array.from({ length: N }, (_, i) => `r${i}`), contributors: Array.from({ length: N }, () => 'c'), labels: data.labels });
    const store = await readFeatureStore(dir, { model });
    const index = createAttributionIndex(model, store);
    expect(attributeQuery(model, data.x.subarray(0, D), { index, topK: 2 }).proponents.length + 0).toBeGreaterThanOrEqual(0);
    index.dispose();
    index.dispose(); // idempotent
    expect(index.disposed).toBe(true);
    expect(() => attributeQuery(model, data.x.subarray(0, D), { index, topK: 2 })).toThrow(expect.objectContaining({ code: 'ATTRIBUTION_INDEX_DISPOSED' }));
    const scores = createScoreIndex(train);
    scores.dispose();
    expect(() => scores.topK(test, 3)).toThrow(expect.objectContaining({ code: 'ATTRIBUTION_INDEX_DISPOSED' }));
    expect(() => scores.dense(test)).toThrow(expect.objectContaining({ code: 'ATTRIBUTION_INDEX_DISPOSED' }));
  });
});
