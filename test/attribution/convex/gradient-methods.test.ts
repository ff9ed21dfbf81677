/**
 * The factored float64 gradient methods of the convex reference (Grad-Dot, TracInCP, DataInf, damped Fisher, their
 * self-influences) and its batched curvature operator, each against an independent computation on small problems:
 * explicit per-example gradients and brute-force loops, ml-matrix inverses, explicit mini-batch Hessians.
 */
import { inverse, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import {
  convexCurvatureOperator,
  convexDataInfScores,
  convexDataInfSelfInfluence,
  convexExampleGradients,
  convexFisherScores,
  convexGradientDotScores,
  convexGradientDotSelfInfluence,
  convexHessianOperator,
  convexInfluenceFactor,
  convexLogisticHessian,
  createConvexLogisticProblem,
  fitConvexLogistic,
  type ConvexLogisticProblem,
} from '../../../src/attribution/convex/index.js';
import { createRng, isProvenantError } from '../../../src/core/index.js';
import { blobs as blobProblem } from './blobs.js';

const blobs = (n: number, d: number, C: number, seed: number, lambda = 0.05): ConvexLogisticProblem => blobProblem(n, d, C, seed, lambda);

const P = (p: ConvexLogisticProblem) => (p.d + 1) * p.numClasses;
const dot = (a: Float64Array, ao: number, b: Float64Array, bo: number, len: number) => {
  let s = 0;
  for (let k = 0; k < len; k++) s += a[ao + k]! * b[bo + k]!;
  return s;
};
/** max |a − b| / max |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0, scale = 0;
  for (let k = 0; k < b.length; k++) {
    diff = Math.max(diff, Math.abs(a[k]! - b[k]!));
    scale = Math.max(scale, Math.abs(b[k]!));
  }
  return diff / scale;
}

describe('convex Grad-Dot and TracInCP (factored x̃ ⊗ r)', () => {
  const train = blobs(23, 4, 3, 1);
  const test = blobs(7, 4, 3, 2);
  const fit = fitConvexLogistic(train, { recordPath: true });
  const path = fit.path!;
  const p = P(train);

  it('equals Σ_k η_k ⟨∇ℓ_i(θ_k), ∇ℓ_t(θ_k)⟩ over explicit gradients', () => {
    const eta = path.map((_, k) => 0.5 + k);
    const expected = new Float64Array(train.n * test.n);
    path.forEach((theta, k) => {
      const g = convexExampleGradients(train, theta);
      const q = convexExampleGradients(test, theta);
      for (let i = 0; i < train.n; i++) for (let t = 0; t < test.n; t++) expected[i * test.n + t]! += eta[k]! * dot(g, i * p, q, t * p, p);
    });
    const got = convexGradientDotScores(train, test, path, { weights: eta });
    expect(got.nTrain).toBe(train.n);
    expect(got.nTest).toBe(test.n);
    expect(relErr(got.values, expected)).toBeLessThan(1e-13);
    // One θ is Grad-Dot; the JavaScript engine computes the same.
    const g = convexExampleGradients(train, fit.theta);
    const q = convexExampleGradients(test, fit.theta);
    const single = Float64Array.from({ length: train.n * test.n }, (_, k) => dot(g, Math.floor(k / test.n) * p, q, (k % test.n) * p, p));
    expect(relErr(convexGradientDotScores(train, test, fit.theta).values, single)).toBeLessThan(1e-13);
    expect(relErr(convexGradientDotScores(train, test, fit.theta, { engine: 'js' }).values, single)).toBeLessThan(1e-13);
  });

  it('self-influence equals Σ_k η_k ‖∇ℓ_i(θ_k)‖²', () => {
    const eta = path.map((_, k) => 1 + 0.1 * k);
    const expected = new Float64Array(train.n);
    path.forEach((theta, k) => {
      const g = convexExampleGradients(train, theta);
      for (let i = 0; i < train.n; i++) expected[i]! += eta[k]! * dot(g, i * p, g, i * p, p);
    });
    expect(relErr(convexGradientDotSelfInfluence(train, path, { weights: eta }), expected)).toBeLessThan(1e-13);
  });

  it('refuses bad checkpoints and weights with typed errors', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isProvenantError(e) ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => convexGradientDotScores(train, test, []))).toBe('ATTRIBUTION_INPUT_INVALID');
    expect(code(() => convexGradientDotScores(train, test, path, { weights: [1] }))).toBe('ATTRIBUTION_SHAPE_MISMATCH');
    expect(code(() => convexGradientDotScores(train, test, [fit.theta], { weights: [Number.NaN] }))).toBe('ATTRIBUTION_INPUT_INVALID');
    expect(code(() => convexGradientDotScores(train, test, new Float64Array(3)))).toBe('ATTRIBUTION_SHAPE_MISMATCH');
    expect(code(() => convexGradientDotScores(train, blobs(5, 3, 3, 4), fit.theta))).toBe('ATTRIBUTION_SHAPE_MISMATCH');
  });
});

/** Explicit gradients of a problem at θ as ml-matrix rows (n × P). */
const gradientMatrix = (problem: ConvexLogisticProblem, theta: Float64Array) => {
  const g = convexExampleGradients(problem, theta);
  const p = P(problem);
  return new Matrix(Array.from({ length: problem.n }, (_, i) => Array.from(g.subarray(i * p, (i + 1) * p))));
};

/** Blobs of n training and `tests` test rows (seeds `seed`, `seed + 10`), the fit, and both explicit gradient matrices. */
function fittedWithGradients(n: number, d: number, tests: number, seed: number) {
  const train = blobs(n, d, 3, seed);
  const test = blobs(tests, d, 3, seed + 10);
  const theta = fitConvexLogistic(train).theta;
  return { train, test, theta, G: gradientMatrix(train, theta), Q: gradientMatrix(test, theta), p: P(train) };
}

describe('convex DataInf (closed form through the training Gram)', () => {
  // n > P and n < P: the Gram route does not depend on which is larger.
  for (const [n, d] of [[40, 3], [9, 5]] as const) {
    it(`equals the paper's averaged Sherman–Morrison inverse with explicit inverses (n = ${n}, P = ${(d + 1) * 3})`, () => {
      const { train, test, theta, G, Q, p } = fittedWithGradients(n, d, 6, 10 + n);
      let total = 0;
      for (let i = 0; i < n; i++) for (let k = 0; k < p; k++) total += G.get(i, k) ** 2;
      const lambda = (0.1 * total) / (n * p);
      // (1/n) Σ_i (g_i g_iᵀ + λI)⁻¹, the inverse of every term by ml-matrix.
      let avg = Matrix.zeros(p, p);
      for (let i = 0; i < n; i++) {
        const g = G.getRowVector(i).transpose();
        avg = avg.add(inverse(g.mmul(g.transpose()).add(Matrix.eye(p).mul(lambda))).mul(1 / n));
      }
      const expected = G.mmul(avg).mmul(Q.transpose()); // τ(i, t) = g_iᵀ A q_t (A symmetric)
      const got = convexDataInfScores(train, theta, test);
      expect(Math.abs(got.lambda - lambda) / lambda).toBeLessThan(1e-12);
      expect(relErr(got.values, expected.to1DArray())).toBeLessThan(1e-9);
      // Self-influence: the diagonal of the same form with the training rows as queries.
      const selfExpected = G.mmul(avg).mmul(G.transpose());
      const self = convexDataInfSelfInfluence(train, theta);
      expect(relErr(self, Array.from({ length: n }, (_, i) => selfExpected.get(i, i)))).toBeLessThan(1e-9);
      // An absolute λ overrides the default.
      expect(convexDataInfScores(train, theta, test, { lambda: 0.3 }).lambda).toBe(0.3);
    });
  }

  it('refuses a non-positive lambdaScale', () => {
    const train = blobs(8, 2, 3, 3);
    const theta = fitConvexLogistic(train).theta;
    expect(() => convexDataInfScores(train, theta, train, { lambdaScale: 0 })).toThrow(/lambdaScale/);
    expect(() => convexDataInfScores(train, theta, train, { lambda: -1 })).toThrow(/options.lambda must be a positive finite number, got -1/);
  });
});

describe('convex damped Fisher (Woodbury kernel route and explicit route)', () => {
  for (const [n, d] of [[40, 3], [9, 5]] as const) {
    it(`both routes equal g_iᵀ (F + λI)⁻¹ q_t by ml-matrix, λ = 0.1·tr(F)/P (n = ${n}, P = ${(d + 1) * 3})`, () => {
      const { train, test, theta, G, Q, p } = fittedWithGradients(n, d, 5, 30 + n);
      const F = G.transpose().mmul(G).mul(1 / n);
      let trace = 0;
      for (let k = 0; k < p; k++) trace += F.get(k, k);
      const damping = (0.1 * trace) / p;
      const expected = G.mmul(inverse(F.add(Matrix.eye(p).mul(damping)))).mmul(Q.transpose()).to1DArray();
      const auto = convexFisherScores(train, theta, test);
      expect(auto.route).toBe(n <= p ? 'kernel' : 'explicit');
      for (const route of ['kernel', 'explicit'] as const) {
        const got = convexFisherScores(train, theta, test, { route });
        expect(got.route).toBe(route);
        expect(Math.abs(got.damping - damping) / damping).toBeLessThan(1e-12);
        expect(relErr(got.values, expected)).toBeLessThan(1e-9);
      }
    });
  }

  it('refuses a bad damping and an unknown route', () => {
    const train = blobs(8, 2, 3, 5);
    const theta = fitConvexLogistic(train).theta;
    expect(() => convexFisherScores(train, theta, train, { damping: -1 })).toThrow(/damping/);
    expect(() => convexFisherScores(train, theta, train, { route: 'other' as 'kernel' })).toThrow(/route/);
  });
});

describe('convex curvature operator (batched Hessian products, LiSSA mini-batches)', () => {
  const train = blobs(31, 4, 3, 50);
  const theta = fitConvexLogistic(train).theta;
  const p = P(train);
  const rng = createRng(9);
  const rows = 4;
  const V = Float64Array.from({ length: rows * p }, () => rng.nextNormal());

  it('apply: H·v for a block of vectors equals the explicit Hessian times each, and the one-vector operator', () => {
    const H = convexLogisticHessian(train, theta);
    const expected = new Float64Array(rows * p);
    for (let r = 0; r < rows; r++) for (let a = 0; a < p; a++) expected[r * p + a] = dot(H, a * p, V, r * p, p);
    const op = convexCurvatureOperator(train, theta);
    expect(op.dim).toBe(p);
    expect(relErr(op.apply(V, rows), expected)).toBeLessThan(1e-12);
    const single = convexHessianOperator(train, theta);
    const one = single.apply(V.subarray(p, 2 * p));
    expect(relErr(one, expected.subarray(p, 2 * p))).toBeLessThan(1e-12);
    expect(relErr(single.applyRows(V, rows), expected)).toBeLessThan(1e-12);
  });

  it('sample: the mini-batch Hessian of the rows drawn by rng.nextInt(|R|), with λI, on a row subset too', () => {
    const subset = [1, 3, 4, 8, 9, 15, 22, 30];
    const op = convexCurvatureOperator(train, theta, subset);
    const got = op.sample!(V, rows, 5, createRng(77));
    const draws = createRng(77);
    const batch = Array.from({ length: 5 }, () => subset[draws.nextInt(subset.length)]!);
    // The explicit Hessian of the mean loss over the drawn rows (with repeats), λ included.
    const H = convexLogisticHessian(train, theta, batch);
    const expected = new Float64Array(rows * p);
    for (let r = 0; r < rows; r++) for (let a = 0; a < p; a++) expected[r * p + a] = dot(H, a * p, V, r * p, p);
    expect(relErr(got, expected)).toBeLessThan(1e-12);
  });
});

describe('convex influence factor (reduced to the gradients\' subspace)', () => {
  // Feature 1 is zero on every training row but not on the test rows; C = 4.
  const base = blobs(26, 4, 4, 60);
  const x = Float64Array.from(base.x);
  for (let i = 0; i < base.n; i++) x[i * 4 + 1] = 0;
  const train = createConvexLogisticProblem(x, base.labels, { numClasses: 4, lambda: 0.05, d: 4 });
  const rows = Array.from({ length: 20 }, (_, i) => i + 3);
  const theta = fitConvexLogistic(train, { rows }).theta;
  const p = P(train);
  const H = new Matrix(Array.from({ length: p }, (_, a) => Array.from(convexLogisticHessian(train, theta, rows).subarray(a * p, (a + 1) * p))));
  const Hinv = inverse(H);

  it('solveRows and quadraticRows equal H⁻¹v and vᵀH⁻¹v by ml-matrix for arbitrary vectors (outside the subspace too)', () => {
    const factor = convexInfluenceFactor(train, theta, rows);
    expect(Array.from(factor.activeFeatures)).toEqual([0, 2, 3, 4]);
    expect(factor.reducedSize).toBe(4 * 3);
    const rng = createRng(5);
    const count = 3;
    const V = Float64Array.from({ length: count * p }, () => rng.nextNormal());
    const solved = factor.solveRows(V, count);
    const quad = factor.quadraticRows(V, count);
    for (let r = 0; r < count; r++) {
      const v = Matrix.columnVector(Array.from(V.subarray(r * p, (r + 1) * p)));
      const expected = Hinv.mmul(v).to1DArray();
      expect(relErr(solved.subarray(r * p, (r + 1) * p), expected)).toBeLessThan(1e-10);
      const q = v.transpose().mmul(Hinv).mmul(v).get(0, 0);
      expect(Math.abs(quad[r]! - q) / q).toBeLessThan(1e-10);
    }
    // Training gradients lie in the subspace: their quadratic forms are the self-influences.
    const g = convexExampleGradients(train, theta, rows);
    const self = factor.quadraticRows(g, rows.length);
    rows.forEach((_, r) => {
      const v = Matrix.columnVector(Array.from(g.subarray(r * p, (r + 1) * p)));
      const q = v.transpose().mmul(Hinv).mmul(v).get(0, 0);
      expect(Math.abs(self[r]! - q) / q).toBeLessThan(1e-10);
    });
    expect(() => factor.solveRows(new Float64Array(p + 1), 1)).toThrow(/rows × P/);
  });

  it('the curvature operator skips the all-zero feature exactly: apply and sample equal the explicit Hessians', () => {
    const rng = createRng(8);
    const count = 2;
    const V = Float64Array.from({ length: count * p }, () => rng.nextNormal());
    const Hrows = convexLogisticHessian(train, theta, rows);
    const times = (M: Float64Array) => {
      const out = new Float64Array(count * p);
      for (let r = 0; r < count; r++) for (let a = 0; a < p; a++) out[r * p + a] = dot(M, a * p, V, r * p, p);
      return out;
    };
    const op = convexCurvatureOperator(train, theta, rows);
    expect(relErr(op.apply(V, count), times(Hrows))).toBeLessThan(1e-12);
    expect(relErr(convexHessianOperator(train, theta, rows).applyRows(V, count), times(Hrows))).toBeLessThan(1e-12);
    const draws = createRng(3);
    const batch = Array.from({ length: 6 }, () => rows[draws.nextInt(rows.length)]!);
    expect(relErr(op.sample!(V, count, 6, createRng(3)), times(convexLogisticHessian(train, theta, batch)))).toBeLessThan(1e-12);
  });
});
