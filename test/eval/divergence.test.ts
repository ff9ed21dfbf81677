import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProvenantError } from '../../src/core/index.js';
import { distributionDrift, jensenShannonDivergence, klDivergence } from '../../src/eval/index.js';

const weights = (k: number, min: number) => fc.array(fc.integer({ min, max: 1000 }), { minLength: k, maxLength: k }).filter((w) => w.some((v) => v > 0));
const normalize = (w: number[]) => {
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
};
const naiveKl = (p: number[], q: number[]) => p.reduce((s, pk, k) => (pk > 0 ? s + pk * Math.log(pk / q[k]!) : s), 0);

describe('KL divergence', () => {
  it('hand-computed value', () => {
    expect(klDivergence([0.5, 0.5], [0.9, 0.1], { epsilon: 0 })).toBeCloseTo(0.5 * Math.log(0.5 / 0.9) + 0.5 * Math.log(0.5 / 0.1), 14);
    expect(klDivergence([0.25, 0.75, 0], [0.5, 0.25, 0.25], { epsilon: 0 })).toBeCloseTo(0.25 * Math.log(0.5) + 0.75 * Math.log(3), 14);
  });

  it('equals Σ p ln(p/q) on strictly positive rows (ε = 0), and is within 1e-6 of it with the default ε', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }).chain((k) => fc.tuple(weights(k, 1), weights(k, 1))), ([a, b]) => {
        const p = normalize(a);
        const q = normalize(b);
        expect(klDivergence(p, q, { epsilon: 0 })).toBeCloseTo(naiveKl(p, q), 12);
        expect(Math.abs(klDivergence(p, q) - naiveKl(p, q))).toBeLessThan(1e-6);
      }),
      { numRuns: 200 },
    );
  });

  it('is ≥ 0 always, 0 when the rows are equal and > 0 when they differ (zeros included)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }).chain((k) => fc.tuple(weights(k, 0), weights(k, 0))), ([a, b]) => {
        const p = normalize(a);
        const q = normalize(b);
        const kl = klDivergence(p, q);
        expect(kl).toBeGreaterThanOrEqual(0);
        expect(Number.isFinite(kl)).toBe(true);
        expect(klDivergence(p, p)).toBe(0);
        const differ = p.some((v, k) => v !== q[k]);
        expect(kl > 0).toBe(differ);
      }),
      { numRuns: 300 },
    );
  });

  it('resolves differences far below float64 rounding of Σ p ln(p/q)', () => {
    const d = 1e-12;
    const p = [0.5, 0.5];
    const q = [0.5 + d, 0.5 - d];
    // KL = Σ (p − q)² / (2q) + O(d³) ≈ 2e-24 (p − q is exact in float64, Sterbenz); the naive sum is noise ~1e-17.
    const kl = klDivergence(p, q, { epsilon: 0 });
    const quadratic = p.reduce((s, pk, k) => s + (pk - q[k]!) ** 2 / (2 * q[k]!), 0);
    expect(kl).toBeGreaterThan(0);
    expect(kl / quadratic).toBeCloseTo(1, 9);
  });

  it('a support mismatch is finite with ε > 0 and a typed error with ε = 0', () => {
    const kl = klDivergence([0.5, 0.5], [1, 0]);
    expect(Number.isFinite(kl)).toBe(true);
    expect(kl).toBeLessThanOrEqual(Math.log(2 / 1e-10));
    expect(kl).toBeGreaterThan(5);
    try {
      klDivergence([0.5, 0.5], [1, 0], { epsilon: 0 });
      throw new Error('expected a throw');
    } catch (e) {
      expect(isProvenantError(e, 'EVAL_PROBABILITIES_INVALID')).toBe(true);
    }
  });
});

describe('Jensen–Shannon divergence', () => {
  it('hand values, symmetry, bounds and the definition ½KL(p‖m) + ½KL(q‖m)', () => {
    expect(jensenShannonDivergence([1, 0], [0, 1])).toBeCloseTo(Math.LN2, 15);
    expect(jensenShannonDivergence([0.3, 0.7], [0.3, 0.7])).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }).chain((k) => fc.tuple(weights(k, 0), weights(k, 0))), ([a, b]) => {
        const p = normalize(a);
        const q = normalize(b);
        const js = jensenShannonDivergence(p, q);
        expect(js).toBeCloseTo(jensenShannonDivergence(q, p), 14);
        expect(js).toBeGreaterThanOrEqual(0);
        expect(js).toBeLessThanOrEqual(Math.LN2);
        const m = p.map((v, k) => (v + q[k]!) / 2);
        expect(js).toBeCloseTo(0.5 * naiveKl(p, m) + 0.5 * naiveKl(q, m), 12);
      }),
      { numRuns: 200 },
    );
  });
});

describe('distributionDrift', () => {
  it('is the mean of per-row KL and JS, with intervals; groups resample whole groups', () => {
    const base = [[0.7, 0.3], [0.2, 0.8], [0.5, 0.5], [0.9, 0.1]];
    const tuned = [[0.6, 0.4], [0.2, 0.8], [0.1, 0.9], [0.8, 0.2]];
    const kls = base.map((p, i) => klDivergence(p, tuned[i]!));
    const jss = base.map((p, i) => jensenShannonDivergence(p, tuned[i]!));
    const d = distributionDrift(base, tuned, { resamples: 300, seed: 9 });
    expect(d.kl.value).toBeCloseTo(kls.reduce((a, b) => a + b, 0) / 4, 14);
    expect(d.js.value).toBeCloseTo(jss.reduce((a, b) => a + b, 0) / 4, 14);
    expect(d.maxKl).toBeCloseTo(Math.max(...kls), 14);
    expect(d.kl.ci.lower).toBeGreaterThanOrEqual(Math.min(...kls) - 1e-15);
    expect(d.kl.ci.upper).toBeLessThanOrEqual(Math.max(...kls) + 1e-15);
    const g = distributionDrift(base, tuned, { resamples: 300, seed: 9, groups: [0, 0, 1, 1] });
    expect(g.units).toBe(2);
    expect(g.kl.value).toBeCloseTo(d.kl.value, 14);
    // Two groups: every resample is {0,0}, {0,1} or {1,1}, so the interval ends are group means.
    const g0 = (kls[0]! + kls[1]!) / 2;
    const g1 = (kls[2]! + kls[3]!) / 2;
    expect(g.kl.ci.lower).toBeCloseTo(Math.min(g0, g1), 14);
    expect(g.kl.ci.upper).toBeCloseTo(Math.max(g0, g1), 14);
    expect(distributionDrift(base, base, { resamples: 50 }).kl).toEqual({ value: 0, ci: { lower: 0, upper: 0, level: 0.95 } });
  });

  it('rejects mismatched rows with typed errors', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isProvenantError(e) ? e.code : 'other';
      }
      return 'none';
    };
    expect(codeOf(() => distributionDrift([[0.5, 0.5]], [[0.5, 0.5], [1, 0]]))).toBe('EVAL_LENGTH_MISMATCH');
    expect(codeOf(() => distributionDrift([[0.5, 0.5]], [[0.2, 0.3, 0.5]]))).toBe('EVAL_PROBABILITIES_INVALID');
    expect(codeOf(() => distributionDrift([[0.5, 0.6]], [[0.5, 0.5]]))).toBe('EVAL_PROBABILITIES_INVALID');
    expect(codeOf(() => distributionDrift([[NaN, 1]], [[0.5, 0.5]]))).toBe('EVAL_PROBABILITIES_INVALID');
    expect(codeOf(() => klDivergence([0.5, 0.5], [0.5, 0.5], { epsilon: -1 }))).toBe('EVAL_INPUT_INVALID');
    expect(codeOf(() => klDivergence([0.5, 0.5], [1]))).toBe('EVAL_LENGTH_MISMATCH');
  });
});
