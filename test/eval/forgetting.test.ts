import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { evaluateStages, forgettingMeasures, formatForgettingMeasures } from '../../src/eval/index.js';
import type { EvalModel, EvalTask } from '../../src/eval/index.js';

describe('forgetting measures', () => {
  it('hand-computed ACC, BWT, FWT, Chaudhry and first-minus-last on a constructed matrix', () => {
    // Task 0 peaks after stage 1 (0.9), above its value when first learned (0.6): the two forgettings differ.
    const R = [
      [0.6, 0.1, 0.2],
      [0.9, 0.8, 0.3],
      [0.5, 0.6, 0.95],
    ];
    const m = forgettingMeasures(R, { baseline: [0.1, 0.15, 0.25] });
    expect(m.lopezPazRanzato2017.acc).toBeCloseTo((0.5 + 0.6 + 0.95) / 3, 15);
    expect(m.lopezPazRanzato2017.bwt).toBeCloseTo((0.5 - 0.6 + (0.6 - 0.8)) / 2, 15);
    expect(m.lopezPazRanzato2017.fwt).toBeCloseTo((0.1 - 0.15 + (0.3 - 0.25)) / 2, 15);
    expect(m.chaudhry2018.perTask[0]).toBeCloseTo(0.9 - 0.5, 15);
    expect(m.chaudhry2018.perTask[1]).toBeCloseTo(0.8 - 0.6, 15);
    expect(m.chaudhry2018.forgetting).toBeCloseTo(0.3, 15);
    expect(m.firstMinusLast.perTask[0]).toBeCloseTo(0.1, 15);
    expect(m.firstMinusLast.forgetting).toBeCloseTo(0.15, 15);
    expect(m.final).toEqual([0.5, 0.6, 0.95]);
  });

  it('lower-is-better metrics keep the sign meanings (negative BWT, positive forgetting = got worse)', () => {
    const P = [
      [10, 50],
      [14, 12],
    ];
    const m = forgettingMeasures(P, { baseline: [40, 60], higherIsBetter: false });
    expect(m.lopezPazRanzato2017.acc).toBe(13);
    expect(m.lopezPazRanzato2017.bwt).toBe(-4);
    expect(m.lopezPazRanzato2017.fwt).toBe(10); // stage 0 lowered task 1's perplexity from 60 to 50
    expect(m.chaudhry2018.forgetting).toBe(4);
    expect(m.firstMinusLast.forgetting).toBe(4);
    // Mixed directions per task.
    const mixed = forgettingMeasures([[0.8, 30], [0.7, 20]], { higherIsBetter: [true, false] });
    expect(mixed.chaudhry2018.forgetting).toBeCloseTo(0.1, 15);
  });

  it('T = 1 has no backward measures; no baseline, no FWT', () => {
    const m = forgettingMeasures([[0.7]]);
    expect(m.lopezPazRanzato2017).toEqual({ acc: 0.7, bwt: null, fwt: null });
    expect(m.chaudhry2018.forgetting).toBeNull();
    expect(m.firstMinusLast.forgetting).toBeNull();
    expect(forgettingMeasures([[1, 0], [0, 1]]).lopezPazRanzato2017.fwt).toBeNull();
  });

  it('agrees with the 1-indexed textbook formulas on random matrices', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((T) =>
          fc.tuple(
            fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: T, maxLength: T }), { minLength: T, maxLength: T }),
            fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: T, maxLength: T }),
          ),
        ),
        ([R, b]) => {
          const T = R.length;
          const r = (i: number, j: number) => R[i - 1]![j - 1]!; // 1-indexed as in the papers
          const m = forgettingMeasures(R, { baseline: b });
          let acc = 0;
          for (let i = 1; i <= T; i++) acc += r(T, i) / T;
          expect(m.lopezPazRanzato2017.acc).toBeCloseTo(acc, 12);
          if (T === 1) return;
          let bwt = 0;
          let fwt = 0;
          let f = 0;
          for (let i = 1; i <= T - 1; i++) bwt += (r(T, i) - r(i, i)) / (T - 1);
          for (let i = 2; i <= T; i++) fwt += (r(i - 1, i) - b[i - 1]!) / (T - 1);
          for (let j = 1; j <= T - 1; j++) {
            let best = -Infinity;
            for (let l = 1; l <= T - 1; l++) best = Math.max(best, r(l, j));
            f += (best - r(T, j)) / (T - 1);
          }
          expect(m.lopezPazRanzato2017.bwt).toBeCloseTo(bwt, 12);
          expect(m.lopezPazRanzato2017.fwt).toBeCloseTo(fwt, 12);
          expect(m.chaudhry2018.forgetting).toBeCloseTo(f, 12);
          expect(m.chaudhry2018.forgetting!).toBeGreaterThanOrEqual(m.firstMinusLast.forgetting! - 1e-12);
          expect(m.firstMinusLast.forgetting).toBeCloseTo(-m.lopezPazRanzato2017.bwt!, 12);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rejects non-square or non-finite matrices', () => {
    for (const bad of [[], [[1, 2]], [[1, 2], [3]], [[1, NaN], [0, 1]]]) {
      expect(() => forgettingMeasures(bad as number[][])).toThrow();
      try {
        forgettingMeasures(bad as number[][]);
      } catch (e) {
        expect(isProvenantError(e, 'EVAL_INPUT_INVALID')).toBe(true);
      }
    }
    try {
      forgettingMeasures([[1, 0], [0, 1]], { baseline: [1] });
      throw new Error('expected a throw');
    } catch (e) {
      expect(isProvenantError(e, 'EVAL_LENGTH_MISMATCH')).toBe(true);
    }
  });

  it('evaluateStages builds R from stage models, and the measures follow', async () => {
    // Task j has 10 examples, all of class 1; stage i answers the first round(10·R[i][j]) of them correctly.
    const R = [
      [0.9, 0.2],
      [0.6, 0.8],
    ];
    const tasks: EvalTask<[number, number]>[] = [0, 1].map((j) => ({
      name: `task${j}`,
      kind: 'domain' as const,
      metric: 'accuracy' as const,
      dataset: { inputs: Array.from({ length: 10 }, (_, k) => [j, k] as [number, number]), labels: new Array(10).fill(1) },
    }));
    const stage = (i: number | 'base'): EvalModel<[number, number]> => ({
      predictProba: (xs) => xs.map(([j, k]) => (k < (i === 'base' ? 1 : Math.round(10 * R[i]![j]!)) ? [0.2, 0.8] : [0.7, 0.3])),
    });
    const A = await evaluateStages([stage(0), stage(1)], tasks, { baseline: stage('base'), resamples: 50 });
    expect(A.matrix).toEqual(R);
    expect(A.baseline).toEqual([0.1, 0.1]);
    expect(A.tasks).toEqual(['task0', 'task1']);
    expect(A.intervals[0]![0]!.lower).toBeLessThanOrEqual(0.9);
    const m = forgettingMeasures(A.matrix, { baseline: A.baseline, higherIsBetter: A.higherIsBetter });
    expect(m.lopezPazRanzato2017.bwt).toBeCloseTo(-0.3, 14);
    expect(m.lopezPazRanzato2017.fwt).toBeCloseTo(0.1, 14);
    const text = formatForgettingMeasures(m);
    expect(text).toContain('Chaudhry et al. 2018');
    expect(text).toContain('-0.3');
    await expect(evaluateStages([stage(0)], tasks)).rejects.toMatchObject({ code: 'EVAL_LENGTH_MISMATCH' });
  });
});
