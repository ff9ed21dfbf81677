import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auroc, flipLabels, mislabelAuc } from '../../../src/attribution/quality/mislabel-auc.js';
import { isProvenantError } from '../../../src/core/index.js';

/** P(s+ > s−) + ½ P(tie) by looping over every (positive, negative) pair. */
function bruteForceAuc(scores: number[], positive: boolean[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!positive[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (positive[j]) continue;
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

describe('auroc', () => {
  it('matches a hand count', () => {
    // positives 0.9, 0.3; negatives 0.1, 0.8 → pairs won: (0.9>0.1, 0.9>0.8, 0.3>0.1) = 3 of 4.
    expect(auroc([0.9, 0.1, 0.8, 0.3], [true, false, false, true])).toBe(0.75);
    expect(auroc([1, 1], [true, false])).toBe(0.5);
  });
  it('equals the brute-force pair count, ties included (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()), { minLength: 2, maxLength: 40 }).filter((a) => a.some((p) => p[1]) && a.some((p) => !p[1])),
        (pairs) => {
          const scores = pairs.map((p) => p[0]);
          const positive = pairs.map((p) => p[1]);
          expect(auroc(scores, positive)).toBeCloseTo(bruteForceAuc(scores, positive), 12);
        },
      ),
      { numRuns: 200 },
    );
  });
  it('reverses to 1 − AUC when the scores are negated (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: -5, max: 5, noNaN: true }), fc.boolean()), { minLength: 2, maxLength: 50 }).filter((a) => a.some((p) => p[1]) && a.some((p) => !p[1])), (pairs) => {
        const scores = pairs.map((p) => p[0]);
        const positive = pairs.map((p) => p[1]);
        expect(auroc(scores, positive) + auroc(scores.map((v) => -v), positive)).toBeCloseTo(1, 12);
      }),
      { numRuns: 100 },
    );
  });
  it('needs both classes', () => {
    expect(() => auroc([1, 2], [true, true])).toThrow(/at least one flagged/);
  });
});

describe('mislabelAuc', () => {
  it('accepts flagged indices or a mask, and reports the baseline beside', () => {
    const scores = [0.2, 0.9, 0.1, 0.7, 0.3];
    const loss = [0.5, 0.4, 0.1, 0.2, 0.3];
    const byIndex = mislabelAuc(scores, Uint32Array.from([1, 3]), { baseline: loss });
    const byMask = mislabelAuc(scores, [false, true, false, true, false], { baseline: loss });
    expect(byIndex).toEqual(byMask);
    expect(byIndex.auc).toBe(1);
    expect(byIndex.baselineAuc).toBeCloseTo(bruteForceAuc(loss, [false, true, false, true, false]), 14);
    expect(byIndex.flagged).toBe(2);
    expect(byIndex.clean).toBe(3);
  });
  it('rejects an out-of-range index and a baseline of the wrong length', () => {
    expect(() => mislabelAuc([1, 2], [5])).toThrow(/not a row index/);
    try {
      mislabelAuc([1, 2, 3], [0], { baseline: [1] });
      expect.unreachable();
    } catch (e) {
      expect(isProvenantError(e, 'ATTRIBUTION_SHAPE_MISMATCH')).toBe(true);
    }
  });
});

describe('flipLabels', () => {
  it('flips exactly ⌊fraction·n⌋ labels, each to a different valid class, deterministically', () => {
    const labels = Array.from({ length: 200 }, (_, i) => i % 10);
    const a = flipLabels(labels, { fraction: 0.1, numClasses: 10, seed: 3 });
    const b = flipLabels(labels, { fraction: 0.1, numClasses: 10, seed: 3 });
    expect(a).toEqual(b);
    expect(a.flipped.length).toBe(20);
    const flippedSet = new Set(a.flipped);
    for (let i = 0; i < labels.length; i++) {
      if (flippedSet.has(i)) {
        expect(a.labels[i]).not.toBe(labels[i]);
        expect(a.labels[i]).toBeGreaterThanOrEqual(0);
        expect(a.labels[i]).toBeLessThan(10);
      } else expect(a.labels[i]).toBe(labels[i]);
    }
    expect(flipLabels(labels, { fraction: 0.1, numClasses: 10, seed: 4 }).flipped).not.toEqual(a.flipped);
  });
});
