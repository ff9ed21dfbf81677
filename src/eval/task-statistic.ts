/**
 * Runs a task's dataset through a model (in batches) and turns the outputs into the weighted statistic θ(w) of the
 * task's metric — the shared step behind `evaluateTask`, `compareModels` and `evaluateStages`.
 */
import { createProgressReporter, describeValue, nearestField, ProvenantError } from '../core/index.js';
import type { ParamField, ProgressCallback } from '../core/index.js';
import { accuracyStatistic } from './accuracy.js';
import { aurocStatistic } from './auroc.js';
import { calibrationInputs, DEFAULT_ECE_BINS, eceStatistic } from './calibration.js';
import type { EvalModel, EvalTask, LanguageInput, TextDataset } from './eval-model.js';
import { perExampleLogLoss, weightedMeanStatistic } from './log-loss.js';
import { HIGHER_IS_BETTER, isMetricName } from './metric-result.js';
import type { MetricName } from './metric-result.js';
import { languageInputs, ratioStatistic } from './perplexity.js';
import type { TextScore } from './perplexity.js';
import { precisionRecallF1Statistic, presentClasses } from './precision-recall-f1.js';
import { argmax, checkLabels, checkProbabilityRows } from './validate.js';
import type { ProbabilityRows } from './validate.js';

/** Default number of items handed to a model per call. */
export const DEFAULT_EVAL_BATCH_SIZE = 64;

/** The `batchSize` option of evaluateTask, compareModels and evaluateStages (their options tables share it). */
export const EVAL_BATCH_SIZE_FIELD: ParamField = Object.freeze({ name: 'batchSize', default: DEFAULT_EVAL_BATCH_SIZE, meaning: 'Items per model call.', aliases: ['batch_size', 'per_device_eval_batch_size'] });

/** A model's outputs on a task. */
export type TaskOutputs =
  | { type: 'classification'; labels: Int32Array; probabilities: ProbabilityRows; numClasses: number }
  | { type: 'language'; scores: TextScore[]; nextToken?: ProbabilityRows[] };

/** Options for running a model over a task. */
export interface RunTaskOptions {
  /** Items per model call. Default 64. */
  batchSize?: number;
  /** Also collect next-token distributions when the model offers them (for drift). Default false. */
  nextToken?: boolean;
  onProgress?: ProgressCallback;
}

const modelName = (model: EvalModel<never>, fallback: string): string => model.name ?? fallback;

/** The keys of a task of each kind (see eval-model.ts); any other key is refused with the nearest one. */
const LANGUAGE_TASK_KEYS = ['name', 'kind', 'metric', 'dataset'] as const;
const CLASSIFICATION_TASK_KEYS = [...LANGUAGE_TASK_KEYS, 'positiveClass', 'bins'] as const;

/** Checks a task's shape; throws `EVAL_INPUT_INVALID` naming what is wrong. */
export function validateTask(task: EvalTask<unknown>): void {
  const fail = (message: string, value?: unknown): never => {
    throw new ProvenantError('EVAL_INPUT_INVALID', `Task ${describeValue(task?.name)}: ${message}`, {
      metaMessages: value === undefined ? [] : [`value: ${describeValue(value)}`],
      data: { task: task?.name },
    });
  };
  if (!task || typeof task !== 'object') fail('must be an object', task);
  if (typeof task.name !== 'string' || task.name.length === 0) fail('name must be a non-empty string', task.name);
  if (task.kind !== 'domain' && task.kind !== 'retained') fail("kind must be 'domain' or 'retained'", task.kind);
  if (!isMetricName(task.metric)) fail(`unknown metric; use one of ${Object.keys(HIGHER_IS_BETTER).join(', ')}`, task.metric);
  // A misspelt key (`positive_class`, `dataset.token_ids` beside `texts`) would be ignored and the task run on defaults.
  const language = isLanguageMetric(task.metric);
  const unknownKey = (object: object, known: readonly string[], path: string): void => {
    for (const [key, value] of Object.entries(object)) {
      if (known.includes(key) || value === undefined) continue;
      // A classification key on a language task (`bins` on perplexity) is named as such, not matched to a near name.
      const near = (CLASSIFICATION_TASK_KEYS as readonly string[]).includes(key) ? null : nearestField(key, known);
      fail(`unknown key "${path}${key}"${near ? ` (did you mean "${path}${near}"?)` : ''}; a ${language ? 'language' : 'classification'} task has ${known.map((k) => path + k).join(', ')}`);
    }
  };
  unknownKey(task, language ? LANGUAGE_TASK_KEYS : CLASSIFICATION_TASK_KEYS, '');
  if (task.dataset && typeof task.dataset === 'object') unknownKey(task.dataset, language ? ['texts', 'tokenIds'] : ['inputs', 'labels'], 'dataset.');
  if (isLanguageMetric(task.metric)) {
    const { texts, tokenIds } = (task.dataset ?? {}) as { texts?: unknown; tokenIds?: unknown };
    if ((texts === undefined) === (tokenIds === undefined)) fail('a language task needs dataset.texts or dataset.tokenIds (exactly one)');
    if (texts !== undefined) {
      if (!Array.isArray(texts) || texts.length === 0) fail('dataset.texts must be a non-empty array of strings', texts);
      (texts as unknown[]).forEach((t, i) => typeof t !== 'string' && fail(`dataset.texts[${i}] must be a string`, t));
    } else {
      if (!Array.isArray(tokenIds) || tokenIds.length === 0) fail('dataset.tokenIds must be a non-empty array of token-id arrays', tokenIds);
      (tokenIds as unknown[]).forEach((ids, i) => {
        if (!Array.isArray(ids) || ids.length === 0) fail(`dataset.tokenIds[${i}] must be a non-empty array of token ids`, ids);
        const bad = (ids as unknown[]).findIndex((id) => !Number.isSafeInteger(id) || (id as number) < 0);
        if (bad >= 0) fail(`dataset.tokenIds[${i}][${bad}] must be a token id (an integer ≥ 0)`, (ids as unknown[])[bad]);
      });
    }
  } else {
    const d = task.dataset as { inputs?: unknown; labels?: unknown };
    if (!Array.isArray(d?.inputs) || !Array.isArray(d?.labels)) fail('a classification task needs dataset.inputs and dataset.labels');
    if ((d.inputs as unknown[]).length !== (d.labels as unknown[]).length) {
      throw new ProvenantError('EVAL_LENGTH_MISMATCH', `Task "${task.name}": dataset.inputs and dataset.labels differ in length.`, {
        metaMessages: [`inputs: ${(d.inputs as unknown[]).length}`, `labels: ${(d.labels as unknown[]).length}`],
        data: { task: task.name },
      });
    }
    checkLabels(d.labels as number[], `${task.name}.labels`);
    const t = task as { positiveClass?: unknown; bins?: unknown };
    if (t.positiveClass !== undefined && !(Number.isInteger(t.positiveClass) && (t.positiveClass as number) >= 0)) {
      fail('positiveClass must be an integer ≥ 0', t.positiveClass);
    }
    if (t.bins !== undefined && !(Number.isInteger(t.bins) && (t.bins as number) >= 1)) fail('bins must be an integer ≥ 1', t.bins);
  }
}

/** A language task's sequences: its texts, or its token-id arrays. */
export function languageInputsOf(dataset: TextDataset): readonly LanguageInput[] {
  return dataset.texts ?? dataset.tokenIds;
}

/** True for perplexity and bits per character. */
export function isLanguageMetric(metric: MetricName): metric is 'perplexity' | 'bits-per-character' {
  return metric === 'perplexity' || metric === 'bits-per-character';
}

/** Runs `model` over the task's dataset in batches and validates what comes back. */
export async function runTask<Input>(
  model: EvalModel<Input>,
  task: EvalTask<Input>,
  options: RunTaskOptions = {},
): Promise<TaskOutputs> {
  const batchSize = options.batchSize ?? DEFAULT_EVAL_BATCH_SIZE;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new ProvenantError('EVAL_INPUT_INVALID', 'batchSize must be an integer ≥ 1.', { data: { batchSize } });
  }
  const name = modelName(model as EvalModel<never>, 'model');
  // Base and tuned run every task in turn: the model's name tells their progress bars apart.
  const progressLabel = `eval:${task.name} · ${name}`;
  const missing = (method: string): never => {
    throw new ProvenantError('EVAL_INPUT_INVALID', `Model "${name}" has no ${method}(), which task "${task.name}" needs.`, {
      details: 'Implement the method on the model (see the EvalModel interface) or remove the task.',
      data: { model: name, task: task.name, method },
    });
  };
  const countMismatch = (method: string, expected: number, actual: unknown): never => {
    throw new ProvenantError('EVAL_LENGTH_MISMATCH', `Model "${name}".${method}() returned the wrong number of results.`, {
      metaMessages: [`expected: ${expected}`, `actual: ${describeValue(actual)}`],
      data: { model: name, task: task.name, method },
    });
  };
  if (isLanguageMetric(task.metric)) {
    const texts = languageInputsOf(task.dataset as TextDataset);
    if (!model.scoreText) missing('scoreText');
    const progress = createProgressReporter(progressLabel, texts.length, options.onProgress);
    const scores: TextScore[] = [];
    const nextToken: ProbabilityRows[] | undefined = options.nextToken && model.nextTokenProba ? [] : undefined;
    for (let start = 0; start < texts.length; start += batchSize) {
      const batch = texts.slice(start, start + batchSize);
      const out = await model.scoreText!(batch);
      if (!Array.isArray(out) || out.length !== batch.length) countMismatch('scoreText', batch.length, out?.length);
      scores.push(...out);
      if (nextToken) {
        const rows = await model.nextTokenProba!(batch);
        if (!Array.isArray(rows) || rows.length !== batch.length) countMismatch('nextTokenProba', batch.length, rows?.length);
        nextToken.push(...rows);
      }
      progress.tick(Math.min(texts.length, start + batchSize));
    }
    const uncounted = task.metric === 'bits-per-character' ? scores.findIndex((s) => s?.characters === undefined) : -1;
    if (uncounted >= 0) {
      throw new ProvenantError('EVAL_INPUT_INVALID', `Model "${name}" reports no characters for sequence ${uncounted} of task "${task.name}", which bits per character needs.`, {
        details: 'A model without a tokenizer cannot say how many characters token ids cover: evaluate it with perplexity, or give scoreText() `characters`.',
        data: { model: name, task: task.name, index: uncounted },
      });
    }
    languageInputs(scores, task.metric === 'perplexity' ? 'tokens' : 'characters');
    return { type: 'language', scores, nextToken };
  }
  const { inputs, labels } = (task.dataset as { inputs: readonly Input[]; labels: readonly number[] });
  if (!model.predictProba) missing('predictProba');
  const progress = createProgressReporter(progressLabel, inputs.length, options.onProgress);
  const probabilities: ArrayLike<number>[] = [];
  for (let start = 0; start < inputs.length; start += batchSize) {
    const batch = inputs.slice(start, start + batchSize);
    const out = await model.predictProba!(batch);
    if (!Array.isArray(out) || out.length !== batch.length) countMismatch('predictProba', batch.length, out?.length);
    probabilities.push(...out);
    progress.tick(Math.min(inputs.length, start + batchSize));
  }
  const numClasses = checkProbabilityRows(probabilities, `${name}.predictProba(${task.name})`);
  checkLabels(labels, `${task.name}.labels`, numClasses);
  const positiveClass = (task as { positiveClass?: number }).positiveClass ?? 1;
  if (['f1', 'precision', 'recall', 'auroc'].includes(task.metric) && positiveClass >= numClasses) {
    throw new ProvenantError('EVAL_INPUT_INVALID', `Task "${task.name}": positiveClass ${positiveClass} ≥ ${numClasses} classes.`, {
      data: { task: task.name, positiveClass, numClasses },
    });
  }
  return { type: 'classification', labels: Int32Array.from(labels), probabilities, numClasses };
}

/** One-class precision, recall or F1 with scikit-learn's zero_division=0. */
function binaryScoreStatistic(
  which: 'precision' | 'recall' | 'f1',
  labels: Int32Array,
  predicted: Int32Array,
  c: number,
): (w: Float64Array) => number {
  return (w) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i] === c;
      const p = predicted[i] === c;
      if (y && p) tp += w[i]!;
      else if (p) fp += w[i]!;
      else if (y) fn += w[i]!;
    }
    const den = which === 'precision' ? tp + fp : which === 'recall' ? tp + fn : 2 * tp + fp + fn;
    return den > 0 ? ((which === 'f1' ? 2 : 1) * tp) / den : 0;
  };
}

/**
 * The weighted statistic θ(w) of the task's metric on a model's outputs; θ(1…1) is the metric value. For the
 * macro metrics the class set is fixed by `macroClasses` (default: classes present in these outputs), so that two
 * models compared on the same examples average over the same classes.
 */
export function taskStatistic(
  task: EvalTask<unknown>,
  outputs: TaskOutputs,
  macroClasses?: readonly number[],
): (weights: Float64Array) => number {
  if (outputs.type === 'language') {
    const { nll, count } = languageInputs(outputs.scores, task.metric === 'perplexity' ? 'tokens' : 'characters');
    return task.metric === 'perplexity' ? ratioStatistic(nll, count, Math.exp) : ratioStatistic(nll, count, (r) => r / Math.LN2);
  }
  const { labels, probabilities, numClasses } = outputs;
  const positiveClass = (task as { positiveClass?: number }).positiveClass ?? 1;
  const predicted = Int32Array.from(probabilities, (row) => argmax(row));
  switch (task.metric) {
    case 'accuracy':
      return accuracyStatistic(labels, predicted);
    case 'precision':
    case 'recall':
    case 'f1':
      return binaryScoreStatistic(task.metric, labels, predicted, positiveClass);
    case 'macro-precision':
    case 'macro-recall':
    case 'macro-f1': {
      const classes = macroClasses ?? presentClasses(labels, predicted, numClasses);
      const vector = precisionRecallF1Statistic(labels, predicted, numClasses, classes);
      const out = new Float64Array(3 * numClasses + 3);
      const offset = task.metric === 'macro-precision' ? 0 : task.metric === 'macro-recall' ? 1 : 2;
      return (w) => {
        vector(w, out);
        return out[3 * numClasses + offset]!;
      };
    }
    case 'log-loss':
      return weightedMeanStatistic(perExampleLogLoss(labels, probabilities));
    case 'auroc': {
      const isPositive = Uint8Array.from(labels, (y) => (y === positiveClass ? 1 : 0));
      const positives = isPositive.reduce((a, b) => a + b, 0);
      if (positives === 0 || positives === labels.length) {
        throw new ProvenantError('EVAL_INPUT_INVALID', `Task "${task.name}": AUROC needs both positive and negative examples.`, {
          data: { task: task.name, positives, n: labels.length },
        });
      }
      return aurocStatistic(isPositive, Float64Array.from(probabilities, (row) => row[positiveClass]!));
    }
    case 'ece': {
      const bins = (task as { bins?: number }).bins ?? DEFAULT_ECE_BINS;
      return eceStatistic(calibrationInputs(labels, probabilities, bins), bins);
    }
    default:
      throw new ProvenantError('EVAL_INPUT_INVALID', `Task "${task.name}": metric ${task.metric} is not a classification metric.`);
  }
}

/** Number of resampling units of the outputs (examples, or texts). */
export function outputCount(outputs: TaskOutputs): number {
  return outputs.type === 'language' ? outputs.scores.length : outputs.labels.length;
}
