import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng, isProvenantError } from '../../src/core/index.js';
import {
  accuracy,
  bootstrapEstimate,
  percentileInterval,
  quantileSorted,
  runBootstrap,
} from '../../src/eval/index.js';

/** numpy.quantile(x, q) (linear, type 7) written from its definition, for comparison. */
function numpyQuantile(x: number[], q: number): number {
  const s = [...x].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! * (1 - (pos - lo)) + s[hi]! * (pos - lo);
}

describe('bootstrap', () => {
  it('quantiles match numpy type 7 on hand values', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 12);
    expect(quantileSorted([5], 0.3)).toBe(5);
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 50 }), fc.double({ min: 0, max: 1, noNaN: true }), (x, q) => {
        const s = Float64Array.from(x).sort();
        expect(quantileSorted(s, q)).toBeCloseTo(numpyQuantile(x, q), 6);
      }),
      { numRuns: 100 },
    );
    const ci = percentileInterval([3, 1, 2, 5, 4], 0.5);
    expect(ci).toEqual({ lower: 2, upper: 4, level: 0.5 });
  });

  it('the weighted replicates equal the statistic on explicitly resampled data (same draws)', () => {
    const x = [0.3, 1.7, -2, 4, 0.5, 9, -1.25];
    const n = x.length;
    const mean = (w: Float64Array) => x.reduce((s, v, i) => s + w[i]! * v, 0) / w.reduce((a, b) => a + b, 0);
    const { point, replicates } = runBootstrap(n, 1, (w, out) => { out[0] = mean(w); }, { resamples: 50, seed: 'abc' });
    expect(point[0]).toBeCloseTo(x.reduce((a, b) => a + b, 0) / n, 14);
    // Independent resampling loop: draw n indices with the same generator, average the drawn values directly.
    const rng = createRng('abc');
    for (let b = 0; b < 50; b++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += x[rng.nextInt(n)]!;
      expect(replicates[b]).toBeCloseTo(s / n, 12);
    }
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const labels = [0, 1, 1, 0, 1, 0, 0, 1, 1, 1];
    const pred = [0, 1, 0, 0, 1, 1, 0, 1, 1, 0];
    const a = accuracy(labels, pred, { seed: 5 });
    const b = accuracy(labels, pred, { seed: 5 });
    const c = accuracy(labels, pred, { seed: 6 });
    expect(a).toEqual(b);
    expect(a.value).toBe(0.7);
    expect(a.bootstrap).toEqual({ method: 'percentile', resamples: 1000, alpha: 0.05, seed: 5, skipped: 0 });
    expect(c.value).toBe(a.value);
    const x = [0.31, 2.2, -1.4, 0.05, 3.3, 1.1, -0.7, 0.9];
    const mean = (w: Float64Array) => x.reduce((s, v, i) => s + w[i]! * v, 0) / x.length;
    expect(bootstrapEstimate(8, mean, { seed: 1 }).ci).not.toEqual(bootstrapEstimate(8, mean, { seed: 2 }).ci);
  });

  it('95 % intervals cover the true accuracy at about the nominal rate (simulated, seeded)', () => {
    // 300 simulated test sets of n = 150 examples from a classifier with true accuracy 0.8.
    const rng = createRng(2024);
    const trueAccuracy = 0.8;
    let covered = 0;
    const trials = 300;
    for (let t = 0; t < trials; t++) {
      const labels = Array.from({ length: 150 }, () => rng.nextInt(2));
      const preds = labels.map((y) => (rng.nextDouble() < trueAccuracy ? y : 1 - y));
      const r = accuracy(labels, preds, { resamples: 400, seed: t });
      if (r.ci.lower <= trueAccuracy && trueAccuracy <= r.ci.upper) covered++;
    }
    const rate = covered / trials;
    // Binomial sd at 0.95 over 300 trials ≈ 0.0126; the percentile interval runs slightly short at n = 150.
    expect(rate).toBeGreaterThan(0.89);
    expect(rate).toBeLessThan(0.99);
  });

  it('90 % intervals of a mean of normals cover at about 90 %', () => {
    const rng = createRng('normal-coverage');
    let covered = 0;
    const trials = 300;
    for (let t = 0; t < trials; t++) {
      const x = Array.from({ length: 80 }, () => 2 + rng.nextNormal());
      const r = bootstrapEstimate(x.length, (w) => x.reduce((s, v, i) => s + w[i]! * v, 0) / x.length, {
        resamples: 400,
        alpha: 0.1,
        seed: t,
      });
      if (r.ci.lower <= 2 && 2 <= r.ci.upper) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.83);
    expect(covered / trials).toBeLessThan(0.96);
  });

  it('rejects bad settings and statistics undefined on most resamples', () => {
    const expectCode = (f: () => unknown, code: string) => {
      try {
        f();
      } catch (e) {
        expect(isProvenantError(e)).toBe(true);
        expect((e as { code: string }).code).toBe(code);
        return;
      }
      throw new Error('expected a throw');
    };
    expectCode(() => accuracy([0, 1], [0, 1], { alpha: 0 }), 'INVALID_ARGUMENT');
    expectCode(() => accuracy([0, 1], [0, 1], { resamples: 0 }), 'INVALID_ARGUMENT');
    expectCode(() => accuracy([0, 1], [0, 1], { resamples: 1.5 }), 'INVALID_ARGUMENT');
    // A statistic defined only when example 0 is drawn twice or more is undefined on most resamples.
    expectCode(() => bootstrapEstimate(20, (w) => (w[0]! >= 2 || w.every((v) => v === 1) ? 1 : NaN)), 'EVAL_INPUT_INVALID');
  });
});
