import { beforeAll, describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { compareModels, toEvalModel } from '../../src/eval/index.js';
import {
  CHAR_VOCAB_SIZE,
  activeAdapters,
  attachAdapter,
  createCharTokenizer,
  createMlp,
  createTransformer,
  disableAdapters,
  initBackend,
  setActiveAdapters,
  tf,
} from '../../src/finetune/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Softmax of float32 logits rows in float64. */
function softmaxRows(logits: Float32Array, K: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < logits.length / K; i++) {
    const z = Array.from(logits.subarray(i * K, (i + 1) * K));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    rows.push(e.map((v) => v / s));
  }
  return rows;
}

const logitsOf = (f: () => tf.Tensor): Float32Array => {
  const t = tf.tidy(f);
  const v = Float32Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return v;
};

function expectRowsClose(actual: readonly ArrayLike<number>[], expected: readonly number[][], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    expect(row.length).toBe(expected[i]!.length);
    for (let k = 0; k < row.length; k++) expect(Math.abs(row[k]! - expected[i]![k]!)).toBeLessThan(tol);
  });
}

describe('toEvalModel: MLP', () => {
  it('predictProba equals softmax(model.forward) in batches, for the base and the tuned view', async () => {
    const model = createMlp({ inputSize: 4, hiddenSizes: [6], numClasses: 3, seed: 1 });
    attachAdapter(model, 'tuned', { r: 2, alpha: 4, initLoraWeights: false }, { seed: 1 });
    const inputs = Array.from({ length: 11 }, (_, i) => [Math.sin(i), i / 5, -1 + (i % 3), Math.cos(3 * i)]);
    const tuned = toEvalModel(model, { adapters: ['tuned'], batchSize: 4 });
    const base = toEvalModel(model, { adapters: [], batchSize: 4 });
    const expectedTuned = softmaxRows(logitsOf(() => model.forward(tf.tensor2d(inputs))), 3);
    disableAdapters(model);
    const expectedBase = softmaxRows(logitsOf(() => model.forward(tf.tensor2d(inputs))), 3);
    // The view sets its own adapters and restores whatever was active.
    expectRowsClose(await tuned.predictProba!(inputs), expectedTuned);
    expect(activeAdapters(model)).toEqual([]);
    setActiveAdapters(model, ['tuned']);
    expectRowsClose(await base.predictProba!(inputs), expectedBase);
    expect(activeAdapters(model)).toEqual(['tuned']);
    expect(Math.abs(expectedTuned[0]![0]! - expectedBase[0]![0]!)).toBeGreaterThan(1e-4);
    expect(tuned.scoreText).toBeUndefined();
    let caught: unknown;
    try {
      await tuned.predictProba!([[1, 2, 3]]);
    } catch (e) {
      caught = e;
    }
    expect(isProvenantError(caught) && caught.code === 'EVAL_INPUT_INVALID').toBe(true);
    model.dispose();
  });
});

describe('toEvalModel: transformer', () => {
  const T = 8;
  const make = () =>
    createTransformer({ vocabSize: CHAR_VOCAB_SIZE, dModel: 16, nHeads: 2, nLayers: 1, maxSeqLen: T, mlpHidden: 32, numClasses: 2, seed: 3 });
  const tok = createCharTokenizer();

  it('predictProba on texts equals softmax(forwardClassifier) of the tokenized, truncated texts', async () => {
    const model = make();
    const texts = ['Hello', 'free money now!!!', 'a', 'meeting at noon, room 4', ''];
    const L = T;
    const { ids } = tok.encodeBatch(texts.slice(0, 4), L);
    const expected = softmaxRows(logitsOf(() => model.forwardClassifier(tf.tensor2d(ids, [4, L], 'int32'))), 2);
    const view = toEvalModel(model, { batchSize: 3 });
    const got = await view.predictProba!(texts.slice(0, 4));
    // Batches pad to their own longest text; causal attention and masked pooling make the padding irrelevant.
    expectRowsClose(got, expected, 1e-5);
    const empty = await view.predictProba!(['']);
    expect(empty[0]!.length).toBe(2);
    model.dispose();
  });

  it('scoreText sums −log p of every token after the first, across windows of maxSeqLen + 1 tokens', async () => {
    const model = make();
    const texts = ['The whale', 'Call me Ishmael. Some years ago', 'x'];
    const expected = texts.map((text) => {
      const ids = tok.encode(text);
      let nll = 0;
      // Independent loop: token j (j ≥ 1) is predicted from the window containing it, which starts at ⌊(j − 1)/T⌋·T.
      for (let j = 1; j < ids.length; j++) {
        const start = Math.floor((j - 1) / T) * T;
        const context = ids.slice(start, j);
        const logits = logitsOf(() => model.forwardLm(tf.tensor2d([context], [1, context.length], 'int32')));
        const row = softmaxRows(logits, CHAR_VOCAB_SIZE)[context.length - 1]!;
        nll -= Math.log(row[ids[j]!]!);
      }
      return { nll, tokens: Math.max(0, ids.length - 1) };
    });
    const view = toEvalModel(model, { batchSize: 2 });
    const scores = await view.scoreText!(texts);
    scores.forEach((s, i) => {
      expect(s.tokens).toBe(expected[i]!.tokens);
      expect(s.characters).toBe(expected[i]!.tokens);
      expect(Math.abs(s.nll - expected[i]!.nll)).toBeLessThan(1e-4 * Math.max(1, expected[i]!.nll));
    });
    const rows = await view.nextTokenProba!(texts);
    rows.forEach((r, i) => {
      expect(r.length).toBe(expected[i]!.tokens);
      // The probability of each actual next token reproduces the NLL.
      const ids = tok.encode(texts[i]!);
      let nll = 0;
      r.forEach((row, j) => {
        let sum = 0;
        for (let k = 0; k < row.length; k++) sum += row[k]!;
        expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
        nll -= Math.log(row[ids[j + 1]!]!);
      });
      expect(Math.abs(nll - expected[i]!.nll)).toBeLessThan(1e-4 * Math.max(1, nll));
    });
    // A language task's tokenIds are scored as given: the texts' own ids give the same scores.
    expect(await view.scoreText!(texts.map((t) => tok.encode(t)))).toEqual(scores);
    model.dispose();
  });

  it('plugs into compareModels: base and tuned views of one model, language and classification tasks', async () => {
    const model = make();
    attachAdapter(model, 'tuned', { r: 2, alpha: 8, targetModules: ['q_proj', 'v_proj'], modulesToSave: ['classifier'], initLoraWeights: false }, { seed: 4 });
    const table = await compareModels(toEvalModel(model, { name: 'base', adapters: [] }), toEvalModel(model, { name: 'tuned', adapters: ['tuned'] }), [
      { name: 'spam', kind: 'domain', metric: 'accuracy', dataset: { inputs: ['win cash', 'see you', 'cheap pills', 'lunch?'], labels: [1, 0, 1, 0] } },
      { name: 'english', kind: 'retained', metric: 'perplexity', dataset: { texts: ['It was the best of times.', 'Call me Ishmael.', 'To be or not to be'] } },
    ], { resamples: 200 });
    expect(table.rows.map((r) => r.task)).toEqual(['spam', 'english']);
    expect(table.rows[1]!.drift!.kl.value).toBeGreaterThan(0);
    expect(activeAdapters(model)).toEqual(['tuned']);
    model.dispose();
  });

  it('a view naming adapters on a model without any is a typed error', async () => {
    const model = make();
    const view = toEvalModel(model, { adapters: ['missing'] });
    await expect(async () => view.scoreText!(['abc'])).rejects.toSatisfy((e: unknown) => isProvenantError(e) && e.code === 'ADAPTER_NOT_FOUND');
    model.dispose();
  });
});

describe('toEvalModel: tensors', () => {
  it('leaves no tensor behind', async () => {
    const model = createTransformer({ vocabSize: CHAR_VOCAB_SIZE, dModel: 16, nHeads: 2, nLayers: 1, maxSeqLen: 8, mlpHidden: 32, numClasses: 2, seed: 3 });
    attachAdapter(model, 'tuned', { r: 2, initLoraWeights: false }, { seed: 1 });
    const view = toEvalModel(model, { adapters: ['tuned'], batchSize: 2 });
    const texts = ['a', 'bb', 'a longer text than eight'];
    const all = async () => {
      await view.predictProba!(texts);
      await view.scoreText!(texts);
      await view.nextTokenProba!(texts);
    };
    // The first pass fills the model's causal-mask cache (one kept mask per sequence length, freed by model.dispose).
    await all();
    const before = tf.memory().numTensors;
    await all();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
