/**
 * A tiny, fast run of benchmarks/attribution-security.ts (the LoRA-tuned transformer on the security Datanet): the
 * harness runs end to end on this model and every number it reports is re-derived here by an independent loop —
 * dot products, the TracInCP checkpoint sum, Spearman by hand, AUROC by pair counting. No claims about quality.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { marginAndNegLoss, measureSecurityAttribution, type SecurityAttributionResult } from '../../benchmarks/attribution-security.js';

const tiny = {
  seed: 3,
  limitPerGroup: 24,
  noisy: 4,
  nTrain: 24,
  nTest: 6,
  probeRows: 8,
  probeSteps: 3,
  sequenceLength: 16,
  rank: 2,
  alpha: 4,
  epochs: 2,
  batchSize: 8,
  checkpoints: 2,
  subsets: 5,
  ceilingSubsets: 3,
  base: 'random' as const,
  randomBase: { dModel: 16, nHeads: 2, nLayers: 1, mlpHidden: 32 },
  cacheDir: null,
  log: () => {},
};

function ranks(values: ArrayLike<number>): number[] {
  const idx = Array.from(values, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const r = new Array<number>(values.length);
  for (let k = 0; k < idx.length; ) {
    let e = k;
    while (e + 1 < idx.length && values[idx[e + 1]!] === values[idx[k]!]) e++;
    for (let m = k; m <= e; m++) r[idx[m]!] = (k + e) / 2 + 1;
    k = e + 1;
  }
  return r;
}

function spearmanByHand(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const ma = ra.reduce((s, v) => s + v, 0) / ra.length;
  const mb = rb.reduce((s, v) => s + v, 0) / rb.length;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return da === 0 || db === 0 ? Number.NaN : num / Math.sqrt(da * db);
}

function aucByPairs(scores: ArrayLike<number>, positive: boolean[]): number {
  let wins = 0, pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!positive[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (positive[j]) continue;
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i]! === scores[j]! ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

const dot = (a: Float32Array, i: number, b: Float32Array, j: number, dim: number) => {
  let s = 0;
  for (let c = 0; c < dim; c++) s += a[i * dim + c]! * b[j * dim + c]!;
  return s;
};

describe('security-Datanet attribution benchmark (tiny run)', () => {
  let result: SecurityAttributionResult;

  it('runs end to end and reports well-formed rows', async () => {
    result = await measureSecurityAttribution(tiny);
    const { rows, details } = result;
    expect(details.flagged.filter(Boolean).length).toBe(tiny.noisy);
    expect(rows.map((r) => r.method)).toEqual([
      'Grad-Dot', 'Grad-Cos', 'DataInf', 'TracInCP (2 checkpoints)', 'random scores (baseline)', 'same label ±1 (baseline)',
      'retrain, other seed (noise ceiling, 3 subsets)', 'own training loss (baseline)',
    ]);
    for (const r of rows.slice(0, 6)) {
      expect(r.lds).toBeGreaterThanOrEqual(-1);
      expect(r.lds).toBeLessThanOrEqual(1);
      expect(r.ldsTestsUsed).toBeGreaterThan(0);
      expect(r.ldsTestsUsed).toBeLessThanOrEqual(tiny.nTest);
      expect(r.loo).toBeNull();
    }
    expect(rows[1]!.auc).toBeNull();
    for (const r of [rows[0]!, rows[2]!, rows[3]!, rows[7]!]) {
      expect(r.auc).toBeGreaterThanOrEqual(0);
      expect(r.auc).toBeLessThanOrEqual(1);
    }
    for (const m of details.methods) {
      expect(m.scores.nTrain).toBe(tiny.nTrain);
      expect(m.scores.nTest).toBe(tiny.nTest);
      expect(Array.from(m.scores.values).every(Number.isFinite)).toBe(true);
    }
  });

  it('Grad-Dot and TracInCP scores equal brute-force dot products (TracIn: Σ_c η_c g_c(i)·g_c(t))', () => {
    const { details } = result;
    const { dim } = details.train.features;
    const gd = details.methods.find((m) => m.method === 'Grad-Dot')!.scores.values;
    const tr = details.methods.find((m) => m.method.startsWith('TracInCP'))!.scores.values;
    expect(details.checkpointTrain.length).toBe(tiny.checkpoints);
    for (let i = 0; i < tiny.nTrain; i++) {
      for (let t = 0; t < tiny.nTest; t++) {
        const ref = dot(details.train.features.data, i, details.test.features.data, t, dim);
        expect(gd[i * tiny.nTest + t]).toBeCloseTo(ref, 4);
        let sum = 0;
        details.checkpointTrain.forEach((f, c) => (sum += details.checkpointRates[c]! * dot(f.data, i, details.checkpointTest[c]!.data, t, dim)));
        expect(Math.abs(tr[i * tiny.nTest + t]! - sum)).toBeLessThan(1e-4 * (1 + Math.abs(sum)));
      }
    }
  });

  it('LDS and AUC equal a hand-rolled Spearman average and pair-counting AUROC', () => {
    const { rows, details } = result;
    const { subsets, outputs } = details.marginTruth;
    for (const m of details.methods) {
      const perTest: number[] = [];
      for (let t = 0; t < tiny.nTest; t++) {
        const predicted = subsets.map((s) => Array.from(s).reduce((a, i) => a + m.scores.values[i * tiny.nTest + t]!, 0));
        const rho = spearmanByHand(predicted, outputs.map((o) => o[t]!));
        if (Number.isFinite(rho)) perTest.push(rho);
      }
      const row = rows.find((r) => r.method === m.method)!;
      expect(row.ldsTestsUsed).toBe(perTest.length);
      const mean = perTest.reduce((a, v) => a + v, 0) / perTest.length;
      expect(row.lds!).toBeCloseTo(mean, 3);
      const sd = Math.sqrt(perTest.reduce((a, v) => a + (v - mean) ** 2, 0) / (perTest.length - 1));
      expect(row.ldsSe!).toBeCloseTo(sd / Math.sqrt(perTest.length), 3);
      if (m.selfInfluence) expect(row.auc!).toBeCloseTo(aucByPairs(m.selfInfluence, details.flagged), 3);
    }
    const baseline = rows.find((r) => r.method === 'own training loss (baseline)')!;
    // The ceiling: per test point, Spearman between the two seeds' margins over the first 3 subsets, averaged.
    const other = details.ceilingMargins!;
    expect(other.length).toBe(3);
    const agree: number[] = [];
    for (let t = 0; t < tiny.nTest; t++) {
      const rho = spearmanByHand(outputs.slice(0, 3).map((o) => o[t]!), other.map((o) => o[t]!));
      if (Number.isFinite(rho)) agree.push(rho);
    }
    // LDS beyond the label: first-order partial rank correlation given the same-label subset sums, by hand.
    const control = details.methods.find((m) => m.method.startsWith('same label'))!.scores.values;
    const sums = (v: ArrayLike<number>, t: number) => subsets.map((s) => Array.from(s).reduce((a, i) => a + v[i * tiny.nTest + t]!, 0));
    for (const m of details.methods.filter((x) => !x.method.includes('(baseline)'))) {
      const partial: number[] = [];
      for (let t = 0; t < tiny.nTest; t++) {
        const g = sums(m.scores.values, t), h = sums(control, t), f = outputs.map((o) => o[t]!);
        const gf = spearmanByHand(g, f), gh = spearmanByHand(g, h), fh = spearmanByHand(f, h);
        const den = Math.sqrt((1 - gh * gh) * (1 - fh * fh));
        const rho = (gf - gh * fh) / den;
        if (Number.isFinite(rho) && den > 1e-9) partial.push(rho);
      }
      const row = rows.find((r) => r.method === m.method)!;
      if (partial.length === 0) expect(row.ldsBeyondLabel).toBeNaN();
      else expect(row.ldsBeyondLabel!).toBeCloseTo(partial.reduce((a, v) => a + v, 0) / partial.length, 3);
    }
    const ceiling = rows.find((r) => r.method.startsWith('retrain, other seed'))!;
    expect(ceiling.lds!).toBeCloseTo(agree.reduce((a, v) => a + v, 0) / agree.length, 3);
    expect(baseline.auc!).toBeCloseTo(aucByPairs(details.train.loss, details.flagged), 3);
  });

  it('a retrain on every row reproduces the full fine-tune (same base, adapter init and batch order)', async () => {
    const { details } = result;
    const all = Uint32Array.from({ length: tiny.nTrain }, (_, i) => i);
    const again = await details.retrain(all);
    for (let t = 0; t < tiny.nTest; t++) expect(again.margin[t]).toBeCloseTo(details.fullOutputs.margin[t]!, 4);
  });

  it('marginAndNegLoss matches the closed forms: margin = z_y − log Σ_{c≠y} e^{z_c}, −loss = log softmax_y', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), (z, y) => {
        const { margin, negLoss } = marginAndNegLoss(Float32Array.from(z), 3, [y]);
        const zf = Array.from(Float32Array.from(z));
        const others = zf.reduce((a, v, c) => (c === y ? a : a + Math.exp(v)), 0);
        const all = zf.reduce((a, v) => a + Math.exp(v), 0);
        expect(margin[0]).toBeCloseTo(zf[y]! - Math.log(others), 8);
        expect(negLoss[0]).toBeCloseTo(zf[y]! - Math.log(all), 8);
      }),
    );
  });
});
