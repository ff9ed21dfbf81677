import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import {
  accuracy,
  auroc,
  expectedCalibrationError,
  logLoss,
  precisionRecallF1,
} from '../../src/eval/index.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return isProvenantError(e) ? e.code : `other: ${(e as Error).message}`;
  }
  return 'none';
}

describe('invalid inputs give typed errors', () => {
  it('length mismatches → EVAL_LENGTH_MISMATCH', () => {
    expect(codeOf(() => accuracy([0, 1], [0]))).toBe('EVAL_LENGTH_MISMATCH');
    expect(codeOf(() => precisionRecallF1([0, 1, 1], [0, 1]))).toBe('EVAL_LENGTH_MISMATCH');
    expect(codeOf(() => logLoss([0], [[0.5, 0.5], [0.5, 0.5]]))).toBe('EVAL_LENGTH_MISMATCH');
    expect(codeOf(() => auroc([0, 1], [0.3]))).toBe('EVAL_LENGTH_MISMATCH');
    expect(codeOf(() => expectedCalibrationError([0, 1, 0], [[1, 0]]))).toBe('EVAL_LENGTH_MISMATCH');
  });

  it('probabilities that do not sum to 1, are negative, NaN or ragged → EVAL_PROBABILITIES_INVALID', () => {
    expect(codeOf(() => logLoss([0], [[0.5, 0.6]]))).toBe('EVAL_PROBABILITIES_INVALID');
    expect(codeOf(() => logLoss([0], [[1.5, -0.5]]))).toBe('EVAL_PROBABILITIES_INVALID');
    expect(codeOf(() => logLoss([0], [[NaN, 1]]))).toBe('EVAL_PROBABILITIES_INVALID');
    expect(codeOf(() => accuracy([0, 1], [[0.5, 0.5], [0.2, 0.3, 0.5]]))).toBe('EVAL_PROBABILITIES_INVALID');
    expect(codeOf(() => expectedCalibrationError([0], [[2.0, -1.0]]))).toBe('EVAL_PROBABILITIES_INVALID');
    expect(codeOf(() => auroc([0, 1], [[0.5, 0.5], [0.4, 0.4]]))).toBe('EVAL_PROBABILITIES_INVALID');
    // Logits instead of probabilities.
    expect(codeOf(() => logLoss([1], [[-2.3, 4.1]]))).toBe('EVAL_PROBABILITIES_INVALID');
    // Float32 softmax rounding (Σ = 1 ± 1e-7) is accepted.
    expect(codeOf(() => logLoss([1], [Float32Array.from([0.1, 0.2, 0.7])]))).toBe('none');
  });

  it('NaN, fractional, negative or out-of-range labels and scores → EVAL_INPUT_INVALID', () => {
    expect(codeOf(() => accuracy([0, NaN], [0, 1]))).toBe('EVAL_INPUT_INVALID');
    expect(codeOf(() => accuracy([0, 1.5], [0, 1]))).toBe('EVAL_INPUT_INVALID');
    expect(codeOf(() => accuracy([0, -1], [0, 1]))).toBe('EVAL_INPUT_INVALID');
    expect(codeOf(() => accuracy([0, 1], [0, NaN]))).toBe('EVAL_INPUT_INVALID');
    expect(codeOf(() => accuracy([], []))).toBe('EVAL_INPUT_INVALID');
    expect(codeOf(() => logLoss([2], [[0.5, 0.5]]))).toBe('EVAL_INPUT_INVALID');
    expect(codeOf(() => auroc([0, 1], [0.2, NaN]))).toBe('EVAL_INPUT_INVALID');
    expect(codeOf(() => auroc([1, 1], [0.2, 0.4]))).toBe('EVAL_INPUT_INVALID');
    expect(codeOf(() => auroc([0, 1], [[0.5, 0.5], [0.5, 0.5]], { positiveClass: 2 }))).toBe('EVAL_INPUT_INVALID');
    expect(codeOf(() => expectedCalibrationError([0], [[1, 0]], { bins: 0 }))).toBe('EVAL_INPUT_INVALID');
    expect(codeOf(() => precisionRecallF1([0, 3], [0, 1], { numClasses: 2 }))).toBe('EVAL_INPUT_INVALID');
  });

  it('results are plain JSON (no NaN, no typed arrays)', () => {
    const labels = [0, 0, 1, 1, 2, 2, 1, 0];
    const probs = [[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.3, 0.4, 0.3], [0.5, 0.4, 0.1], [0.4, 0.5, 0.1], [0.1, 0.8, 0.1], [0.5, 0.25, 0.25]];
    for (const r of [
      accuracy(labels, probs, { resamples: 50 }),
      precisionRecallF1(labels, probs, { resamples: 50 }),
      logLoss(labels, probs, { resamples: 50 }),
      expectedCalibrationError(labels, probs, { resamples: 50 }),
    ]) {
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    }
  });
});
