/**
 * Every public options object of src/eval refuses an unknown key with the nearest name and the function, through its
 * parameter table (core/params.ts), before any model runs. Before, a typo ran the default silently — the worst:
 * `toEvalModel(g, { adapter: [] })` evaluated the "base" view WITH the loaded adapter, so compareModels reported the
 * tuned perplexity twice and "no significant change".
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accuracy,
  auroc,
  bitsPerCharacter,
  bootstrapEstimate,
  compareModels,
  distributionDrift,
  evaluateGates,
  evaluateStages,
  evaluateTask,
  expectedCalibrationError,
  forgettingMeasures,
  formatTable,
  jensenShannonDivergence,
  klDivergence,
  logLoss,
  pairedBootstrap,
  perplexity,
  precisionRecallF1,
  runBootstrap,
  sweep,
  toEvalModel,
  type ComparisonTable,
  type EvalModel,
  type EvalTask,
  type LanguageTask,
} from '../../src/eval/index.js';
import { createMlp, disableAdapters, initBackend, loadAdapterFromDir, loadPretrained, type PretrainedModel } from '../../src/finetune/index.js';
import { SHARED_FIXTURES, caught } from '../finetune/hf/fixtures.js';

/** A typo is refused: the function named in the message, the nearest field suggested, the key listed as unknown. */
async function refused(run: () => unknown, fn: string, typo: string, nearest: string | null): Promise<string> {
  const { error, text } = await caught(run, 'INVALID_ARGUMENT');
  expect(error.message).toContain(`Invalid ${fn} options: ${typo}.`);
  expect(text).toContain(`${typo}: unknown option${nearest ? ` (did you mean "${nearest}"?)` : ';'}`);
  expect(error.data.unknown).toEqual([typo]);
  expect((error.data.suggestions as Record<string, string | null>)[typo]).toBe(nearest);
  return text;
}

/** A classifier that counts its calls, so a test can show a refusal came before any model ran. */
function countingModel(name: string): EvalModel<number> & { calls: number } {
  const m = {
    name,
    calls: 0,
    predictProba: async (xs: readonly number[]) => {
      m.calls += 1;
      return xs.map((x) => (x > 0 ? [0.2, 0.8] : [0.7, 0.3]));
    },
  };
  return m;
}
const signTask: EvalTask<number> = { name: 'sign', kind: 'domain', metric: 'accuracy', dataset: { inputs: [-1, 2, 3, -4], labels: [0, 1, 1, 1] } };

describe('toEvalModel on a Hugging Face model with a PEFT adapter', () => {
  let g: PretrainedModel;
  const tokenIds = [
    [1, 5, 9, 23, 42, 77, 100, 3],
    [2, 4, 6, 8, 10, 12],
  ];
  const task: LanguageTask = { name: 't', kind: 'retained', metric: 'perplexity', dataset: { tokenIds } };
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    g = await loadPretrained(join(SHARED_FIXTURES, 'gpt2'));
    await loadAdapterFromDir(g, 'lora', join(SHARED_FIXTURES, 'gpt2', 'lora'));
  });
  afterAll(() => g?.dispose());

  it('refuses `adapter` (it ran the base view with the adapter) and `maxToken`', async () => {
    await refused(() => toEvalModel(g, { adapter: [] } as never), 'toEvalModel', 'adapter', 'adapters');
    await refused(() => toEvalModel(g, { maxToken: 4 } as never), 'toEvalModel', 'maxToken', 'maxTokens');
    await refused(() => toEvalModel(g, { batch_size: 4 } as never), 'toEvalModel', 'batch_size', 'batchSize');
  });

  it('with the right spelling the base view runs without the adapter (checked against the adapter switched off)', async () => {
    const base = await evaluateTask(toEvalModel(g, { adapters: [] }), task, { resamples: 10 });
    const tuned = await evaluateTask(toEvalModel(g, { adapters: ['lora'] }), task, { resamples: 10 });
    disableAdapters(g);
    const off = await evaluateTask(toEvalModel(g), task, { resamples: 10 });
    expect(base.value).toBe(off.value);
    expect(Math.abs(base.value - tuned.value)).toBeGreaterThan(1); // the adapter moves this perplexity by several units
  });
});

describe('compareModels, evaluateTask, evaluateStages', () => {
  it('refuse a typo before any model runs', async () => {
    const a = countingModel('a');
    const b = countingModel('b');
    const text = await refused(() => compareModels(a, b, [signTask], { resample: 50 } as never), 'compareModels', 'resample', 'resamples');
    expect(text).toContain('known: resamples, alpha, seed, batchSize, drift, epsilon');
    await refused(() => compareModels(a, b, [signTask], { batch_size: 2 } as never), 'compareModels', 'batch_size', 'batchSize');
    await refused(() => evaluateTask(a, signTask, { batchsize: 2 } as never), 'evaluateTask', 'batchsize', 'batchSize');
    await refused(() => evaluateTask(a, signTask, { nextToken: true } as never), 'evaluateTask', 'nextToken', null);
    await refused(() => evaluateStages([a], [signTask], { baseLine: b } as never), 'evaluateStages', 'baseLine', 'baseline');
    expect(a.calls + b.calls).toBe(0);
    // The right names still run (and a callback is accepted as an input).
    const table = await compareModels(a, b, [signTask], { resamples: 20, batchSize: 2, drift: false, onProgress: () => {} });
    expect(table.rows[0]!.base.value).toBe(0.75);
    const stages = await evaluateStages([a], [signTask], { baseline: b, resamples: 20 });
    expect(stages.baseline).toEqual([0.75]);
  });
});

describe('task objects (compareModels, evaluateTask)', () => {
  it('refuse an unknown task or dataset key with the nearest one, and a classification key on a language task', async () => {
    const a = countingModel('a');
    const b = countingModel('b');
    const lang = { name: 't', kind: 'retained', metric: 'perplexity' } as const;
    const cases: Array<[unknown, string]> = [
      // token_ids alone failed as "needs texts or tokenIds"; beside tokenIds, textz was ignored.
      [{ ...lang, dataset: { token_ids: [[1, 2]] } }, 'unknown key "dataset.token_ids" (did you mean "dataset.tokenIds"?)'],
      [{ ...lang, dataset: { tokenIds: [[1, 2]], textz: ['ab'] } }, 'unknown key "dataset.textz" (did you mean "dataset.texts"?)'],
      [{ ...lang, dataset: { texts: ['ab'] }, bins: 3 }, 'unknown key "bins"; a language task has name, kind, metric, dataset'],
      [{ ...signTask, positive_class: 0 }, 'unknown key "positive_class" (did you mean "positiveClass"?)'],
      [{ ...signTask, dataset: { ...signTask.dataset, weights: [1, 1, 1, 1] } }, 'unknown key "dataset.weights"; a classification task has dataset.inputs, dataset.labels'],
    ];
    for (const [task, message] of cases) {
      const { text } = await caught(() => compareModels(a, b, [task as never]), 'EVAL_INPUT_INVALID');
      expect(text).toContain(message);
      expect((await caught(() => evaluateTask(a, task as never), 'EVAL_INPUT_INVALID')).text).toContain(message);
    }
    expect(a.calls + b.calls).toBe(0);
    expect((await evaluateTask(a, { ...signTask, positiveClass: 1, bins: 2 }, { resamples: 10 })).value).toBe(0.75);
  });
});

describe('metrics and the bootstrap', () => {
  const labels = [0, 1, 1, 0, 1];
  const rows = [[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4], [0.7, 0.3]];
  it('refuse a typo with the nearest name', async () => {
    await refused(() => accuracy(labels, [0, 1, 1, 0, 0], { seeds: 1 } as never), 'accuracy', 'seeds', 'seed');
    await refused(() => logLoss(labels, rows, { alhpa: 0.1 } as never), 'logLoss', 'alhpa', 'alpha');
    await refused(() => auroc(labels, rows, { positive_class: 0 } as never), 'auroc', 'positive_class', 'positiveClass');
    await refused(() => expectedCalibrationError(labels, rows, { n_bins: 5 } as never), 'expectedCalibrationError', 'n_bins', 'bins');
    await refused(() => precisionRecallF1(labels, [0, 1, 1, 0, 0], { num_classes: 3 } as never), 'precisionRecallF1', 'num_classes', 'numClasses');
    const scores = [{ nll: 2, tokens: 1, characters: 3 }, { nll: 4, tokens: 3, characters: 5 }];
    await refused(() => perplexity(scores, { resample: 10 } as never), 'perplexity', 'resample', 'resamples');
    await refused(() => bitsPerCharacter(scores, { B: 10 } as never), 'bitsPerCharacter', 'B', 'resamples');
    await refused(() => klDivergence([0.5, 0.5], [0.9, 0.1], { eps: 0 } as never), 'klDivergence', 'eps', 'epsilon');
    await refused(() => jensenShannonDivergence([0.5, 0.5], [0.9, 0.1], { epsilon: 0 } as never), 'jensenShannonDivergence', 'epsilon', null);
    await refused(() => distributionDrift(rows, rows, { group: [0, 0, 1, 1, 2] } as never), 'distributionDrift', 'group', 'groups');
    const mean = (w: Float64Array) => w.reduce((s, v, i) => s + v * i, 0) / w.length;
    await refused(() => bootstrapEstimate(4, mean, { resample: 10 } as never), 'bootstrap', 'resample', 'resamples');
    await refused(() => pairedBootstrap(4, mean, mean, { sed: 1 } as never), 'bootstrap', 'sed', 'seed');
    await refused(() => runBootstrap(4, 1, (w, out) => { out[0] = mean(w); }, { batchSize: 2 } as never), 'bootstrap', 'batchSize', null);
  });

  it('keep their results under the right names (a metric passes only the bootstrap settings on)', () => {
    // AUROC with class 0 positive: 6 positive-negative pairs, scores of class 0 [0.8, 0.3, 0.4, 0.6, 0.7]; positives
    // (labels 0) 0.8 and 0.6 against negatives 0.3, 0.4, 0.7: 0.8 beats all 3, 0.6 beats 2 → 5/6.
    expect(auroc(labels, rows, { positiveClass: 0, resamples: 20 }).value).toBeCloseTo(5 / 6, 12);
    expect(precisionRecallF1(labels, [0, 1, 1, 0, 0], { numClasses: 3, resamples: 20 }).perClass).toHaveLength(3);
    expect(expectedCalibrationError(labels, rows, { bins: 1, resamples: 20 }).bins).toHaveLength(1);
    expect(distributionDrift(rows, rows, { groups: [0, 0, 1, 1, 2], epsilon: 0, resamples: 20 }).units).toBe(3);
  });
});

describe('forgettingMeasures, formatTable, evaluateGates', () => {
  it('refuse a typo with the nearest name', async () => {
    await refused(() => forgettingMeasures([[0.9]], { higher_is_better: false } as never), 'forgettingMeasures', 'higher_is_better', 'higherIsBetter');
    await refused(() => formatTable(['a'], [['1']], { alignment: ['left'] } as never), 'formatTable', 'alignment', 'align');
  });

  it('evaluateGates refuses a gate key of neither kind, or of the other kind, naming the gate', async () => {
    const row = {
      task: 'spam',
      metric: 'accuracy',
      tuned: { value: 0.95, ci: { lower: 0.9, upper: 0.99, level: 0.95 } },
      delta: { value: 0.1, ci: { lower: 0.05, upper: 0.15, level: 0.95 } },
      verdict: 'improved',
      pValue: 0.01,
    };
    const table = { rows: [row] } as unknown as ComparisonTable;
    // atmost was ignored: this gate passed on atLeast alone.
    const typo = await caught(() => evaluateGates(table, [{ task: 'spam', quantity: 'tuned', atLeast: 0.9, atmost: 0.9 } as never]), 'EVAL_GATE_INVALID');
    expect(typo.text).toContain('Gate 0: unknown key "atmost" (did you mean "atMost"?)');
    expect(typo.error.data.index).toBe(0);
    const mixed = await caught(
      () => evaluateGates(table, [{ task: 'spam', verdict: 'improved' }, { task: 'spam', verdict: 'improved', atLeast: 0.99 } as never]),
      'EVAL_GATE_INVALID',
    );
    expect(mixed.text).toContain('Gate 1: unknown key "atLeast"; a verdict gate has name, task, verdict');
    expect(evaluateGates(table, [{ task: 'spam', quantity: 'tuned', atLeast: 0.9, atMost: 0.99 }]).passed).toBe(true);
  });
});

describe('sweep', () => {
  it('refuses a typo at the top, in the grid and in bootstrap, before any training', async () => {
    const model = createMlp({ inputSize: 2, hiddenSizes: [3], numClasses: 2, seed: 1 });
    const base = {
      model,
      train: [{ input: [0, 1], label: 1 }],
      domainTask: { name: 'd', kind: 'domain', metric: 'accuracy', dataset: { inputs: [[0, 1]], labels: [1] } },
      retainedTask: { name: 'r', kind: 'retained', metric: 'perplexity', dataset: { texts: ['ab'] } },
      grid: { ranks: [1], learningRates: [0.1], steps: [1] },
      seed: 1,
    } as never as Parameters<typeof sweep>[0];
    await refused(() => sweep({ ...base, evalBatchsize: 4 } as never), 'sweep', 'evalBatchsize', 'evalBatchSize');
    await refused(() => sweep({ ...base, grid: { ranks: [1], learningRate: [0.1], steps: [1] } } as never), 'sweep', 'grid.learningRate', 'grid.learningRates');
    await refused(() => sweep({ ...base, bootstrap: { resample: 10 } } as never), 'sweep', 'bootstrap.resample', 'bootstrap.resamples');
    await refused(() => sweep({ ...base, guardData: { replay_batch_size: 4 } } as never), 'sweep', 'guardData.replay_batch_size', 'guardData.replayBatchSize');
    // A guard of the grid takes its kind and strength only: a guard option there was ignored.
    const guard = await caught(() => sweep({ ...base, grid: { ranks: [1], learningRates: [0.1], steps: [1], guards: [{ kind: 'l2-sp', strenght: 0.1, adapters: ['x'] }] } } as never), 'EVAL_INPUT_INVALID');
    expect(guard.text).toContain('grid.guards: unknown key "strenght" (did you mean "strength"?)');
  });
});
