import { describe, expect, it } from 'vitest';
import { createRng, isProvenantError } from '../../src/core/index.js';
import {
  accuracy,
  auroc,
  compareModels,
  distributionDrift,
  evaluateTask,
  expectedCalibrationError,
  logLoss,
  perplexity,
  precisionRecallF1,
} from '../../src/eval/index.js';
import type { ClassificationMetricName, EvalModel, EvalTask } from '../../src/eval/index.js';

/** A model that looks its answer up in a fixed probability table indexed by the input id. */
function tableModel(name: string, table: number[][], calls: number[] = []): EvalModel<number> {
  return {
    name,
    predictProba: async (ids) => {
      calls.push(ids.length);
      return ids.map((i) => table[i]!);
    },
  };
}

/** Seeded synthetic 3-class problem: labels, a weak base table and a better tuned table. */
function synthetic(n: number, seed: number) {
  const rng = createRng(seed);
  const labels: number[] = [];
  const base: number[][] = [];
  const tuned: number[][] = [];
  const row = (y: number, strength: number) => {
    const w = [0, 1, 2].map(() => 0.2 + rng.nextDouble());
    w[y] = w[y]! + strength * rng.nextDouble();
    const s = w.reduce((a, b) => a + b, 0);
    return w.map((v) => v / s);
  };
  for (let i = 0; i < n; i++) {
    const y = rng.nextInt(3);
    labels.push(y);
    base.push(row(y, 0.8));
    tuned.push(row(y, 3));
  }
  return { labels, base, tuned, inputs: labels.map((_, i) => i) };
}

const codeOf = async (f: () => Promise<unknown>) => {
  try {
    await f();
  } catch (e) {
    return isProvenantError(e) ? e.code : `other: ${(e as Error).message}`;
  }
  return 'none';
};

describe('compareModels', () => {
  const data = synthetic(120, 11);
  const task = (metric: ClassificationMetricName, extra: Partial<EvalTask<number>> = {}): EvalTask<number> =>
    ({ name: metric, kind: 'domain', metric, dataset: { inputs: data.inputs, labels: data.labels }, ...extra }) as EvalTask<number>;

  it('reports the same values as the standalone metric functions', async () => {
    const binaryLabels = data.labels.map((y) => (y === 2 ? 1 : 0));
    const tasks: EvalTask<number>[] = [
      task('accuracy'),
      task('macro-f1'),
      task('macro-precision'),
      task('macro-recall'),
      task('log-loss'),
      task('ece', { bins: 10 } as never),
      task('f1', { positiveClass: 2 } as never),
      task('precision', { positiveClass: 2 } as never),
      task('recall', { positiveClass: 2 } as never),
      task('auroc', { positiveClass: 2 } as never),
    ];
    const table = await compareModels(tableModel('base', data.base), tableModel('tuned', data.tuned), tasks, { resamples: 200 });
    const get = (name: string) => table.rows.find((r) => r.task === name)!;
    for (const [which, probs] of [['base', data.base], ['tuned', data.tuned]] as const) {
      const opts = { resamples: 1 };
      const prf = precisionRecallF1(data.labels, probs, opts);
      expect(get('accuracy')[which].value).toBeCloseTo(accuracy(data.labels, probs, opts).value, 14);
      expect(get('macro-precision')[which].value).toBeCloseTo(prf.macro.precision.value, 14);
      expect(get('macro-recall')[which].value).toBeCloseTo(prf.macro.recall.value, 14);
      expect(get('macro-f1')[which].value).toBeCloseTo(prf.macro.f1.value, 14);
      expect(get('f1')[which].value).toBeCloseTo(prf.perClass[2]!.f1.value, 14);
      expect(get('precision')[which].value).toBeCloseTo(prf.perClass[2]!.precision.value, 14);
      expect(get('recall')[which].value).toBeCloseTo(prf.perClass[2]!.recall.value, 14);
      expect(get('log-loss')[which].value).toBeCloseTo(logLoss(data.labels, probs, opts).value, 14);
      expect(get('ece')[which].value).toBeCloseTo(expectedCalibrationError(data.labels, probs, { bins: 10, ...opts }).value, 14);
      expect(get('auroc')[which].value).toBeCloseTo(auroc(binaryLabels, probs.map((p) => p[2]!), opts).value, 14);
    }
    const acc = get('accuracy');
    expect(acc.delta.value).toBeCloseTo(acc.tuned.value - acc.base.value, 14);
    expect(acc.verdict).toBe('improved');
    expect(acc.delta.ci.lower).toBeGreaterThan(0);
    expect(acc.pValue).toBeLessThan(0.05);
    expect(get('log-loss').verdict).toBe('improved'); // lower is better, and it went down
    expect(get('log-loss').delta.value).toBeLessThan(0);
    // Class-distribution drift is the mean per-example KL(base‖tuned).
    const drift = distributionDrift(data.base, data.tuned, { resamples: 1 });
    expect(acc.drift!.kl.value).toBeCloseTo(drift.kl.value, 14);
    expect(acc.drift!.js.value).toBeCloseTo(drift.js.value, 14);
  });

  it('verdicts are direction-aware for perplexity; identical models show no significant change', async () => {
    const texts = Array.from({ length: 30 }, (_, i) => 'x'.repeat(5 + (i % 7)));
    const lm = (name: string, perToken: (i: number) => number): EvalModel => ({
      name,
      scoreText: (ts) => ts.map((t) => ({ nll: t.length * perToken(t.length), tokens: t.length })),
    });
    const english: EvalTask = { name: 'english', kind: 'retained', metric: 'perplexity', dataset: { texts } };
    const base = lm('base', (len) => 2 + 0.01 * len);
    const worse = lm('worse', (len) => 2.2 + 0.01 * len);
    const better = lm('better', (len) => 1.9 + 0.01 * len);
    const up = await compareModels(base, worse, [english], { resamples: 300 });
    const down = await compareModels(base, better, [english], { resamples: 300 });
    const same = await compareModels(base, base, [english], { resamples: 300 });
    expect(up.rows[0]!.verdict).toBe('regressed');
    expect(up.rows[0]!.relativeDelta!.value).toBeGreaterThan(0);
    expect(down.rows[0]!.verdict).toBe('improved');
    expect(same.rows[0]!.verdict).toBe('no significant change');
    expect(same.rows[0]!.pValue).toBe(1);
    // The tuned value is the corpus perplexity of its own scores.
    const scores = texts.map((t) => ({ nll: t.length * (2.2 + 0.01 * t.length), tokens: t.length }));
    expect(up.rows[0]!.tuned.value).toBeCloseTo(perplexity(scores, { resamples: 1 }).value, 12);
    expect(up.rows[0]!.drift).toBeNull();
  });

  it('language drift uses next-token distributions grouped by text', async () => {
    const texts = ['ab', 'abc', 'abca', 'b', 'bb', 'ccc'];
    const rows = (t: string, sharp: number) => Array.from(t, (ch) => {
      const k = ch.charCodeAt(0) - 97;
      const r = [1, 1, 1];
      r[k] = sharp;
      const s = r.reduce((a, b) => a + b, 0);
      return r.map((v) => v / s);
    });
    const model = (name: string, sharp: number): EvalModel => ({
      name,
      scoreText: (ts) => ts.map((t) => ({ nll: t.length, tokens: t.length, characters: t.length })),
      nextTokenProba: (ts) => ts.map((t) => rows(t as string, sharp)), // texts: the task has dataset.texts
    });
    const table = await compareModels(model('base', 2), model('tuned', 5), [
      { name: 'lm', kind: 'retained', metric: 'bits-per-character', dataset: { texts } },
    ], { resamples: 100 });
    const drift = table.rows[0]!.drift!;
    const all = texts.flatMap((t) => rows(t, 2));
    const allTuned = texts.flatMap((t) => rows(t, 5));
    expect(drift.rows).toBe(all.length);
    expect(drift.units).toBe(texts.length);
    expect(drift.kl.value).toBeCloseTo(distributionDrift(all, allTuned, { resamples: 1 }).kl.value, 14);
    expect(table.rows[0]!.base.value).toBeCloseTo(1 / Math.LN2, 14);
    // Bits per character is never guessed from the text: a model must report characters.
    const noChars: EvalModel = { scoreText: (ts) => ts.map((t) => ({ nll: t.length, tokens: t.length })) };
    await expect(
      compareModels(noChars, noChars, [{ name: 'lm', kind: 'retained', metric: 'bits-per-character', dataset: { texts } }]),
    ).rejects.toMatchObject({ code: 'EVAL_INPUT_INVALID' });
  });

  it('calls models in batches of at most batchSize, and is reproducible per seed', async () => {
    const calls: number[] = [];
    const t = await compareModels(tableModel('b', data.base, calls), tableModel('t', data.tuned), [task('accuracy')], {
      batchSize: 50,
      resamples: 100,
      seed: 4,
    });
    expect(calls).toEqual([50, 50, 20]);
    const again = await compareModels(tableModel('b', data.base), tableModel('t', data.tuned), [task('log-loss'), task('accuracy')], {
      resamples: 100,
      seed: 4,
    });
    // A task's interval depends on the seed and its own name only, not on the other tasks.
    expect(again.rows[1]).toEqual(t.rows[0]);
    // Plain object: survives JSON unchanged.
    expect(JSON.parse(JSON.stringify(again))).toEqual(again);
    // evaluateTask agrees with the table's tuned column.
    const single = await evaluateTask(tableModel('t', data.tuned), task('accuracy'), { resamples: 100, seed: 4 });
    expect(single.value).toBe(t.rows[0]!.tuned.value);
    expect(single.ci).toEqual(t.rows[0]!.tuned.ci);
  });

  it('refuses bad models and tasks with typed errors', async () => {
    const good = tableModel('good', data.base);
    const acc = task('accuracy');
    expect(await codeOf(() => compareModels({ name: 'none' }, good, [acc]))).toBe('EVAL_INPUT_INVALID');
    expect(await codeOf(() => compareModels(good, { predictProba: async (x) => x.slice(1).map(() => [0.5, 0.3, 0.2]) }, [acc]))).toBe(
      'EVAL_LENGTH_MISMATCH',
    );
    expect(await codeOf(() => compareModels(good, { predictProba: async (x) => x.map(() => [2, -1, 0]) }, [acc]))).toBe(
      'EVAL_PROBABILITIES_INVALID',
    );
    expect(await codeOf(() => compareModels(good, { predictProba: async (x) => x.map(() => [0.5, 0.5, 0.5]) }, [acc]))).toBe(
      'EVAL_PROBABILITIES_INVALID',
    );
    expect(await codeOf(() => compareModels(good, { predictProba: async (x) => x.map(() => [0.5, 0.5]) }, [acc]))).toBe(
      'EVAL_INPUT_INVALID',
    ); // labels go up to 2 but the model has 2 classes
    expect(await codeOf(() => compareModels(good, good, [acc, acc]))).toBe('EVAL_INPUT_INVALID');
    expect(await codeOf(() => compareModels(good, good, []))).toBe('EVAL_INPUT_INVALID');
    const short = { ...acc, dataset: { inputs: data.inputs, labels: data.labels.slice(1) } } as EvalTask<number>;
    expect(await codeOf(() => compareModels(good, good, [short]))).toBe('EVAL_LENGTH_MISMATCH');
    const nan = { ...acc, dataset: { inputs: [0, 1], labels: [0, NaN] } } as EvalTask<number>;
    expect(await codeOf(() => compareModels(good, good, [nan]))).toBe('EVAL_INPUT_INVALID');
    expect(await codeOf(() => compareModels(good, good, [{ ...acc, metric: 'bleu' } as never]))).toBe('EVAL_INPUT_INVALID');
    expect(await codeOf(() => compareModels(good, good, [{ ...acc, kind: 'other' } as never]))).toBe('EVAL_INPUT_INVALID');
    const lmTask: EvalTask<number> = { name: 'lm', kind: 'retained', metric: 'perplexity', dataset: { texts: ['a'] } };
    expect(await codeOf(() => compareModels(good, good, [lmTask]))).toBe('EVAL_INPUT_INVALID');
    const nanScore: EvalModel<number> = { scoreText: (ts) => ts.map(() => ({ nll: NaN, tokens: 1 })) };
    expect(await codeOf(() => compareModels(nanScore, nanScore, [lmTask]))).toBe('EVAL_INPUT_INVALID');
  });
});
