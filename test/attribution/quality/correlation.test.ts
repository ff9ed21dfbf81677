import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { averageRanks, pearson, spearman } from '../../../src/attribution/quality/correlation.js';
import { isProvenantError } from '../../../src/core/index.js';

describe('averageRanks', () => {
  it('gives tied values the mean of the ranks they span', () => {
    expect(Array.from(averageRanks([10, 20, 20, 30]))).toEqual([1, 2.5, 2.5, 4]);
    expect(Array.from(averageRanks([3, 1, 2]))).toEqual([3, 1, 2]);
    expect(Array.from(averageRanks([5, 5, 5]))).toEqual([2, 2, 2]);
  });
});

describe('pearson and spearman against hand-computed values', () => {
  it('pearson([1,2,3],[2,4,7]) = 5/√(2·114/9)', () => {
    expect(pearson([1, 2, 3], [2, 4, 7])).toBeCloseTo(5 / Math.sqrt((2 * 114) / 9), 14);
  });
  it('spearman without ties is 1 − 6Σd²/(n(n²−1))', () => {
    expect(spearman([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 14);
  });
  it('spearman with ties uses average ranks (scipy value 4.5/√22.5)', () => {
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(22.5), 14);
  });
  it('is NaN for a constant series, and rejects unequal lengths and non-finite values', () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => pearson([1, 2], [1])).toThrow();
    try {
      spearman([1, Number.NaN], [1, 2]);
      expect.unreachable();
    } catch (e) {
      expect(isProvenantError(e, 'ATTRIBUTION_INPUT_INVALID')).toBe(true);
    }
  });
  it('spearman matches the d² formula on distinct values and is invariant to monotone maps (fast-check)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: -1000, max: 1000 }), { minLength: 3, maxLength: 30 }), fc.integer({ min: 0, max: 1e6 }), (xs, seed) => {
        const n = xs.length;
        // A seeded permutation of distinct ys, so ranks are a permutation and the textbook formula holds.
        const ys = xs.map((_, i) => ((i * 7919 + seed) % 104729) + i / 1e6);
        const rx = averageRanks(xs);
        const ry = averageRanks(ys);
        let d2 = 0;
        for (let i = 0; i < n; i++) d2 += (rx[i]! - ry[i]!) ** 2;
        const formula = 1 - (6 * d2) / (n * (n * n - 1));
        expect(spearman(xs, ys)).toBeCloseTo(formula, 10);
        expect(spearman(xs.map((x) => Math.exp(x / 500)), ys.map((y) => y * 3 - 1))).toBeCloseTo(formula, 10);
      }),
      { numRuns: 100 },
    );
  });
});
