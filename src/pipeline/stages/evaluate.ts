/**
 * Stage 3 · evaluate: base (the linear probe) versus tuned (the adapter) on the domain test rows, the drift rows and the
 * retained general texts, with bootstrap intervals, then the deploy gates. Task names come from `used.names`.
 */
import type { ProgressCallback } from '../../core/index.js';
import { compareModels, evaluateGates, toEvalModel, type ComparisonTable, type EvalTask, type GateReport } from '../../eval/index.js';
import type { TransformerModel } from '../../finetune/index.js';
import type { PipelineParams } from '../options.js';
import type { PreparedData } from './prepare-data.js';

export interface EvaluationResult {
  comparison: ComparisonTable;
  gates: GateReport;
  /** The task list compared (names and metrics), as used. */
  tasks: Array<Pick<EvalTask<string>, 'name' | 'kind' | 'metric'>>;
}

/**
 * Compares base and tuned and checks the gates.
 *
 * @throws ProvenantError `EVAL_GATE_INVALID` when a gate names a task that was not evaluated
 * @example
 * ```ts
 * import { evaluate, type TransformerModel, type PreparedData, type PipelineParams } from 'provenant';
 * declare const model: TransformerModel;
 * declare const data: PreparedData;
 * declare const used: Pick<PipelineParams, 'seed' | 'names' | 'resamples' | 'sequenceLength' | 'gates'>;
 * declare const generalTexts: readonly string[];
 * const { comparison, gates } = await evaluate(model, data, used, { generalTexts });
 * gates.passed; // every gate held
 * ```
 */
export async function evaluate(
  model: TransformerModel,
  data: PreparedData,
  used: Pick<PipelineParams, 'seed' | 'sequenceLength' | 'resamples' | 'names' | 'gates'>,
  inputs: { generalTexts: readonly string[]; onProgress?: ProgressCallback },
): Promise<EvaluationResult> {
  const { names } = used;
  const base = toEvalModel(model, { name: `${names.baseModel} (linear probe)`, adapters: [], maxTokens: used.sequenceLength });
  const tuned = toEvalModel(model, { name: `tuned (${names.adapter})`, adapters: [names.adapter], maxTokens: used.sequenceLength });
  const testSet = { inputs: data.testRows.map(data.textOf), labels: data.testRows.map(data.labelOf) };
  const driftSet = { inputs: data.driftRows.map(data.textOf), labels: data.driftRows.map(data.labelOf) };
  // Macro-F1 is the headline (classes are often imbalanced); accuracy is reported beside it.
  const tasks: EvalTask<string>[] = [
    { name: names.task, kind: 'domain', metric: 'macro-f1', dataset: testSet },
    { name: `${names.task} (accuracy)`, kind: 'domain', metric: 'accuracy', dataset: testSet },
  ];
  if (data.untrustedTestRows.length > 0) {
    // The same seeded test sample with the rows the evaluation rule left out put back: the figure without the rule.
    const all = [...data.testRows, ...data.untrustedTestRows];
    tasks.push({ name: `${names.task} (all labels)`, kind: 'domain', metric: 'macro-f1', dataset: { inputs: all.map(data.textOf), labels: all.map(data.labelOf) } });
  }
  if (data.driftRows.length > 0) {
    tasks.push({ name: `${names.driftTask} (drift)`, kind: 'domain', metric: 'macro-f1', dataset: driftSet });
    tasks.push({ name: `${names.driftTask} (accuracy)`, kind: 'domain', metric: 'accuracy', dataset: driftSet });
  }
  tasks.push({ name: names.retainedTask, kind: 'retained', metric: 'perplexity', dataset: { texts: inputs.generalTexts } });
  const comparison = await compareModels(base, tuned, tasks, { resamples: used.resamples, seed: used.seed, onProgress: inputs.onProgress });
  return { comparison, gates: evaluateGates(comparison, used.gates), tasks: tasks.map(({ name, kind, metric }) => ({ name, kind, metric })) };
}
