import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/index.js';
import { accuracy, bootstrapPValue, pairedBootstrap } from '../../src/eval/index.js';

const meanOf = (x: number[]) => (w: Float64Array) => x.reduce((s, v, i) => s + w[i]! * v, 0) / w.reduce((a, b) => a + b, 0);

/** numpy-style type-7 quantile. */
function quantile(x: number[], q: number): number {
  const s = [...x].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo]! + (pos - lo) * (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!);
}

describe('paired bootstrap', () => {
  it('p-value formula on constructed replicates', () => {
    expect(bootstrapPValue([1, 2, 3, -1])).toBeCloseTo((2 * (1 + 1)) / 5, 15);
    expect(bootstrapPValue(new Array(999).fill(0.5))).toBeCloseTo(2 / 1000, 15);
    expect(bootstrapPValue(new Array(999).fill(-0.5))).toBeCloseTo(2 / 1000, 15);
    expect(bootstrapPValue(new Array(10).fill(0))).toBe(1);
    expect(bootstrapPValue([NaN, 1, -1])).toBeCloseTo(1, 15);
  });

  it('identical models: delta 0, interval [0, 0], p = 1', () => {
    const x = [1, 0, 1, 1, 0, 0, 1];
    const r = pairedBootstrap(x.length, meanOf(x), meanOf(x), { resamples: 200 });
    expect(r.delta).toEqual({ value: 0, ci: { lower: 0, upper: 0, level: 0.95 } });
    expect(r.pValue).toBe(1);
  });

  it('replicates equal an explicit resampling loop with the same draws', () => {
    const a = [0.2, 0.9, 0.4, 0.4, 0.7, 0.1, 0.5, 0.3, 0.8];
    const b = [0.3, 0.8, 0.6, 0.5, 0.9, 0.2, 0.4, 0.6, 0.7];
    const n = a.length;
    const r = pairedBootstrap(n, meanOf(a), meanOf(b), { resamples: 300, seed: 'explicit', alpha: 0.1 });
    const rng = createRng('explicit');
    const deltas: number[] = [];
    for (let rep = 0; rep < 300; rep++) {
      let sa = 0;
      let sb = 0;
      for (let k = 0; k < n; k++) {
        const i = rng.nextInt(n);
        sa += a[i]!;
        sb += b[i]!;
      }
      deltas.push(sb / n - sa / n);
    }
    expect(r.delta.value).toBeCloseTo(b.reduce((s, v) => s + v, 0) / n - a.reduce((s, v) => s + v, 0) / n, 14);
    expect(r.delta.ci.lower).toBeCloseTo(quantile(deltas, 0.05), 12);
    expect(r.delta.ci.upper).toBeCloseTo(quantile(deltas, 0.95), 12);
    const le = deltas.filter((d) => d <= 1e-12).length;
    const ge = deltas.filter((d) => d >= -1e-12).length;
    expect(r.pValue).toBeCloseTo(Math.min(1, (2 * (Math.min(le, ge) + 1)) / 301), 12);
  });

  it('pairing detects a small delta whose unpaired intervals overlap', () => {
    const n = 200;
    const base = Array.from({ length: n }, (_, i) => (i < 140 ? 1 : 0));
    const tuned = Array.from({ length: n }, (_, i) => (i < 150 ? 1 : 0));
    const r = pairedBootstrap(n, meanOf(base), meanOf(tuned), { seed: 1 });
    expect(r.delta.value).toBeCloseTo(0.05, 14);
    expect(r.delta.ci.lower).toBeGreaterThan(0);
    expect(r.pValue).toBeLessThan(0.01);
    // Separately, the two accuracy intervals overlap.
    const labels = new Array(n).fill(1);
    const a = accuracy(labels, base, { seed: 1 });
    const b = accuracy(labels, tuned, { seed: 2 });
    expect(a.ci.upper).toBeGreaterThan(b.ci.lower);
    expect(r.relativeDelta!.value).toBeCloseTo(0.05 / 0.7, 14);
  });

  it('under H0 (exchangeable models) p < 0.05 about 5 % of the time', () => {
    const rng = createRng('null');
    let rejections = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const a = Array.from({ length: 100 }, () => (rng.nextDouble() < 0.7 ? 1 : 0));
      const b = Array.from({ length: 100 }, () => (rng.nextDouble() < 0.7 ? 1 : 0));
      if (pairedBootstrap(100, meanOf(a), meanOf(b), { resamples: 300, seed: t }).pValue < 0.05) rejections++;
    }
    expect(rejections / trials).toBeLessThan(0.11);
    expect(rejections / trials).toBeGreaterThan(0.005);
  });

  it('the 95 % interval of a paired accuracy delta covers the true delta at about the nominal rate', () => {
    const rng = createRng('delta-coverage');
    const trueDelta = 0.75 - 0.7;
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const a = Array.from({ length: 200 }, () => (rng.nextDouble() < 0.7 ? 1 : 0));
      const b = Array.from({ length: 200 }, () => (rng.nextDouble() < 0.75 ? 1 : 0));
      const r = pairedBootstrap(200, meanOf(a), meanOf(b), { resamples: 400, seed: t });
      if (r.delta.ci.lower <= trueDelta && trueDelta <= r.delta.ci.upper) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.89);
    expect(covered / trials).toBeLessThan(0.99);
  });

  it('the relative delta is null when the base value is 0 at the point or on most resamples', () => {
    const tuned = Array.from({ length: 100 }, (_, i) => (i < 50 ? 1 : 0));
    const zeroBase = new Array(100).fill(0);
    expect(pairedBootstrap(100, meanOf(zeroBase), meanOf(tuned), { resamples: 300 }).relativeDelta).toBeNull();
    // A base statistic that is 1 on the full sample but 0 unless example 0 is drawn at least twice (~26 % of resamples).
    const fragile = (w: Float64Array) => (w.every((v) => v === 1) || w[0]! >= 2 ? 1 : 0);
    const r = pairedBootstrap(100, fragile, meanOf(tuned), { resamples: 300 });
    expect(r.relativeDelta).toBeNull();
    expect(r.delta.value).toBeCloseTo(-0.5, 14);
    // One correct example in 100 (base 0 on ~37 % of resamples) still has a relative delta.
    const onePercent = Array.from({ length: 100 }, (_, i) => (i === 0 ? 1 : 0));
    expect(pairedBootstrap(100, meanOf(onePercent), meanOf(tuned), { resamples: 300 }).relativeDelta).not.toBeNull();
  });
});
