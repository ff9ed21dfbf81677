/** One model on one task: the metric value with its seeded bootstrap interval. */
import { bootstrapEstimate, bootstrapOptionsTable, checkedBootstrapOptions } from './bootstrap.js';
import type { BootstrapOptions } from './bootstrap.js';
import type { EvalModel, EvalTask, EvalTaskKind } from './eval-model.js';
import { HIGHER_IS_BETTER } from './metric-result.js';
import type { MetricResult } from './metric-result.js';
import { EVAL_BATCH_SIZE_FIELD, outputCount, runTask, taskStatistic, validateTask } from './task-statistic.js';
import type { RunTaskOptions } from './task-statistic.js';
import type { Seed } from '../core/index.js';

/** Options of {@link evaluateTask}. */
export interface EvaluateTaskOptions extends BootstrapOptions, Omit<RunTaskOptions, 'nextToken'> {}

/** A metric result labelled with its task. */
export interface TaskEvaluation extends MetricResult {
  task: string;
  kind: EvalTaskKind;
}

/**
 * The seed a task's bootstrap uses: the caller's seed joined with the task name, so adding or reordering tasks never
 * changes another task's interval.
 */
export function taskSeed(seed: Seed, taskName: string, suffix = ''): string {
  return `${String(seed)}:${taskName}${suffix}`;
}

/** The options of {@link evaluateTask}: the bootstrap's and `batchSize`; `onProgress` is a callback. */
const EVALUATE_TASK_PARAMS = bootstrapOptionsTable('evaluateTask', [EVAL_BATCH_SIZE_FIELD], ['onProgress']);

/**
 * Evaluates one model on one task.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 *   `EVAL_INPUT_INVALID` for a malformed task, including an unknown task or dataset key.
 * @example
 * ```ts
 * import { evaluateTask } from 'provenant/eval';
 * const model = { predictProba: async (xs: number[]) => xs.map((x) => [1 - x, x]) };
 * const r = await evaluateTask(model, {
 *   name: 'toy', kind: 'domain', metric: 'accuracy', dataset: { inputs: [0.9, 0.2, 0.4], labels: [1, 0, 1] },
 * });
 * // r.value === 2 / 3
 * ```
 */
export async function evaluateTask<Input>(
  model: EvalModel<Input>,
  task: EvalTask<Input>,
  options: EvaluateTaskOptions = {},
): Promise<TaskEvaluation> {
  const settings = checkedBootstrapOptions(EVALUATE_TASK_PARAMS, options);
  validateTask(task as EvalTask<unknown>);
  const outputs = await runTask(model, task, options);
  const est = bootstrapEstimate(outputCount(outputs), taskStatistic(task as EvalTask<unknown>, outputs), {
    ...settings,
    seed: taskSeed(settings.seed, task.name),
  });
  return {
    task: task.name,
    kind: task.kind,
    metric: task.metric,
    higherIsBetter: HIGHER_IS_BETTER[task.metric],
    n: outputCount(outputs),
    ...est,
  };
}
