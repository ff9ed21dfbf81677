import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accuracy, auroc, expectedCalibrationError, logLoss, precisionRecallF1 } from '../../src/eval/index.js';

/** A random probability row of width k from positive weights. */
const probRow = (k: number) =>
  fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: k, maxLength: k }).map((w) => {
    const s = w.reduce((a, b) => a + b, 0);
    return w.map((v) => v / s);
  });

describe('accuracy', () => {
  it('hand-computed values, from class indices and from probability rows', () => {
    expect(accuracy([0, 1, 2, 2, 1], [0, 2, 2, 2, 1]).value).toBe(0.8);
    // argmax ties go to the lowest class: [0.5, 0.5] predicts 0.
    expect(accuracy([0, 1, 1], [[0.5, 0.5], [0.2, 0.8], [0.6, 0.4]]).value).toBeCloseTo(2 / 3, 15);
    const r = accuracy([1, 1, 1, 1], [1, 1, 1, 1]);
    expect(r.value).toBe(1);
    expect(r.ci).toEqual({ lower: 1, upper: 1, level: 0.95 });
  });
});

describe('precision, recall, F1', () => {
  it('hand-computed values with a class never predicted (defined as 0 and flagged, as scikit-learn zero_division=0)', () => {
    const r = precisionRecallF1([0, 0, 1, 1, 2, 2], [0, 0, 1, 0, 1, 1], { resamples: 200 });
    const [c0, c1, c2] = r.perClass;
    expect(c0!.precision.value).toBeCloseTo(2 / 3, 15);
    expect(c0!.recall.value).toBe(1);
    expect(c0!.f1.value).toBeCloseTo(0.8, 15);
    expect(c1!.precision.value).toBeCloseTo(1 / 3, 15);
    expect(c1!.recall.value).toBe(0.5);
    expect(c1!.f1.value).toBeCloseTo(0.4, 15);
    expect(c2!.precision.value).toBe(0);
    expect(c2!.precisionUndefined).toBe(true);
    expect(c2!.recallUndefined).toBe(false);
    expect(c2!.recall.value).toBe(0);
    expect(c2!.f1.value).toBe(0);
    expect(c2!.support).toBe(2);
    expect(c2!.predicted).toBe(0);
    expect(r.macro.precision.value).toBeCloseTo(1 / 3, 15);
    expect(r.macro.recall.value).toBeCloseTo(0.5, 15);
    expect(r.macro.f1.value).toBeCloseTo(0.4, 15);
    expect(r.macro.classes).toEqual([0, 1, 2]);
    for (const v of [r.macro.precision, r.macro.recall, r.macro.f1, c0!.f1]) {
      expect(v.ci.lower).toBeLessThanOrEqual(v.value);
      expect(v.ci.upper).toBeGreaterThanOrEqual(v.value);
      expect(Number.isNaN(v.ci.lower)).toBe(false);
    }
  });

  it('a class in neither labels nor predictions is flagged and left out of the macro average', () => {
    const r = precisionRecallF1([0, 0, 1, 1, 2, 2], [0, 0, 1, 0, 1, 1], { numClasses: 4, resamples: 50 });
    const c3 = r.perClass[3]!;
    expect([c3.precisionUndefined, c3.recallUndefined, c3.f1Undefined]).toEqual([true, true, true]);
    expect([c3.precision.value, c3.recall.value, c3.f1.value]).toEqual([0, 0, 0]);
    expect(r.macro.f1.value).toBeCloseTo(0.4, 15);
  });

  it('matches a brute-force per-class count on random data', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { minLength: 1, maxLength: 40 }), (pairs) => {
        const labels = pairs.map((p) => p[0]);
        const preds = pairs.map((p) => p[1]);
        const r = precisionRecallF1(labels, preds, { numClasses: 4, resamples: 1 });
        for (let k = 0; k < 4; k++) {
          const tp = pairs.filter(([y, p]) => y === k && p === k).length;
          const predicted = preds.filter((p) => p === k).length;
          const actual = labels.filter((y) => y === k).length;
          const prec = predicted ? tp / predicted : 0;
          const rec = actual ? tp / actual : 0;
          const f1 = prec + rec > 0 ? (2 * prec * rec) / (prec + rec) : 0;
          expect(r.perClass[k]!.precision.value).toBeCloseTo(prec, 12);
          expect(r.perClass[k]!.recall.value).toBeCloseTo(rec, 12);
          expect(r.perClass[k]!.f1.value).toBeCloseTo(f1, 12);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('log loss', () => {
  it('hand-computed value and the 1e-15 clip', () => {
    const r = logLoss([1, 0, 2], [[0.2, 0.8, 0], [0.6, 0.4, 0], [0.1, 0.1, 0.8]], { resamples: 100 });
    expect(r.value).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6) + Math.log(0.8)) / 3, 14);
    expect(r.higherIsBetter).toBe(false);
    expect(logLoss([2], [[0.5, 0.5, 0]], { resamples: 10 }).value).toBeCloseTo(-Math.log(1e-15), 12);
  });
});

describe('AUROC', () => {
  it('hand-computed value with tied scores counted one half', () => {
    // Positives 0.5, 0.9, 0.2 against negatives 0.1, 0.5, 0.3: (2.5 + 3 + 1) / 9.
    expect(auroc([0, 0, 1, 1, 0, 1], [0.1, 0.5, 0.5, 0.9, 0.3, 0.2]).value).toBeCloseTo(6.5 / 9, 15);
    expect(auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).value).toBe(0.75);
    // Probability rows: column positiveClass is the score; one-vs-rest for a multi-class label.
    expect(auroc([0, 2, 1], [[0.7, 0.2, 0.1], [0.2, 0.2, 0.6], [0.1, 0.8, 0.1]], { positiveClass: 2 }).value).toBe(1);
  });

  it('equals the brute-force pairwise Mann–Whitney count (many ties)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(1), fc.integer({ min: 0, max: 5 })), { minLength: 2, maxLength: 40 }).filter(
          // At least 3 of each class, so most bootstrap resamples hold both (the interval needs that).
          (xs) => xs.filter((x) => x[0] === 1).length >= 3 && xs.filter((x) => x[0] === 0).length >= 3,
        ),
        (xs) => {
          let s = 0;
          let pairs = 0;
          for (const [yi, si] of xs) for (const [yj, sj] of xs) {
            if (yi === 1 && yj === 0) {
              pairs++;
              s += si > sj ? 1 : si === sj ? 0.5 : 0;
            }
          }
          const r = auroc(xs.map((x) => x[0]), xs.map((x) => x[1]), { resamples: 20 });
          expect(r.value).toBeCloseTo(s / pairs, 12);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('leaves one-class resamples out of the interval and counts them', () => {
    const labels = [1, 0, 0, 0, 0, 0, 0, 0, 1, 0];
    const scores = [0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.05];
    const r = auroc(labels, scores, { resamples: 500, seed: 3 });
    expect(r.bootstrap.skipped).toBeGreaterThan(0);
    expect(r.bootstrap.skipped).toBeLessThan(250);
    expect(r.ci.upper).toBeLessThanOrEqual(1);
  });
});

describe('expected calibration error', () => {
  it('hand-computed value and reliability bins', () => {
    const labels = [1, 0, 0, 1, 1];
    const probs = [[0.05, 0.95], [0.85, 0.15], [0.18, 0.82], [0.45, 0.55], [0.51, 0.49]];
    const r = expectedCalibrationError(labels, probs, { bins: 5, resamples: 100 });
    // (0.8, 1]: conf 0.95, 0.85, 0.82, acc 2/3; (0.4, 0.6]: conf 0.55, 0.51, acc 1/2.
    const top = Math.abs(2 / 3 - (0.95 + 0.85 + 0.82) / 3);
    const mid = Math.abs(0.5 - 0.53);
    expect(r.value).toBeCloseTo((3 / 5) * top + (2 / 5) * mid, 14);
    expect(r.bins.map((b) => b.count)).toEqual([0, 0, 2, 0, 3]);
    expect(r.bins[4]!.accuracy).toBeCloseTo(2 / 3, 15);
    expect(r.bins[0]!.meanConfidence).toBeNull();
    expect(r.maxCalibrationError).toBeCloseTo(top, 14);
    expect(expectedCalibrationError([1, 0], [[0.1, 0.9], [0.3, 0.7]], { bins: 10 }).value).toBeCloseTo(0.4, 14);
  });

  it('puts a confidence on a bin edge into the lower bin ((m−1)/M, m/M])', () => {
    const r = expectedCalibrationError([0], [[0.3, 0.3, 0.2, 0.2]], { bins: 10, resamples: 5 });
    expect(r.bins[2]!.count).toBe(1);
  });

  it('lies in [0, 1] and equals a direct per-bin loop on random rows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(2), probRow(3)), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 20 }),
        (xs, M) => {
          const labels = xs.map((x) => x[0]);
          const rows = xs.map((x) => x[1]);
          const r = expectedCalibrationError(labels, rows, { bins: M, resamples: 20 });
          expect(r.value).toBeGreaterThanOrEqual(0);
          expect(r.value).toBeLessThanOrEqual(1);
          expect(r.ci.lower).toBeGreaterThanOrEqual(0);
          expect(r.ci.upper).toBeLessThanOrEqual(1);
          let ece = 0;
          for (let m = 0; m < M; m++) {
            const lo = m / M;
            const hi = (m + 1) / M;
            const inBin = xs.filter(([, p]) => {
              const c = Math.max(...p);
              return (c > lo || (m === 0 && c >= 0)) && c <= hi;
            });
            if (!inBin.length) continue;
            const acc = inBin.filter(([y, p]) => p.indexOf(Math.max(...p)) === y).length / inBin.length;
            const conf = inBin.reduce((s, [, p]) => s + Math.max(...p), 0) / inBin.length;
            ece += (inBin.length / xs.length) * Math.abs(acc - conf);
          }
          expect(r.value).toBeCloseTo(ece, 12);
        },
      ),
      { numRuns: 100 },
    );
  });
});
