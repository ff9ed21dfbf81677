/** Builds the accuracy matrix R of a sequence of fine-tunes by evaluating every stage's model on every task. */
import type { ProgressCallback } from '../core/index.js';
import { bootstrapOptionsTable } from './bootstrap.js';
import type { BootstrapOptions, ConfidenceInterval } from './bootstrap.js';
import type { EvalModel, EvalTask } from './eval-model.js';
import { evaluateTask } from './evaluate-task.js';
import { HIGHER_IS_BETTER } from './metric-result.js';
import type { MetricName } from './metric-result.js';
import { ProvenantError, resolve } from '../core/index.js';
import { EVAL_BATCH_SIZE_FIELD } from './task-statistic.js';

/** R with intervals, ready for {@link forgettingMeasures}. */
export interface AccuracyMatrix {
  tasks: string[];
  metrics: MetricName[];
  higherIsBetter: boolean[];
  /** R[i][j]: metric on task j after stage i. */
  matrix: number[][];
  intervals: ConfidenceInterval[][];
  /** b_j: metric on task j of the `baseline` model, when one was given. */
  baseline?: number[];
}

/** Options of {@link evaluateStages}. */
export interface EvaluateStagesOptions extends BootstrapOptions {
  /** The model before the first stage, for FWT's b. */
  baseline?: EvalModel<any>;
  batchSize?: number;
  onProgress?: ProgressCallback;
}

/** The options of {@link evaluateStages}: the bootstrap's, `batchSize` and `baseline`; `onProgress` is a callback. */
const EVALUATE_STAGES_PARAMS = bootstrapOptionsTable(
  'evaluateStages',
  [EVAL_BATCH_SIZE_FIELD, { name: 'baseline', default: null, meaning: "The model before the first stage, for FWT's b; null: no FWT." }],
  ['onProgress'],
);

/**
 * Evaluates stage i's model on task j for all i, j. Stage i is the model after training on task i, so pass as many
 * stages as tasks, in training order.
 *
 * @throws ProvenantError `INVALID_ARGUMENT` for an unknown option name, with the nearest one (e.g. `resample` → `resamples`).
 * @example
 * ```ts
 * import { base } from 'viem/chains';
 * import { evaluateStages, forgettingMeasures, type EvalModel, type EvalTask } from 'provenant/eval';
 * declare const afterTask0: EvalModel<unknown>;
 * declare const afterTask1: EvalModel<unknown>;
 * declare const task0: EvalTask<unknown>;
 * declare const task1: EvalTask<unknown>;
 * const R = await evaluateStages([afterTask0, afterTask1], [task0, task1], { baseline: base });
 * const m = forgettingMeasures(R.matrix, { baseline: R.baseline, higherIsBetter: R.higherIsBetter });
 * ```
 */
export async function evaluateStages<Input>(
  stages: readonly EvalModel<Input>[],
  tasks: readonly EvalTask<Input>[],
  options: EvaluateStagesOptions = {},
): Promise<AccuracyMatrix> {
  resolve(EVALUATE_STAGES_PARAMS, options);
  if (!Array.isArray(stages) || stages.length === 0 || stages.length !== tasks.length) {
    throw new ProvenantError('EVAL_LENGTH_MISMATCH', 'evaluateStages needs one stage model per task (T stages × T tasks).', {
      metaMessages: [`stages: ${stages?.length}`, `tasks: ${tasks?.length}`],
    });
  }
  const { baseline, ...rest } = options;
  const matrix: number[][] = [];
  const intervals: ConfidenceInterval[][] = [];
  for (const stage of stages) {
    const row: number[] = [];
    const cis: ConfidenceInterval[] = [];
    for (const task of tasks) {
      const r = await evaluateTask(stage, task, rest);
      row.push(r.value);
      cis.push(r.ci);
    }
    matrix.push(row);
    intervals.push(cis);
  }
  const result: AccuracyMatrix = {
    tasks: tasks.map((t) => t.name),
    metrics: tasks.map((t) => t.metric),
    higherIsBetter: tasks.map((t) => HIGHER_IS_BETTER[t.metric as MetricName]),
    matrix,
    intervals,
  };
  if (baseline) {
    const b: number[] = [];
    for (const task of tasks) b.push((await evaluateTask(baseline as EvalModel<Input>, task, rest)).value);
    result.baseline = b;
  }
  return result;
}
