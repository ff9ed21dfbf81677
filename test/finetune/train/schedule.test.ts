import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { learningRateFactor, validateSchedule } from '../../../src/finetune/index.js';

describe('learning-rate schedules', () => {
  it('match hand-computed values (Hugging Face formulas)', () => {
    const total = 110;
    const linear = { kind: 'linear' as const, warmupSteps: 10 };
    expect(learningRateFactor(0, total, linear)).toBe(0);
    expect(learningRateFactor(5, total, linear)).toBeCloseTo(0.5, 12);
    expect(learningRateFactor(10, total, linear)).toBeCloseTo(1, 12);
    expect(learningRateFactor(60, total, linear)).toBeCloseTo(0.5, 12);
    expect(learningRateFactor(110, total, linear)).toBe(0);
    const cosine = { kind: 'cosine' as const, warmupSteps: 10 };
    expect(learningRateFactor(60, total, cosine)).toBeCloseTo(0.5, 12);
    expect(learningRateFactor(35, total, cosine)).toBeCloseTo(0.5 * (1 + Math.SQRT1_2), 12);
    expect(learningRateFactor(110, total, cosine)).toBeCloseTo(0, 12);
    const constant = { kind: 'constant' as const, warmupSteps: 4 };
    expect([0, 1, 2, 3, 4, 100].map((s) => learningRateFactor(s, total, constant))).toEqual([0, 0.25, 0.5, 0.75, 1, 1]);
    // A floor rescales the decay to [minLrRatio, 1]: halfway through a cosine with floor 0.1 → 0.1 + 0.9·0.5.
    expect(learningRateFactor(60, total, { ...cosine, minLrRatio: 0.1 })).toBeCloseTo(0.55, 12);
    expect(learningRateFactor(110, total, { ...linear, minLrRatio: 0.1 })).toBeCloseTo(0.1, 12);
  });

  it('after warm-up, linear and cosine decay monotonically within [floor, 1]', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('linear' as const, 'cosine' as const),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 21, max: 500 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (kind, warmupSteps, total, minLrRatio) => {
          let previous = Infinity;
          for (let s = warmupSteps; s <= total; s++) {
            const f = learningRateFactor(s, total, { kind, warmupSteps, minLrRatio });
            if (f > previous + 1e-12 || f < minLrRatio - 1e-12 || f > 1 + 1e-12) return false;
            previous = f;
          }
          return true;
        },
      ),
    );
  });

  it('rejects bad schedules', () => {
    expect(() => validateSchedule({ kind: 'step' as never })).toThrow(/TRAINING_CONFIG_INVALID/);
    expect(() => validateSchedule({ kind: 'linear', warmupSteps: -1 })).toThrow(/warmupSteps/);
    expect(() => validateSchedule({ kind: 'cosine', minLrRatio: 2 })).toThrow(/minLrRatio/);
  });
});
