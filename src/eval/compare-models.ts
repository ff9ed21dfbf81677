/**
 * Base versus tuned on the tasks the user names: per task both values, the paired-bootstrap delta with its interval and
 * p-value, a direction-aware verdict, and the drift of the output distributions.
 *
 * Verdict rule: the change is significant when the (1 − alpha) percentile interval of δ = tuned − base excludes 0; it
 * is `improved` when δ moves in the metric's good direction (up for accuracy, down for perplexity, log loss and ECE),
 * `regressed` when it moves the other way, and `no significant change` otherwise. The p-value is reported beside it
 * (see paired-bootstrap.ts); it is below alpha whenever the interval excludes 0, up to the resolution of B.
 */
import { ProvenantError } from '../core/index.js';
import type { ProgressCallback, Seed } from '../core/index.js';
import { bootstrapOptionsTable, checkedBootstrapOptions } from './bootstrap.js';
import type { BootstrapOptions, BootstrapSummary, Estimate } from './bootstrap.js';
import { DEFAULT_KL_EPSILON, distributionDrift, EPSILON_FIELD } from './divergence.js';
import type { DriftResult } from './divergence.js';
import type { EvalModel, EvalTask, EvalTaskKind } from './eval-model.js';
import { taskSeed } from './evaluate-task.js';
import { HIGHER_IS_BETTER } from './metric-result.js';
import type { MetricName } from './metric-result.js';
import { pairedBootstrap } from './paired-bootstrap.js';
import { presentClasses } from './precision-recall-f1.js';
import { DEFAULT_EVAL_BATCH_SIZE, EVAL_BATCH_SIZE_FIELD, outputCount, runTask, taskStatistic, validateTask } from './task-statistic.js';
import type { TaskOutputs } from './task-statistic.js';
import { argmax } from './validate.js';
import type { ProbabilityRows } from './validate.js';

/** The verdict of one task. */
export type Verdict = 'improved' | 'no significant change' | 'regressed';

/** One row of the base-versus-tuned table. */
export interface TaskComparison {
  task: string;
  kind: EvalTaskKind;
  metric: MetricName;
  higherIsBetter: boolean;
  /** Examples (texts, for language tasks) evaluated. */
  n: number;
  base: Estimate;
  tuned: Estimate;
  /** tuned − base, in the metric's units. */
  delta: Estimate;
  /** (tuned − base) / |base|; null when the base value is 0 (or is 0 on most resamples). */
  relativeDelta: Estimate | null;
  /** Two-sided paired-bootstrap p-value of δ = 0. */
  pValue: number;
  verdict: Verdict;
  /**
   * KL(base‖tuned) and JS of the class distributions (classification) or next-token distributions (language tasks,
   * when both models implement `nextTokenProba`); null when not computed.
   */
  drift: DriftResult | null;
  bootstrap: BootstrapSummary;
}

/** The whole comparison, as a plain object for the audit record. */
export interface ComparisonTable {
  base: string;
  tuned: string;
  rows: TaskComparison[];
  settings: {
    resamples: number;
    alpha: number;
    seed: Seed;
    batchSize: number;
    driftEpsilon: number;
    verdictRule: string;
  };
}

/** Options of {@link compareModels}. */
export interface CompareModelsOptions extends BootstrapOptions {
  /** Items per model call. Default 64. */
  batchSize?: number;
  /** Compute KL/JS drift where possible. Default true. */
  drift?: boolean;
  /** Uniform-mixing ε of KL (see divergence.ts). Default 1e-10. */
  epsilon?: number;
  onProgress?: ProgressCallback;
}

/** The verdict rule in words, recorded in every table's settings. */
export const VERDICT_RULE =
  'significant when the (1 − alpha) paired percentile-bootstrap interval of tuned − base excludes 0; improved or regressed by the metric direction';

/**
 * Direction-aware verdict from the interval of δ = tuned − base (`VERDICT_RULE`): `'improved'` when the interval lies
 * wholly on the good side of 0 for the metric's direction, `'regressed'` when wholly on the bad side, else
 * `'no significant change'`. An interval touching 0 is not significant.
 *
 * @example
 * ```ts
 * import { verdictOf } from 'provenant/eval';
 *
 * const delta = { value: 0.05, ci: { lower: 0.01, upper: 0.09, level: 0.95 } };
 * verdictOf(delta, true); // 'improved' (e.g. macro-F1 up)
 * verdictOf(delta, false); // 'regressed' (e.g. perplexity up)
 * ```
 */
export function verdictOf(delta: Estimate, higherIsBetter: boolean): Verdict {
  const up = delta.ci.lower > 0;
  const down = delta.ci.upper < 0;
  if (!up && !down) return 'no significant change';
  return up === higherIsBetter ? 'improved' : 'regressed';
}

function macroClassesOf(base: TaskOutputs, tuned: TaskOutputs): number[] | undefined {
  if (base.type !== 'classification' || tuned.type !== 'classification') return undefined;
  const a = presentClasses(base.labels, Int32Array.from(base.probabilities, (r) => argmax(r)), base.numClasses);
  const b = presentClasses(tuned.labels, Int32Array.from(tuned.probabilities, (r) => argmax(r)), tuned.numClasses);
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

function driftOf(task: string, base: TaskOutputs, tuned: TaskOutputs, options: CompareModelsOptions, seed: Seed): DriftResult | null {
  const common = { resamples: options.resamples, alpha: options.alpha, epsilon: options.epsilon, seed: taskSeed(seed, task, ':drift') };
  if (base.type === 'classification' && tuned.type === 'classification') {
    return distributionDrift(base.probabilities, tuned.probabilities, common);
  }
  if (base.type === 'language' && tuned.type === 'language' && base.nextToken && tuned.nextToken) {
    const rowsA: ArrayLike<number>[] = [];
    const rowsB: ArrayLike<number>[] = [];
    const groups: number[] = [];
    for (let t = 0; t < base.nextToken.length; t++) {
      const a = base.nextToken[t]!;
      const b = tuned.nextToken[t]!;
      if (a.length !== b.length) {
        throw new ProvenantError('EVAL_LENGTH_MISMATCH', `Task "${task}": the models give different numbers of next-token rows.`, {
          metaMessages: [`text ${t}: base ${a.length}, tuned ${b.length}`],
          data: { task, text: t },
        });
      }
      for (let i = 0; i < a.length; i++) {
        rowsA.push(a[i]!);
        rowsB.push(b[i]!);
        groups.push(t);
      }
    }
    if (rowsA.length === 0) return null;
    return distributionDrift(rowsA as ProbabilityRows, rowsB as ProbabilityRows, { ...common, groups });
  }
  return null;
}

/** The options of {@link compareModels}: the bootstrap's, `batchSize`, `drift`, `epsilon`; `onProgress` is a callback. */
const COMPARE_MODELS_PARAMS = bootstrapOptionsTable(
  'compareModels',
  [
    EVAL_BATCH_SIZE_FIELD,
    { name: 'drift', default: true, meaning: 'Compute the KL/JS drift of the output distributions where the models offer them.' },
    EPSILON_FIELD,
  ],
  ['onProgress'],
);

/**
 * Compares a base and a tuned model on each task with a paired bootstrap.
 *
 * @param base the model before fine-tuning.
 * @param tuned the fine-tuned model.
 * @param tasks `domain` tasks (what the fine-tune is for) and `retained` tasks (what the base could already do).
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 *   `EVAL_INPUT_INVALID` for a malformed task, including an unknown task or dataset key.
 * @example
 * ```ts
 * import { compareModels, formatComparisonTable } from 'provenant/eval';
 * const base = { name: 'base', predictProba: async (xs: number[]) => xs.map(() => [0.5, 0.5]) };
 * const tuned = { name: 'tuned', predictProba: async (xs: number[]) => xs.map((x) => (x > 0 ? [0.1, 0.9] : [0.9, 0.1])) };
 * const table = await compareModels(base, tuned, [
 *   { name: 'sign', kind: 'domain', metric: 'accuracy', dataset: { inputs: [-1, 2, 3, -4], labels: [0, 1, 1, 0] } },
 * ]);
 * console.log(formatComparisonTable(table));
 * ```
 */
export async function compareModels<Input>(
  base: EvalModel<Input>,
  tuned: EvalModel<Input>,
  tasks: readonly EvalTask<Input>[],
  options: CompareModelsOptions = {},
): Promise<ComparisonTable> {
  const settings = checkedBootstrapOptions(COMPARE_MODELS_PARAMS, options);
  const batchSize = options.batchSize ?? DEFAULT_EVAL_BATCH_SIZE;
  const wantDrift = options.drift ?? true;
  if (!Array.isArray(tasks) || tasks.length === 0) {
    throw new ProvenantError('EVAL_INPUT_INVALID', 'compareModels needs at least one task.');
  }
  const names = new Set<string>();
  for (const task of tasks) {
    validateTask(task as EvalTask<unknown>);
    if (names.has(task.name)) {
      throw new ProvenantError('EVAL_INPUT_INVALID', `Task names must be unique; "${task.name}" appears twice.`, {
        data: { task: task.name },
      });
    }
    names.add(task.name);
  }
  const rows: TaskComparison[] = [];
  for (const task of tasks) {
    const run = { batchSize, nextToken: wantDrift, onProgress: options.onProgress };
    const outBase = await runTask(base, task, run);
    const outTuned = await runTask(tuned, task, run);
    if (outBase.type === 'classification' && outTuned.type === 'classification' && outBase.numClasses !== outTuned.numClasses) {
      throw new ProvenantError('EVAL_INPUT_INVALID', `Task "${task.name}": the models predict different numbers of classes.`, {
        metaMessages: [`base: ${outBase.numClasses}`, `tuned: ${outTuned.numClasses}`],
        data: { task: task.name },
      });
    }
    const macro = macroClassesOf(outBase, outTuned);
    const t = task as EvalTask<unknown>;
    const cmp = pairedBootstrap(outputCount(outBase), taskStatistic(t, outBase, macro), taskStatistic(t, outTuned, macro), {
      ...settings,
      seed: taskSeed(settings.seed, task.name),
    });
    const metric: MetricName = task.metric;
    const higherIsBetter = HIGHER_IS_BETTER[metric];
    rows.push({
      task: task.name,
      kind: task.kind,
      metric: task.metric,
      higherIsBetter,
      n: outputCount(outBase),
      base: cmp.base,
      tuned: cmp.tuned,
      delta: cmp.delta,
      relativeDelta: cmp.relativeDelta,
      pValue: cmp.pValue,
      verdict: verdictOf(cmp.delta, higherIsBetter),
      drift: wantDrift ? driftOf(task.name, outBase, outTuned, { ...options, ...settings }, settings.seed) : null,
      bootstrap: cmp.bootstrap,
    });
  }
  return {
    base: base.name ?? 'base',
    tuned: tuned.name ?? 'tuned',
    rows,
    settings: {
      ...settings,
      batchSize,
      driftEpsilon: options.epsilon ?? DEFAULT_KL_EPSILON,
      verdictRule: VERDICT_RULE,
    },
  };
}
