import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { evaluateGates, formatGateReport } from '../../src/eval/index.js';
import type { ComparisonTable, Gate, TaskComparison } from '../../src/eval/index.js';

const est = (value: number, lower: number, upper: number) => ({ value, ci: { lower, upper, level: 0.95 } });
const boot = { method: 'percentile' as const, resamples: 1000, alpha: 0.05, seed: 0, skipped: 0 };

const spam: TaskComparison = {
  task: 'spam',
  kind: 'domain',
  metric: 'macro-f1',
  higherIsBetter: true,
  n: 400,
  base: est(0.7, 0.66, 0.74),
  tuned: est(0.93, 0.9, 0.95),
  delta: est(0.23, 0.19, 0.27),
  relativeDelta: est(0.2 / 0.7, 0.25, 0.4),
  pValue: 0.002,
  verdict: 'improved',
  drift: {
    rows: 400,
    units: 400,
    unit: 'nats',
    epsilon: 1e-10,
    kl: est(0.12, 0.1, 0.15),
    js: est(0.03, 0.02, 0.04),
    maxKl: 1.2,
    bootstrap: boot,
  },
  bootstrap: boot,
};
const english: TaskComparison = {
  task: 'english',
  kind: 'retained',
  metric: 'perplexity',
  higherIsBetter: false,
  n: 50,
  base: est(8, 7.5, 8.5),
  tuned: est(8.3, 7.8, 8.9),
  delta: est(0.3, 0.1, 0.5),
  relativeDelta: est(0.0375, 0.0125, 0.0625),
  pValue: 0.004,
  verdict: 'regressed',
  drift: null,
  bootstrap: boot,
};
const table: ComparisonTable = {
  base: 'base',
  tuned: 'tuned',
  rows: [spam, english],
  settings: { resamples: 1000, alpha: 0.05, seed: 0, batchSize: 64, driftEpsilon: 1e-10, verdictRule: 'x' },
};

describe('gates', () => {
  it('threshold gates on point estimates and on whole intervals, with reasons', () => {
    const report = evaluateGates(table, [
      { task: 'spam', quantity: 'tuned', atLeast: 0.9 },
      { task: 'english', quantity: 'relativeDelta', atMost: 0.05 },
      { task: 'english', quantity: 'relativeDelta', atMost: 0.05, on: 'interval', name: 'ppl +5 % (conservative)' },
      { task: 'spam', quantity: 'kl', atMost: 0.2 },
      { task: 'spam', quantity: 'js', atLeast: 0.035, on: 'interval' },
    ]);
    expect(report.results.map((r) => r.passed)).toEqual([true, true, false, true, false]);
    expect(report.passed).toBe(false);
    expect(report.failures).toHaveLength(2);
    expect(report.results[2]!.name).toBe('ppl +5 % (conservative)');
    expect(report.results[2]!.reason).toContain('upper bound 0.0625 > 0.05');
    expect(report.results[4]!.reason).toContain('lower bound 0.02 < 0.035');
    expect(report.results[1]!.reason).toContain('3.75 %');
    expect(report.results[0]!.observed).toBe(0.93);
    expect(report.results[0]!.rule).toBe('spam macro-f1 tuned ≥ 0.9');
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    const text = formatGateReport(report);
    expect(text).toContain('[FAIL] ppl +5 % (conservative)');
    expect(text).toContain('2 of 5 gates failed.');
  });

  it('verdict gates', () => {
    const r = evaluateGates(table, [
      { task: 'spam', verdict: 'improved' },
      { task: 'english', verdict: 'not-regressed' },
      { task: 'spam', verdict: 'not-regressed' },
    ]);
    expect(r.results.map((x) => x.passed)).toEqual([true, false, true]);
    expect(r.results[1]!.reason).toContain('regressed');
    expect(evaluateGates(table, []).passed).toBe(true);
  });

  it('invalid gates throw EVAL_GATE_INVALID', () => {
    const bad: Gate[] = [
      { task: 'nope', quantity: 'tuned', atLeast: 1 },
      { task: 'spam', quantity: 'tuned' },
      { task: 'spam', quantity: 'accuracy' as never, atLeast: 1 },
      { task: 'spam', quantity: 'tuned', atLeast: NaN },
      { task: 'spam', quantity: 'tuned', atLeast: 2, atMost: 1 },
      { task: 'english', quantity: 'kl', atMost: 1 },
      { task: 'spam', verdict: 'better' as never },
      { task: 'spam', quantity: 'tuned', atLeast: 0, on: 'ci' as never },
    ];
    for (const gate of bad) {
      try {
        evaluateGates(table, [gate]);
        throw new Error(`expected a throw for ${JSON.stringify(gate)}`);
      } catch (e) {
        expect(isProvenantError(e, 'EVAL_GATE_INVALID')).toBe(true);
      }
    }
  });
});
