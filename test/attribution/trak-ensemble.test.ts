import { inverse, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { createTrakEnsemble, denseScores, fitTrak, trakFeatures, trakModelScores, type FeatureMatrix, type TrakEnsembleModel } from '../../src/attribution/index.js';
import { createGemmF32 } from '../../src/finetune/index.js';
import { randomData } from './helpers.js';
import { maxRelativeDifference as maxRelDiff } from './linalg/random-matrices.js';

function features(rows: number, dim: number, seed: number): FeatureMatrix {
  const { x } = randomData(rows, dim, 2, seed);
  return { rows, dim, data: x, blocks: [{ name: 'projected', module: 'projected', offset: 0, size: dim }] };
}

const toMatrix = (a: ArrayLike<number>, rows: number, cols: number) => {
  const m = new Matrix(rows, cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m.set(r, c, a[r * cols + c]!);
  return m;
};

const n = 14;
const k = 5;
const nTest = 4;
const models: TrakEnsembleModel[] = [0, 1, 2].map((m) => ({
  train: features(n, k, 100 + m),
  test: features(nTest, k, 200 + m),
  labelProbability: Float32Array.from({ length: n }, (_, i) => ((i * 7 + m * 3) % 10) / 10),
}));

/** Brute force from the formula: Q̄_ii · (1/M) Σ_m φ_m(t)ᵀ (Φ_mᵀΦ_m + λ_m I)⁻¹ φ_m(i), with ml-matrix's inverse. */
function bruteForce(ms: TrakEnsembleModel[], relative: number): Float64Array {
  return bruteForceOn(ms, relative);
}

function bruteForceOn(ms: TrakEnsembleModel[], relative: number): Float64Array {
  const M = ms.length;
  const n = ms[0]!.train.rows;
  const k = ms[0]!.train.dim;
  const nTest = ms[0]!.test.rows;
  const out = new Float64Array(n * nTest);
  for (const m of ms) {
    const Phi = toMatrix(m.train.data, n, k);
    const G = Phi.transpose().mmul(Phi);
    let trace = 0;
    for (let a = 0; a < k; a++) trace += G.get(a, a);
    const inv = inverse(G.add(Matrix.eye(k, k).mul((relative * trace) / k)));
    const S = Phi.mmul(inv).mmul(toMatrix(m.test.data, nTest, k).transpose());
    for (let i = 0; i < n; i++) for (let t = 0; t < nTest; t++) out[i * nTest + t]! += S.get(i, t) / M;
  }
  for (let i = 0; i < n; i++) {
    let q = 0;
    for (const m of ms) q += (1 - m.labelProbability[i]!) / M;
    for (let t = 0; t < nTest; t++) out[i * nTest + t]! *= q;
  }
  return out;
}


describe('TRAK ensemble (Park et al. 2023, Algorithm 1)', () => {
  it('equals the brute-force formula at every damping of a λ path, and after each added model', () => {
    const path = [0, 1e-3, 0.5];
    const ensemble = createTrakEnsemble({ relativeDamping: path });
    models.forEach((m, j) => {
      ensemble.add(m);
      expect(ensemble.models).toBe(j + 1);
      path.forEach((rel, which) => {
        const ours = ensemble.scores(which);
        expect(ours.nTrain).toBe(n);
        expect(ours.nTest).toBe(nTest);
        // float32 features, float64 algebra: agreement to ~1e-6 of the largest score.
        expect(maxRelDiff(ours.values, bruteForce(models.slice(0, j + 1), rel))).toBeLessThan(1e-6);
      });
    });
    // More damping shrinks the kernel's inverse: the scores must actually change along the path.
    expect(maxRelDiff(ensemble.scores(2).values, ensemble.scores(0).values)).toBeGreaterThan(1e-2);
  });

  it("precision 'float32' (TRAK's reference precision) equals the brute-force formula to float32 rounding", () => {
    // Wider than the 5-column fixture so the float32 Gram runs over more than one column panel (GRAM_F32_PANEL = 256).
    const wide: TrakEnsembleModel[] = [0, 1].map((m) => ({
      train: features(400, 300, 300 + m),
      test: features(7, 300, 400 + m),
      labelProbability: Float32Array.from({ length: 400 }, (_, i) => ((i * 3 + m) % 10) / 10),
    }));
    const path = [1e-3, 0.3];
    const f32 = createTrakEnsemble({ relativeDamping: path, precision: 'float32' });
    const f64 = createTrakEnsemble({ relativeDamping: path });
    for (const m of wide) {
      f32.add(m);
      f64.add(m);
    }
    path.forEach((rel, which) => {
      const expected = bruteForceOn(wide, rel);
      // float64 is the tight path; float32 sums differ by ≈ 1e-7 relative, amplified by the solve at the smaller λ.
      expect(maxRelDiff(f64.scores(which).values, expected)).toBeLessThan(1e-6);
      expect(maxRelDiff(f32.scores(which).values, expected)).toBeLessThan(1e-4);
    });
    // A workspace kept across models gives the same numbers as a fresh one per model.
    const gemm = createGemmF32();
    try {
      for (const m of wide) {
        const fresh = trakModelScores(m, { relativeDamping: path, precision: 'float32' });
        const reused = trakModelScores(m, { relativeDamping: path, precision: 'float32', gemm });
        fresh.values.forEach((v, j) => expect(Array.from(reused.values[j]!)).toEqual(Array.from(v)));
      }
    } finally {
      gemm.dispose();
    }
    expect(() => trakModelScores(wide[0]!, { precision: 'float16' as 'float32' })).toThrow(/precision must be 'float64' or 'float32', got float16/);
  });

  it('agrees with fitTrak on concatenated features (the other code path)', () => {
    const ensemble = createTrakEnsemble({ relativeDamping: [0] });
    for (const m of models) ensemble.add(m);
    const pre = fitTrak(models.map((m) => ({ features: m.train, labelProbability: m.labelProbability })), { damping: 0 });
    const viaConcat = denseScores(trakFeatures(models.map((m) => m.train)), trakFeatures(models.map((m) => m.test)), pre);
    expect(maxRelDiff(ensemble.scores().values, viaConcat.values)).toBeLessThan(1e-5);
  });

  it('addScores of a precomputed contribution equals add', () => {
    const a = createTrakEnsemble();
    const b = createTrakEnsemble();
    for (const m of models) {
      a.add(m);
      b.addScores(trakModelScores(m));
    }
    expect(Array.from(b.scores().values)).toEqual(Array.from(a.scores().values));
  });

  it('refuses mismatched shapes, bad probabilities and dampings, and reading before any model', () => {
    const ensemble = createTrakEnsemble();
    expect(() => ensemble.scores()).toThrow(/no models yet/);
    ensemble.add(models[0]!);
    expect(() => ensemble.scores(1)).toThrow(/Damping index 1/);
    expect(() => ensemble.add({ ...models[1]!, train: features(n - 1, k, 9), labelProbability: new Float32Array(n - 1) })).toThrow(/13 training rows/);
    expect(() => trakModelScores({ ...models[0]!, test: features(nTest, k + 1, 9) })).toThrow(/same projection/);
    const p = Float32Array.from(models[0]!.labelProbability);
    p[3] = Number.NaN;
    expect(() => trakModelScores({ ...models[0]!, labelProbability: p })).toThrow(/training row 3/);
    expect(() => createTrakEnsemble({ relativeDamping: [-1] })).toThrow(/relativeDamping\[0\]/);
    expect(() => createTrakEnsemble({ relativeDamping: [] })).toThrow(/at least one/);
  });
});
