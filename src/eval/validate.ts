/**
 * Input checks shared by the evaluation room. Every metric refuses bad input with a typed error rather than returning
 * a silently wrong number: NaN anywhere, labels that are not class indices, probability rows that do not sum to 1,
 * and arrays whose lengths disagree.
 */
import { ProvenantError, describeValue } from '../core/index.js';

/** Rows of class (or next-token) probabilities: one row per example, each row summing to 1. */
export type ProbabilityRows = ReadonlyArray<ArrayLike<number>>;

/** Default tolerance on |Σ row − 1|. Loose enough for float32 softmax outputs over ~10^4 classes, tight enough to catch logits. */
export const DEFAULT_SUM_TOLERANCE = 1e-4;

/** Throws `EVAL_LENGTH_MISMATCH` unless two collections have the same length. */
export function checkSameLength(a: { length: number }, b: { length: number }, nameA: string, nameB: string): void {
  if (a.length !== b.length) {
    throw new ProvenantError('EVAL_LENGTH_MISMATCH', `${nameA} and ${nameB} must have the same length.`, {
      metaMessages: [`${nameA}.length: ${a.length}`, `${nameB}.length: ${b.length}`],
      data: { [nameA]: a.length, [nameB]: b.length },
    });
  }
}

/** Throws `EVAL_INPUT_INVALID` unless `values` is non-empty (when asked) and every entry is finite (and ≥ 0 when asked). */
export function checkFiniteValues(
  values: ArrayLike<number>,
  name: string,
  options: { nonNegative?: boolean; allowEmpty?: boolean } = {},
): void {
  if (!options.allowEmpty && values.length === 0) {
    throw new ProvenantError('EVAL_INPUT_INVALID', `${name} must not be empty.`, { data: { argument: name } });
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (typeof v !== 'number' || !Number.isFinite(v) || (options.nonNegative && v < 0)) {
      throw new ProvenantError(
        'EVAL_INPUT_INVALID',
        `${name}[${i}] must be a finite${options.nonNegative ? ', non-negative' : ''} number.`,
        { metaMessages: [`${name}[${i}]: ${describeValue(v)}`], data: { argument: name, index: i } },
      );
    }
  }
}

/**
 * Checks class labels: a non-empty array of integers in [0, numClasses) (or ≥ 0 when numClasses is unknown).
 * Returns the number of classes implied (numClasses, or max label + 1).
 */
export function checkLabels(labels: ArrayLike<number>, name: string, numClasses?: number): number {
  if (labels.length === 0) {
    throw new ProvenantError('EVAL_INPUT_INVALID', `${name} must not be empty.`, { data: { argument: name } });
  }
  let max = -1;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || (numClasses !== undefined && y >= numClasses)) {
      throw new ProvenantError(
        'EVAL_INPUT_INVALID',
        `${name}[${i}] must be a class index${numClasses === undefined ? ' (integer ≥ 0)' : ` in [0, ${numClasses})`}.`,
        { metaMessages: [`${name}[${i}]: ${describeValue(y)}`], data: { argument: name, index: i } },
      );
    }
    if (y > max) max = y;
  }
  return numClasses ?? max + 1;
}

/**
 * Checks probability rows: non-empty, all rows the same width K ≥ 1, entries finite in [0, 1], each row summing to 1
 * within `tolerance`. Returns K.
 */
export function checkProbabilityRows(
  rows: ProbabilityRows,
  name: string,
  options: { tolerance?: number; width?: number } = {},
): number {
  const tolerance = options.tolerance ?? DEFAULT_SUM_TOLERANCE;
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new ProvenantError('EVAL_PROBABILITIES_INVALID', `${name} must be a non-empty array of probability rows.`, {
      metaMessages: [`${name}: ${describeValue(rows)}`],
    });
  }
  const width = options.width ?? rows[0]?.length;
  if (!width || width < 1) {
    throw new ProvenantError('EVAL_PROBABILITIES_INVALID', `${name}[0] must be a non-empty row of probabilities.`, {
      metaMessages: [`${name}[0]: ${describeValue(rows[0])}`],
    });
  }
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!row || row.length !== width) {
      throw new ProvenantError('EVAL_PROBABILITIES_INVALID', `${name}[${i}] must have ${width} entries.`, {
        metaMessages: [`${name}[${i}]: ${describeValue(row)}`],
        data: { argument: name, index: i, expected: width, actual: row?.length },
      });
    }
    let sum = 0;
    for (let k = 0; k < width; k++) {
      const p = row[k]!;
      if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
        throw new ProvenantError('EVAL_PROBABILITIES_INVALID', `${name}[${i}][${k}] must be a probability in [0, 1].`, {
          metaMessages: [`${name}[${i}][${k}]: ${describeValue(p)}`],
          details: 'Pass probabilities (e.g. softmax outputs), not logits or scores.',
          data: { argument: name, index: i, class: k },
        });
      }
      sum += p;
    }
    if (Math.abs(sum - 1) > tolerance) {
      throw new ProvenantError('EVAL_PROBABILITIES_INVALID', `${name}[${i}] must sum to 1 (it sums to ${sum}).`, {
        metaMessages: [`${name}[${i}]: ${describeValue(Array.from(row))}`, `tolerance: ${tolerance}`],
        details: 'Pass probabilities (e.g. softmax outputs), not logits or scores.',
        data: { argument: name, index: i, sum },
      });
    }
  }
  return width;
}

/** Index of the largest entry; ties go to the lowest index (as numpy's argmax). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  return best;
}

/** Copies a row into float64 and divides by its sum, so float32 rounding (Σ ≈ 1 ± 1e-7) cannot break KL ≥ 0. */
export function normalizedRow(row: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(row as ArrayLike<number>);
  let sum = 0;
  for (let k = 0; k < out.length; k++) sum += out[k]!;
  for (let k = 0; k < out.length; k++) out[k] = out[k]! / sum;
  return out;
}
