/**
 * Misspelt option names in src/attribution are refused with the nearest name, never ignored (a new user's trial: a
 * misspelt `projection` returned unprojected features, a misspelt `preconditioner` silently scored with Grad-Dot). One
 * case per public options object; plus the two input fixes of the same trial: a `number[]` of token ids is a query for a
 * token model, and a causal LM given to `featurize` gets a typed error naming it and `featurizeCausal`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  attributeQueries,
  attributeQuery,
  brittleness,
  choleskyFactor,
  chooseConvexSolver,
  conjugateGradient,
  convexDataInfScores,
  convexDataInfSelfInfluence,
  convexFisherScores,
  convexGradientDotScores,
  convexGradientDotSelfInfluence,
  convexInfluenceScores,
  convexSelfInfluence,
  createConvexLogisticProblem,
  fitConvexLogistic,
  computeLdsGroundTruth,
  computeLooGroundTruth,
  flipLabels,
  mislabelAuc,
  sampleLdsSubsets,
  scoreMatrix,
  createAttributionIndex,
  createFeaturizer,
  createScoreIndex,
  createTrakEnsemble,
  curvatureOperator,
  denseScores,
  featurize,
  featurizeInWorkers,
  fitDataInf,
  fitFisher,
  fitInverseHessian,
  fitLissa,
  fitTrak,
  formatSignedShares,
  gradCos,
  gram,
  gramFloat32,
  matMul,
  matMulNTFloat32,
  matMulNT,
  gradDot,
  perExampleGradients,
  readFeatureStore,
  selectParameters,
  selfInfluence,
  trakModelScores,
  writeFeatureStore,
} from '../../src/attribution/index.js';
import {
  attributeGeneration,
  buildSpanIndex,
  createCausalFeaturizer,
  createGenerationIndex,
  featurizeCausal,
  generateCompletion,
  inMemoryFeatureStore,
  traceSpans,
  type TextTokenizer,
} from '../../src/attribution/generation/index.js';
import { createTransformer, loadPretrained, setBaseTrainable, tf, type Model } from '../../src/finetune/index.js';
import { caught } from '../finetune/hf/fixtures.js';
import { attachAdapter, randomData, randomizeWeights, tinyMlp } from './helpers.js';

const FIXTURES = resolvePath(__dirname, '../fixtures/hf-shared');
const dirs: string[] = [];
const models: Model[] = [];
afterAll(async () => {
  models.forEach((m) => m.dispose());
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The one line of the error about `path`, asserting it says "unknown option" and suggests `suggestion` (or nothing). */
async function refused(run: () => unknown, path: string, suggestion: string | null, code = 'ATTRIBUTION_INPUT_INVALID'): Promise<string> {
  const { error, text } = await caught(run, code);
  expect((error.data as { unknown: string[] }).unknown).toEqual([path]);
  expect((error.data as { suggestions: Record<string, string | null> }).suggestions[path]).toBe(suggestion);
  const line = text.split('\n').find((l) => l.startsWith(`${path}: unknown option`));
  expect(line, text).toBeDefined();
  if (suggestion) expect(line).toContain(`(did you mean "${suggestion}"?)`);
  return line!;
}

describe('classifier attribution options', () => {
  const n = 12, d = 6, C = 3;
  const { x, labels } = randomData(n, d, C, 17);
  const model = tinyMlp(5, d, [4], C);
  models.push(model);
  const data = { inputs: x, exampleShape: [d], labels };
  const rowIds = Array.from({ length: n }, (_, i) => `r${i}`);
  const contributors = rowIds.map((_, i) => ['alice', 'bob'][i % 2]!);

  it('featurize / createFeaturizer refuse projecton, batchsize and a misspelt parameter selection key', async () => {
    const line = await refused(() => featurize(model, data, { projecton: { kind: 'gaussian', dim: 4, seed: 1 } } as never), 'projecton', 'projection');
    expect(line).toContain('known: parameters, modules, names, target, batchSize, projection, factorizedProjection');
    await refused(() => featurize(model, data, { batchsize: 4 } as never), 'batchsize', 'batchSize');
    await refused(() => createFeaturizer(model, { modules: ['fc1'], paramters: 'all' } as never), 'paramters', 'parameters');
    await refused(() => featurize(model, data, { batch_size: 4 } as never), 'batch_size', 'batchSize');
    // The spelled-right options still work, and onProgress (an input, not a parameter) is accepted.
    const f = featurize(model, data, { batchSize: 4, projection: { kind: 'gaussian', dim: 4, seed: 1 }, onProgress: () => {} });
    expect(f.info.projection).toMatchObject({ type: 'dense', dim: 4 });
    expect(f.features.dim).toBe(4);
  });

  it('the feature-store writers and reader refuse misspelt names (before writing anything)', async () => {
    const f = featurize(model, data);
    const dir = await mkdtemp(join(tmpdir(), 'provenant-typos-store-'));
    dirs.push(dir);
    await refused(() => writeFeatureStore(dir, f, { model, rowIds, contributors, labels, shardrows: 4 } as never), 'shardrows', 'shardRows');
    await refused(() => writeFeatureStore(dir, f, { model, row_ids: rowIds, contributors, labels } as never), 'row_ids', 'rowIds');
    await refused(() => featurizeInWorkers(model, data, { directory: dir, rowIds, contributors, worker: 2 } as never), 'worker', 'workers');
    await refused(() => featurizeInWorkers(model, data, { directory: dir, rowIds, contributors, featurize: { projecton: { kind: 'gaussian', dim: 4, seed: 1 } } } as never), 'projecton', 'projection');
    await writeFeatureStore(dir, f, { model, rowIds, contributors, labels, shardRows: 5 });
    await refused(() => readFeatureStore(dir, { verfy: false } as never), 'verfy', 'verify');
    expect((await readFeatureStore(dir, { model, verify: true })).manifest.rows).toBe(n);
  });

  it('selectParameters and formatSignedShares refuse misspelt names', async () => {
    await refused(() => selectParameters(model, { module: ['fc1'] } as never), 'module', 'modules');
    expect(selectParameters(model, { modules: ['fc1'], parameters: 'all' }).map((e) => e.module)).toEqual(['fc1', 'fc1']);
    await refused(() => formatSignedShares({ a: 1 }, { digit: 2 } as never), 'digit', 'digits');
  });

  it('perExampleGradients refuses targt', async () => {
    const xs = tf.tensor2d(x, [n, d]);
    try {
      await refused(() => perExampleGradients(model, xs, labels, { targt: 'margin' } as never), 'targt', 'target');
    } finally {
      xs.dispose();
    }
  });

  it('createAttributionIndex refuses preconditoner; attributeQuery / attributeQueries refuse topk', async () => {
    const f = featurize(model, data, { projection: { kind: 'gaussian', dim: 5, seed: 2 } });
    const dir = await mkdtemp(join(tmpdir(), 'provenant-typos-'));
    dirs.push(dir);
    await writeFeatureStore(dir, f, { model, rowIds, contributors, labels });
    const store = await readFeatureStore(dir, { model });
    await refused(() => createAttributionIndex(model, store, { preconditoner: gradDot() } as never), 'preconditoner', 'preconditioner');
    await refused(() => createAttributionIndex(model, store, { tilerows: 4 } as never), 'tilerows', 'tileRows');
    const index = createAttributionIndex(model, store);
    try {
      const query = randomData(1, d, C, 3).x;
      await refused(() => attributeQuery(model, query, { index, topk: 3 } as never), 'topk', 'topK');
      await refused(() => attributeQuery(model, query, { index, fee_wei: 10n } as never), 'fee_wei', 'feeWei');
      await refused(() => attributeQueries(model, query, { index, exampleShape: [d], reducton: 'mean' } as never), 'reducton', 'reduction');
      expect(attributeQuery(model, query, { index, topK: 3 }).proponents.length).toBeLessThanOrEqual(3);
    } finally {
      index.dispose();
    }
  });

  it('createScoreIndex, denseScores and selfInfluence refuse a misspelt tileRows', async () => {
    const f = featurize(model, data);
    await refused(() => createScoreIndex(f.features, { tilerows: 4 } as never), 'tilerows', 'tileRows');
    await refused(() => denseScores(f.features, f.features, gradDot(), { tilerow: 4 } as never), 'tilerow', 'tileRows');
    await refused(() => selfInfluence(f.features, gradDot(), { tile_rows: 4 } as never), 'tile_rows', 'tileRows');
  });
});

describe('quality harness options', () => {
  it('LDS, LOO, brittleness, mislabel AUC and flipLabels refuse a misspelt name with the nearest one (before any retraining)', async () => {
    let retrains = 0;
    const train = async () => {
      retrains++;
      return new Float64Array(2);
    };
    await refused(() => sampleLdsSubsets(10, { fracton: 0.5 } as never), 'fracton', 'fraction');
    await refused(() => computeLdsGroundTruth({ nTrain: 10, nTest: 2, train, count: 3, sed: 1 } as never), 'sed', 'seed');
    await refused(() => computeLooGroundTruth({ nTrain: 10, nTest: 2, train, sampleRow: 3 } as never), 'sampleRow', 'sampleRows');
    const scores = scoreMatrix(new Float64Array(20), 10, 2);
    await refused(() => brittleness(scores, { train, tests: [0], ks: [1], treshold: 0 } as never), 'treshold', 'threshold');
    await refused(() => mislabelAuc([0.1, 0.9], [false, true], { baseLine: [0, 1] } as never), 'baseLine', 'baseline');
    await refused(() => flipLabels([0, 1, 2, 0], { numClasses: 3, fracton: 0.5 } as never), 'fracton', 'fraction');
    expect(retrains).toBe(0);
    expect((await computeLdsGroundTruth({ nTrain: 10, nTest: 2, train, count: 3, seed: 1 })).subsets.length).toBe(3);
  });
});

describe('convex reference options', () => {
  it('every convex function refuses a misspelt name with the nearest one', async () => {
    const x = Array.from({ length: 8 }, (_, i) => [Math.sin(i), Math.cos(2 * i), 0.5 * i - 2]);
    const y = [0, 1, 2, 0, 1, 2, 0, 1];
    await refused(() => createConvexLogisticProblem(x, y, { numClasses: 3, lamda: 1e-2 } as never), 'lamda', 'lambda');
    const problem = createConvexLogisticProblem(x, y, { numClasses: 3, lambda: 1e-1 });
    await refused(() => fitConvexLogistic(problem, { tolerence: 1e-8 } as never), 'tolerence', 'tolerance');
    const { theta } = fitConvexLogistic(problem, { tolerance: 1e-10 });
    await refused(() => convexGradientDotScores(problem, problem, theta, { weight: [1] } as never), 'weight', 'weights');
    await refused(() => convexGradientDotSelfInfluence(problem, theta, { engin: 'js' } as never), 'engin', null);
    await refused(() => convexDataInfScores(problem, theta, problem, { lambdascale: 0.1 } as never), 'lambdascale', 'lambdaScale');
    await refused(() => convexDataInfSelfInfluence(problem, theta, { lamda: 0.1 } as never), 'lamda', 'lambda');
    await refused(() => convexFisherScores(problem, theta, problem, { rout: 'kernel' } as never), 'rout', 'route');
    await refused(() => convexInfluenceScores(problem, theta, problem, { cgTolerence: 1e-8 } as never), 'cgTolerence', 'cgTolerance');
    await refused(() => convexSelfInfluence(problem, theta, { solvr: 'cg' } as never), 'solvr', 'solver');
    await refused(() => chooseConvexSolver({ d: 3, numClasses: 3, trainingRows: 8, queries: 8 }, { cgIterations: 10, rows: [0] } as never), 'rows', null);
    // Spelled right, the influence functions still pass their solver options through to the choice.
    expect(convexInfluenceScores(problem, theta, problem, { solver: 'cg', cgTolerance: 1e-10 }).solver.solver).toBe('cg');
  });
});

describe('dense linear algebra options', () => {
  it('Cholesky, conjugate gradients and the matrix products refuse misspelt names with the nearest one', async () => {
    const A = [4, 1, 1, 3];
    await refused(() => choleskyFactor(A, 2, { dampng: 0.1 } as never), 'dampng', 'damping');
    await refused(() => conjugateGradient({ dim: 2, apply: (v) => v }, [1, 2], 1, { tolerence: 1e-6 } as never), 'tolerence', 'tolerance');
    await refused(() => matMul(A, 2, 2, A, 2, { engin: 'js' } as never), 'engin', 'engine');
    await refused(() => matMulNT(A, 2, 2, A, 2, { engin: 'js' } as never), 'engin', 'engine');
    await refused(() => gram(A, 2, 2, undefined, { engin: 'js' } as never), 'engin', 'engine');
    await refused(() => gramFloat32(Float32Array.from(A), 2, 2, { gem: undefined, gemmm: null } as never), 'gemmm', 'gemm');
    await refused(() => matMulNTFloat32(Float32Array.from(A), 2, 2, Float32Array.from(A), 2, { workspace: null } as never), 'workspace', 'gemm');
    expect(Array.from(matMul(A, 2, 2, [1, 0, 0, 1], 2, { engine: 'js' }))).toEqual(A);
  });
});

describe('preconditioner options', () => {
  const features = { rows: 6, dim: 3, data: Float32Array.from({ length: 18 }, (_, i) => Math.sin(i + 1)), blocks: [{ name: 'w', module: 'm', offset: 0, size: 3 }] };
  it('every fit refuses a misspelt name with the nearest one', async () => {
    await refused(() => fitDataInf(features, { lambdascale: 0.2 } as never), 'lambdascale', 'lambdaScale');
    await refused(() => fitDataInf(features, { damping: 0.2 } as never), 'damping', 'lambda');
    await refused(() => gradCos({ epsilion: 1e-9 } as never), 'epsilion', 'epsilon');
    await refused(() => fitTrak([{ features, labelProbability: new Float32Array(6).fill(0.5) }], { dampng: 0 } as never), 'dampng', 'damping');
    await refused(() => fitInverseHessian(new Float64Array([1, 0, 0, 1]), 2, { dampng: 0 } as never), 'dampng', 'damping');
    await refused(() => fitFisher(features, { relativeDampng: 0.1 } as never), 'relativeDampng', 'relativeDamping');
    await refused(() => createTrakEnsemble({ relativeDampng: [0.1] } as never), 'relativeDampng', 'relativeDamping');
    await refused(() => trakModelScores({ train: features, test: features, labelProbability: new Float32Array(6).fill(0.5) }, { precison: 'float32' } as never), 'precison', 'precision');
    const op = curvatureOperator({ features, examples: 6, rowsPerExample: 1 }, { damping: 0.5 });
    try {
      await refused(() => curvatureOperator({ features, examples: 6, rowsPerExample: 1 }, { weight_decay: 0.1 } as never), 'weight_decay', 'l2');
      await refused(() => fitLissa(op, { dept: 10 } as never), 'dept', 'depth');
    } finally {
      op.dispose?.();
    }
  });
});

describe('generated-text attribution options', () => {
  const tokenizer: TextTokenizer = {
    encode: (text) => Array.from(text, (ch) => ch.charCodeAt(0) - 96),
    decode: (ids) => Array.from(ids, (id) => String.fromCharCode(96 + id)).join(''),
  };
  const model = createTransformer({ vocabSize: 13, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: 16, seed: 7 });
  models.push(model);
  randomizeWeights(model, 3, 0.5);
  attachAdapter(model.linears.get('blocks.0.attn.q_proj')!, 2, 31, 2);
  setBaseTrainable(model, false);
  const texts = ['abcdefg', 'hgfedcb', 'aaabbbccc'];
  const ids = texts.map((t) => tokenizer.encode(t));
  const rowIds = ['r0', 'r1', 'r2'];
  const contributors = ['alice', 'bob', 'alice'];
  const spec = { kind: 'gaussian' as const, inDim: 4, outDim: 4, seed: 11 };

  it('featurizeCausal / createCausalFeaturizer refuse factorizedProjecton and batchsize; factorizedProjection points to projection', async () => {
    const examples = ids.map((x) => ({ ids: x }));
    const line = await refused(() => featurizeCausal(model, examples, { factorizedProjecton: spec } as never), 'factorizedProjecton', null);
    expect(line).toContain('known: parameters, modules, names, projection, batchSize, stride');
    await refused(() => featurizeCausal(model, examples, { factorizedProjection: spec } as never), 'factorizedProjection', 'projection');
    await refused(() => createCausalFeaturizer(model, { batchsize: 2 } as never), 'batchsize', 'batchSize');
  });

  it('createGenerationIndex refuses preconditoner; attributeGeneration refuses topk, generation.maxNewToken and spans.minLenght', async () => {
    const features = featurizeCausal(model, ids.map((x) => ({ ids: x })), { projection: spec });
    await refused(() => inMemoryFeatureStore(model, features, { rowIds, contributors, datanet: ['a', 'b', 'c'] } as never), 'datanet', 'datanets');
    const store = inMemoryFeatureStore(model, features, { rowIds, contributors });
    const spans = buildSpanIndex({ ids, rowIds, contributors });
    await refused(() => createGenerationIndex(model, store, { preconditoner: gradDot() } as never), 'preconditoner', 'preconditioner');
    const index = createGenerationIndex(model, store, { spans });
    try {
      await refused(() => attributeGeneration(model, 'ab', { index, tokenizer, completion: 'cde', topk: 3 } as never), 'topk', 'topK');
      await refused(() => attributeGeneration(model, 'ab', { index, tokenizer, generation: { maxNewToken: 3 } } as never), 'generation.maxNewToken', 'generation.maxNewTokens');
      await refused(() => attributeGeneration(model, 'ab', { index, tokenizer, completion: 'cde', spans: { minLenght: 2 } } as never), 'spans.minLenght', 'spans.minLength');
      // Spelled right, the same calls answer (spans: false and a generation group are still accepted).
      const r = attributeGeneration(model, 'ab', { index, tokenizer, topK: 2, generation: { maxNewTokens: 3 }, spans: false });
      expect(r.completionTokens).toBe(3);
      expect(r.spans).toBeNull();
    } finally {
      index.dispose();
    }
  });

  it('buildSpanIndex refuses a tracing option among its rows; traceSpans and generateCompletion refuse misspelt names', async () => {
    await refused(() => buildSpanIndex({ ids, rowIds, contributors, minLenght: 2 } as never), 'minLenght', null);
    await refused(() => buildSpanIndex({ ids, row_ids: rowIds, rowIds, contributors } as never), 'row_ids', 'rowIds');
    const index = buildSpanIndex({ ids, rowIds, contributors });
    await refused(() => traceSpans(index, tokenizer.encode('abcd'), { minLenght: 2 } as never), 'minLenght', 'minLength');
    expect(traceSpans(index, tokenizer.encode('abcd'), { minLength: 2 }).spans.length).toBe(1);
    await refused(() => generateCompletion(model, [1, 2], { maxNewToken: 2 } as never), 'maxNewToken', 'maxNewTokens', 'INVALID_ARGUMENT');
  });
});

describe('Hugging Face models', () => {
  it('attributeQuery takes a number[] of token ids (tokenizer.encode) for a token classifier, the same as an Int32Array', async () => {
    const model = await loadPretrained(`${FIXTURES}/gpt2`, { numLabels: 2, tokenizer: false });
    models.push(model);
    const T = 6, n = 8;
    const rows = Array.from({ length: n }, (_, i) => Array.from({ length: T }, (_, t) => 1 + ((i * 7 + t * 3) % 26)));
    const labels = Int32Array.from(rows, (_, i) => i % 2);
    const f = featurize(model, { inputs: Int32Array.from(rows.flat()), exampleShape: [T], labels }, { parameters: 'all', modules: ['score'] });
    const dir = await mkdtemp(join(tmpdir(), 'provenant-typos-hf-'));
    dirs.push(dir);
    await writeFeatureStore(dir, f, { model, rowIds: rows.map((_, i) => `r${i}`), contributors: rows.map((_, i) => ['alice', 'bob', 'carol'][i % 3]!), labels });
    const index = createAttributionIndex(model, await readFeatureStore(dir, { model }));
    try {
      const query = [3, 1, 4, 1, 5, 9];
      const fromArray = attributeQuery(model, query, { index, topK: 3 });
      const fromInt32 = attributeQuery(model, Int32Array.from(query), { index, topK: 3 });
      expect(fromArray.prediction).toEqual(fromInt32.prediction);
      expect(fromArray.contributorScores).toEqual(fromInt32.contributorScores);
      expect(fromArray.proponents.map((r) => r.rowId)).toEqual(fromInt32.proponents.map((r) => r.rowId));
      expect(Object.values(fromArray.contributorScores).some((v) => v !== 0)).toBe(true);
      const bad = await caught(() => attributeQuery(model, [3, 1.5, 4], { index }), 'ATTRIBUTION_INPUT_INVALID');
      expect(bad.text).toMatch(/gpt2 model reads token ids: input\[1\] must be a non-negative integer, got 1\.5/);
    } finally {
      index.dispose();
    }
  });

  it('featurize on a causal LM says it is one and names featurizeCausal, instead of a raw tfjs error', async () => {
    const model = await loadPretrained(`${FIXTURES}/gpt2`, { tokenizer: false });
    models.push(model);
    const before = tf.memory().numTensors;
    const { error, text } = await caught(() => featurize(model, { inputs: Int32Array.from([1, 5, 9, 23, 42, 77, 100, 3]), exampleShape: [8], labels: [0] }), 'ATTRIBUTION_SHAPE_MISMATCH');
    expect(text).toContain('GPT2LMHeadModel (gpt2)');
    expect(text).toContain(`at ${FIXTURES}/gpt2`);
    expect(text).toContain('is a causal LM');
    expect(text).toContain('featurized with featurizeCausal');
    expect(error.data).toMatchObject({ model: `GPT2LMHeadModel (gpt2) at ${FIXTURES}/gpt2` });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a causal model without a config task (the character transformer) is caught at its first forward pass, leak-free', async () => {
    const model = createTransformer({ vocabSize: 13, dModel: 8, nHeads: 2, nLayers: 1, maxSeqLen: 16, seed: 7 });
    models.push(model);
    const run = () => featurize(model, { inputs: Int32Array.from([1, 5, 9, 2, 4, 7, 3, 3]), exampleShape: [8], labels: [0] }, { parameters: 'all' });
    await caught(run, 'ATTRIBUTION_SHAPE_MISMATCH'); // the first forward pass of a length caches its causal mask in the model
    const before = tf.memory().numTensors;
    const { error, text } = await caught(run, 'ATTRIBUTION_SHAPE_MISMATCH');
    expect(text).toMatch(/The transformer model returns \[8,13\] for 1 examples: one row per token, not classifier logits/);
    expect(text).toContain('featurized with featurizeCausal');
    expect(error.data).toMatchObject({ examples: 1, outputShape: [8, 13] });
    expect(tf.memory().numTensors).toBe(before);
  });
});
