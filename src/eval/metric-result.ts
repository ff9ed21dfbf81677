/**
 * The plain-object result every metric returns: JSON-safe (numbers, strings, booleans and arrays only; no NaN, no typed
 * arrays), so the audit record embeds it as is.
 */
import type { BootstrapSummary, Estimate } from './bootstrap.js';

/** Names of the metrics a task can be scored with. */
export type ClassificationMetricName =
  | 'accuracy'
  | 'macro-f1'
  | 'macro-precision'
  | 'macro-recall'
  | 'f1'
  | 'precision'
  | 'recall'
  | 'log-loss'
  | 'auroc'
  | 'ece';

export type LanguageMetricName = 'perplexity' | 'bits-per-character';

export type MetricName = ClassificationMetricName | LanguageMetricName;

/** Whether a larger value of the metric is better (accuracy) or worse (log loss, ECE, perplexity). */
export const HIGHER_IS_BETTER: Readonly<Record<MetricName, boolean>> = {
  accuracy: true,
  'macro-f1': true,
  'macro-precision': true,
  'macro-recall': true,
  f1: true,
  precision: true,
  recall: true,
  'log-loss': false,
  auroc: true,
  ece: false,
  perplexity: false,
  'bits-per-character': false,
};

/** Names that score a single class (the task's `positiveClass`). */
export const PER_CLASS_METRICS: ReadonlySet<MetricName> = new Set(['f1', 'precision', 'recall', 'auroc']);

/** A metric value with its seeded percentile bootstrap interval. */
export interface MetricResult extends Estimate {
  metric: MetricName;
  higherIsBetter: boolean;
  /** Number of examples (texts, for language metrics) the value is computed over. */
  n: number;
  bootstrap: BootstrapSummary;
}

/**
 * Checks that a value names a metric of `HIGHER_IS_BETTER` (an own key, so `'constructor'` or `'__proto__'` never pass).
 *
 * @example
 * ```ts
 * import { isMetricName } from 'provenant/eval';
 *
 * isMetricName('macro-f1'); // true
 * isMetricName('f1-score'); // false
 * ```
 */
export function isMetricName(name: unknown): name is MetricName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(HIGHER_IS_BETTER, name);
}
