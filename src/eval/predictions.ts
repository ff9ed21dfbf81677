/**
 * Classification inputs arrive either as predicted class indices or as probability rows; metrics that need only the
 * decision (accuracy, precision/recall/F1) accept both and take the argmax of a row.
 */
import { ProvenantError } from '../core/index.js';
import { argmax, checkLabels, checkProbabilityRows, checkSameLength } from './validate.js';
import type { ProbabilityRows } from './validate.js';

/** Predicted class indices, or one probability row per example. */
export type Predictions = readonly number[] | ProbabilityRows;

/** True when the predictions are probability rows rather than class indices. */
export function isProbabilityRows(predictions: Predictions): predictions is ProbabilityRows {
  return predictions.length > 0 && typeof predictions[0] === 'object' && predictions[0] !== null;
}

/** Validates labels against predictions and returns both as class indices with the number of classes K. */
export function resolvePredictions(
  labels: readonly number[],
  predictions: Predictions,
  numClasses?: number,
): { labels: Int32Array; predicted: Int32Array; numClasses: number } {
  checkSameLength(labels, predictions, 'labels', 'predictions');
  if (numClasses !== undefined && !(Number.isInteger(numClasses) && numClasses >= 1)) {
    throw new ProvenantError('EVAL_INPUT_INVALID', 'numClasses must be an integer ≥ 1.', { data: { numClasses } });
  }
  let predicted: Int32Array;
  let k: number;
  if (isProbabilityRows(predictions)) {
    k = checkProbabilityRows(predictions, 'predictions', { width: numClasses });
    predicted = Int32Array.from(predictions, (row) => argmax(row));
  } else {
    k = checkLabels(predictions as readonly number[], 'predictions', numClasses);
    predicted = Int32Array.from(predictions as readonly number[]);
  }
  const kLabels = checkLabels(labels, 'labels', numClasses ?? (isProbabilityRows(predictions) ? k : undefined));
  return { labels: Int32Array.from(labels), predicted, numClasses: numClasses ?? Math.max(k, kLabels) };
}
