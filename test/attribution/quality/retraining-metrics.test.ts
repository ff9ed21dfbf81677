/**
 * LOO, LDS and brittleness against toy "models" whose retrained output is an exact, known function of the subset, so
 * the right answer is computed by an independent loop.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { brittleness } from '../../../src/attribution/quality/brittleness.js';
import { averageRanks } from '../../../src/attribution/quality/correlation.js';
import { computeLdsGroundTruth, linearDatamodelingScore, sampleLdsSubsets } from '../../../src/attribution/quality/linear-datamodeling-score.js';
import { computeLooGroundTruth, looCorrelation } from '../../../src/attribution/quality/loo-correlation.js';
import { scoreMatrix } from '../../../src/attribution/quality/score-matrix.js';
import { createRng, isProvenantError } from '../../../src/core/index.js';

function randomMatrix(nTrain: number, nTest: number, seed: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: nTrain * nTest }, () => rng.nextNormal());
}

/** f_t(S) = Σ_{i∈S} w(i, t) + ε·(Σ_{i∈S} w(i, t))³: additive plus a monotone distortion. */
function additiveTrainer(w: Float64Array, nTest: number, cubic = 0) {
  const calls: Uint32Array[] = [];
  const train = (rows: Uint32Array) => {
    calls.push(rows);
    const out = new Float64Array(nTest);
    for (const i of rows) for (let t = 0; t < nTest; t++) out[t]! += w[i * nTest + t]!;
    return out.map((v) => v + cubic * v * v * v);
  };
  return { train, calls };
}

/** Spearman by the d² formula, valid when both series are free of ties (true for continuous random data). */
function spearmanNoTies(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  const n = x.length;
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += (rx[i]! - ry[i]!) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

describe('sampleLdsSubsets', () => {
  it('draws count subsets of ⌊αn⌋ distinct ascending rows, reproducibly', () => {
    const a = sampleLdsSubsets(101, { fraction: 0.5, count: 7, seed: 2 });
    expect(a).toEqual(sampleLdsSubsets(101, { fraction: 0.5, count: 7, seed: 2 }));
    expect(a.length).toBe(7);
    for (const s of a) {
      expect(s.length).toBe(50);
      for (let k = 1; k < s.length; k++) expect(s[k]!).toBeGreaterThan(s[k - 1]!);
      expect(s[s.length - 1]!).toBeLessThan(101);
    }
    expect(a[0]).not.toEqual(a[1]);
  });
  it('rejects a fraction outside (0, 1) and fewer than 2 subsets', () => {
    expect(() => sampleLdsSubsets(10, { fraction: 1 })).toThrow();
    expect(() => sampleLdsSubsets(10, { count: 1 })).toThrow();
  });
});

describe('linearDatamodelingScore', () => {
  const nTrain = 40;
  const nTest = 6;
  const w = randomMatrix(nTrain, nTest, 1);

  it('is 1 for the exact additive model (also under a monotone distortion) and −1 for its negation', async () => {
    const { train, calls } = additiveTrainer(w, nTest, 0.01);
    const events: number[] = [];
    const truth = await computeLdsGroundTruth({ nTrain, nTest, train, count: 25, fraction: 0.5, seed: 9, onProgress: (e) => events.push(e.done) });
    expect(calls.length).toBe(25);
    expect(calls[3]).toEqual(truth.subsets[3]);
    expect(events[events.length - 1]).toBe(25);
    expect(linearDatamodelingScore(scoreMatrix(w, nTrain, nTest), truth).score).toBeCloseTo(1, 12);
    expect(linearDatamodelingScore(scoreMatrix(w.map((v) => -v), nTrain, nTest), truth).score).toBeCloseTo(-1, 12);
  });

  it('equals a brute-force loop of per-test Spearman correlations for arbitrary scores', async () => {
    const { train } = additiveTrainer(w, nTest);
    const truth = await computeLdsGroundTruth({ nTrain, nTest, train, count: 30, seed: 4 });
    const scores = randomMatrix(nTrain, nTest, 77);
    // Partially informative scores: w plus noise.
    for (let k = 0; k < scores.length; k++) scores[k] = w[k]! + 1.5 * scores[k]!;
    const result = linearDatamodelingScore(scoreMatrix(scores, nTrain, nTest), truth);
    let sum = 0;
    for (let t = 0; t < nTest; t++) {
      const g = truth.subsets.map((s) => Array.from(s).reduce((acc, i) => acc + scores[i * nTest + t]!, 0));
      const f = truth.outputs.map((o) => o[t]!);
      const rho = spearmanNoTies(g, f);
      expect(result.perTest[t]).toBeCloseTo(rho, 12);
      sum += rho;
    }
    expect(result.score).toBeCloseTo(sum / nTest, 12);
    expect(result.score).toBeGreaterThan(0);
    expect(result.score).toBeLessThan(1);
    expect(result.testsUsed).toBe(nTest);
  });

  it('is invariant to a positive scale and a shift of each test column, as equal-size subsets make it (fast-check)', async () => {
    const { train } = additiveTrainer(w, nTest);
    const truth = await computeLdsGroundTruth({ nTrain, nTest, train, count: 12, seed: 6 });
    const noisy = randomMatrix(nTrain, nTest, 21).map((v, k) => w[k]! + v);
    const base = linearDatamodelingScore(scoreMatrix(noisy, nTrain, nTest), truth).perTest;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0.01, max: 100, noNaN: true }), fc.double({ min: -10, max: 10, noNaN: true })), { minLength: nTest, maxLength: nTest }), (affine) => {
        const moved = noisy.map((v, k) => affine[k % nTest]![0] * v + affine[k % nTest]![1]);
        const result = linearDatamodelingScore(scoreMatrix(moved, nTrain, nTest), truth).perTest;
        for (let t = 0; t < nTest; t++) expect(result[t]).toBeCloseTo(base[t]!, 9);
      }),
      { numRuns: 30 },
    );
  });

  it('rejects a ground truth of another shape and a retrain function that returns the wrong length', async () => {
    const { train } = additiveTrainer(w, nTest);
    const truth = await computeLdsGroundTruth({ nTrain, nTest, train, count: 3 });
    try {
      linearDatamodelingScore(scoreMatrix(new Float64Array(nTrain * 2), nTrain, 2), truth);
      expect.unreachable();
    } catch (e) {
      expect(isProvenantError(e, 'ATTRIBUTION_SHAPE_MISMATCH')).toBe(true);
    }
    await expect(computeLdsGroundTruth({ nTrain, nTest, train: () => [1, 2], count: 2 })).rejects.toThrow(/must return 6 outputs/);
    expect(() => scoreMatrix(new Float64Array(5), 2, 2)).toThrow(/nTrain × nTest/);
  });
});

describe('looCorrelation', () => {
  const nTrain = 30;
  const nTest = 4;
  const w = randomMatrix(nTrain, nTest, 5);

  it('retrains once on all rows and once without each chosen row; effects are f(full) − f(without i)', async () => {
    const { train, calls } = additiveTrainer(w, nTest);
    const truth = await computeLooGroundTruth({ nTrain, nTest, train, rows: [3, 7, 11], tests: [1, 3] });
    expect(calls.length).toBe(4);
    expect(calls[0]!.length).toBe(nTrain);
    expect(Array.from(calls[2]!)).not.toContain(7);
    expect(calls[2]!.length).toBe(nTrain - 1);
    // Additive model: removing i changes f_t by exactly w(i, t).
    for (const [r, i] of [3, 7, 11].entries()) {
      for (const [c, t] of [1, 3].entries()) expect(truth.effects[r * 2 + c]).toBeCloseTo(w[i * nTest + t]!, 12);
    }
  });

  it('is 1 for exact scores, and equals brute-force per-test and pooled Pearson/Spearman for noisy ones', async () => {
    const { train } = additiveTrainer(w, nTest, 0.02);
    const truth = await computeLooGroundTruth({ nTrain, nTest, train, sampleRows: 12, seed: 3 });
    expect(truth.rows.length).toBe(12);
    const exact = looCorrelation(scoreMatrix(w, nTrain, nTest), truth);
    expect(exact.spearman).toBeCloseTo(1, 12);
    const noisy = randomMatrix(nTrain, nTest, 8).map((v, k) => w[k]! + v);
    const result = looCorrelation(scoreMatrix(noisy, nTrain, nTest), truth);
    let sumP = 0;
    let sumS = 0;
    const allX: number[] = [];
    const allY: number[] = [];
    for (let t = 0; t < nTest; t++) {
      const x = Array.from(truth.rows, (i) => noisy[i * nTest + t]!);
      const y = Array.from(truth.rows, (_, r) => truth.effects[r * nTest + t]!);
      allX.push(...x);
      allY.push(...y);
      const mx = x.reduce((a, b) => a + b) / x.length;
      const my = y.reduce((a, b) => a + b) / y.length;
      let sxy = 0, sxx = 0, syy = 0;
      for (let r = 0; r < x.length; r++) {
        sxy += (x[r]! - mx) * (y[r]! - my);
        sxx += (x[r]! - mx) ** 2;
        syy += (y[r]! - my) ** 2;
      }
      sumP += sxy / Math.sqrt(sxx * syy);
      sumS += spearmanNoTies(x, y);
    }
    expect(result.pearson).toBeCloseTo(sumP / nTest, 12);
    expect(result.spearman).toBeCloseTo(sumS / nTest, 12);
    expect(result.pooledSpearman).toBeCloseTo(spearmanNoTies(allX, allY), 12);
    expect(result.testsUsed).toBe(nTest);
  });
});

describe('brittleness', () => {
  it('finds the smallest k of the grid whose removal flips each correctly-predicted point (brute-force check)', async () => {
    const nTrain = 50;
    const nTest = 5;
    const w = randomMatrix(nTrain, nTest, 11).map((v) => v + 0.15);
    const { train } = additiveTrainer(w, nTest);
    // margin_t(S) = Σ_{i∈S} w(i,t) − c_t; choose c so some points start wrong.
    const c = [0, 2, -1, 100, 4];
    const margin = async (rows: Uint32Array) => (await train(rows)).map((v, t) => v - c[t]!);
    const ks = [1, 2, 4, 8, 16, 32];
    const result = await brittleness(scoreMatrix(w, nTrain, nTest), { train: margin, tests: [0, 1, 2, 3, 4], ks });
    for (let t = 0; t < nTest; t++) {
      const col = Array.from({ length: nTrain }, (_, i) => w[i * nTest + t]!);
      const fullMargin = col.reduce((a, b) => a + b) - c[t]!;
      const sorted = [...col].sort((a, b) => b - a);
      let expected = -1;
      if (fullMargin > 0) {
        for (const k of ks) {
          const removed = sorted.slice(0, k).reduce((a, b) => a + b, 0);
          if (fullMargin - removed <= 0) {
            expected = k;
            break;
          }
        }
      }
      expect(result.examined[t]).toBe(fullMargin > 0 ? 1 : 0);
      expect(result.smallestK[t]).toBe(expected);
    }
    expect(result.smallestK[3]).toBe(-1);
    const examined = Array.from(result.examined).filter(Boolean).length;
    for (const [m, k] of ks.entries()) {
      const flipped = Array.from(result.smallestK).filter((s) => s >= 1 && s <= k).length;
      expect(result.flippedFraction[m]).toBeCloseTo(flipped / examined, 14);
    }
  });
  it('rejects ks that are not strictly ascending', async () => {
    await expect(brittleness(scoreMatrix(new Float64Array(4), 2, 2), { train: () => [1, 1], tests: [0], ks: [1, 1] })).rejects.toThrow(/ascending/);
  });
});
