import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import {
  convexAccuracy,
  convexExampleGradients,
  convexExampleLosses,
  convexExampleMargins,
  convexHessianFromProbabilities,
  convexHessianOperator,
  convexInfluenceScores,
  convexLogisticHessian,
  convexLogisticLoss,
  convexLogisticObjective,
  convexSelfInfluence,
  createConvexLogisticProblem,
  fitConvexLogistic,
  type ConvexLogisticProblem,
} from '../../../src/attribution/convex/index.js';
import { choleskyFactor, conjugateGradient } from '../../../src/attribution/linalg/index.js';
import { pearson } from '../../../src/attribution/quality/correlation.js';
import { createRng, isProvenantError } from '../../../src/core/index.js';
import { blobs as blobProblem } from './blobs.js';

const blobs = (n: number, d: number, C: number, seed: number, lambda = 0.01): ConvexLogisticProblem => blobProblem(n, d, C, seed, lambda);

function randomVector(P: number, seed: number, scale = 1): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: P }, () => scale * rng.nextNormal());
}

/** Logits x̃ᵀΘ of one row by an independent loop over the documented layout. */
function logits(problem: ConvexLogisticProblem, theta: Float64Array, i: number): number[] {
  const { d, numClasses: C, x } = problem;
  return Array.from({ length: C }, (_, c) => {
    let z = theta[d * C + c]!;
    for (let j = 0; j < d; j++) z += x[i * d + j]! * theta[j * C + c]!;
    return z;
  });
}

describe('convex reference objective', () => {
  const problem = blobs(15, 3, 4, 1, 0.1);
  const P = 4 * 4;
  const theta = randomVector(P, 2, 0.5);
  const rows = [0, 2, 3, 5, 8, 13];

  it('loss equals an independent loop: mean cross-entropy + λ/2‖θ‖², bias regularised too', () => {
    let sum = 0;
    for (const i of rows) {
      const z = logits(problem, theta, i);
      const lse = Math.log(z.reduce((a, v) => a + Math.exp(v), 0));
      sum += lse - z[problem.labels[i]!]!;
    }
    const reg = 0.5 * 0.1 * theta.reduce((a, v) => a + v * v, 0);
    expect(convexLogisticLoss(problem, theta, rows)).toBeCloseTo(sum / rows.length + reg, 12);
  });

  it('gradient matches central finite differences (all rows and a subset)', () => {
    for (const subset of [undefined, rows]) {
      const { gradient } = convexLogisticObjective(problem, theta, subset);
      const h = 1e-6;
      for (let k = 0; k < P; k++) {
        const plus = theta.slice();
        const minus = theta.slice();
        plus[k]! += h;
        minus[k]! -= h;
        const fd = (convexLogisticLoss(problem, plus, subset) - convexLogisticLoss(problem, minus, subset)) / (2 * h);
        expect(gradient[k]).toBeCloseTo(fd, 8);
      }
    }
  });

  it('Hessian-vector products match finite differences of the gradient; the explicit Hessian matches H·e_k and is symmetric', () => {
    const v = randomVector(P, 3);
    const h = 1e-6;
    const plus = theta.map((t, k) => t + h * v[k]!);
    const minus = theta.map((t, k) => t - h * v[k]!);
    const gp = convexLogisticObjective(problem, plus, rows).gradient;
    const gm = convexLogisticObjective(problem, minus, rows).gradient;
    const op = convexHessianOperator(problem, theta, rows);
    const Hv = op.apply(v);
    for (let k = 0; k < P; k++) expect(Hv[k]).toBeCloseTo((gp[k]! - gm[k]!) / (2 * h), 7);
    const H = convexLogisticHessian(problem, theta, rows);
    const diag = op.diagonal();
    for (let k = 0; k < P; k++) {
      const e = new Float64Array(P);
      e[k] = 1;
      const col = op.apply(e);
      for (let m = 0; m < P; m++) {
        expect(H[m * P + k]).toBeCloseTo(col[m]!, 13);
        expect(H[m * P + k]).toBe(H[k * P + m]);
      }
      expect(diag[k]).toBeCloseTo(H[k * P + k]!, 13);
    }
  });

  it('the explicit Hessian equals the brute-force sum at D past the kernel blocks (128, 256), not a multiple (C = 2, 3; few rows; both engines)', () => {
    // D = 451 and 402: partial edge blocks of the WebAssembly (MC = 128) and JavaScript (256) engines; |R| = 5 and 3 rows.
    for (const [d, C, rowsUsed] of [[450, 3, [0, 2, 3, 5, 8]], [401, 2, [1, 4, 6]]] as const) {
      const p = blobs(9, d, C, 40 + C, 0.05);
      const D = d + 1, Pp = D * C;
      const th = randomVector(Pp, 41, 0.05);
      const R = Uint32Array.from(rowsUsed);
      const probs = new Float64Array(R.length * C);
      // Softmax by an independent loop (θ row-major D × C, bias last).
      R.forEach((i, r) => {
        const z = Array.from({ length: C }, (_, c) => {
          let s = th[d * C + c]!;
          for (let j = 0; j < d; j++) s += p.x[i * d + j]! * th[j * C + c]!;
          return s;
        });
        const zmax = Math.max(...z);
        const e = z.map((v) => Math.exp(v - zmax));
        const sum = e.reduce((a, v) => a + v, 0);
        for (let c = 0; c < C; c++) probs[r * C + c] = e[c]! / sum;
      });
      // ∇²J = (1/|R|) Σ_r (x̃_r x̃_rᵀ) ⊗ (diag p_r − p_r p_rᵀ) + λI, entry by entry.
      const brute = new Float64Array(Pp * Pp);
      R.forEach((i, r) => {
        const xt = (j: number) => (j === d ? 1 : p.x[i * d + j]!);
        for (let j = 0; j < D; j++) {
          for (let k = 0; k < D; k++) {
            const xx = (xt(j) * xt(k)) / R.length;
            for (let c = 0; c < C; c++) {
              for (let c2 = 0; c2 < C; c2++) {
                const a = probs[r * C + c]! * ((c === c2 ? 1 : 0) - probs[r * C + c2]!);
                brute[(j * C + c) * Pp + k * C + c2]! += xx * a;
              }
            }
          }
        }
      });
      for (let k = 0; k < Pp; k++) brute[k * Pp + k]! += p.lambda;
      for (const engine of ['wasm', 'js'] as const) {
        const H = convexHessianFromProbabilities(p, R, probs, engine);
        let worst = 0;
        for (let k = 0; k < Pp * Pp; k++) worst = Math.max(worst, Math.abs(H[k]! - brute[k]!));
        expect(worst).toBeLessThan(1e-12);
        for (const [a, b] of [[0, Pp - 1], [5 * C + 1, (D - 2) * C], [400 * C, 401 * C + 1], [Pp - 2, Pp - 1]] as const) expect(H[a * Pp + b]).toBe(H[b * Pp + a]);
      }
    }
  });

  it('per-example gradients match finite differences of each row loss, and their mean + λθ is the gradient', () => {
    const G = convexExampleGradients(problem, theta);
    const h = 1e-6;
    for (const i of [0, 7]) {
      for (let k = 0; k < P; k++) {
        const plus = theta.slice();
        const minus = theta.slice();
        plus[k]! += h;
        minus[k]! -= h;
        const fd = (convexExampleLosses(problem, plus, [i])[0]! - convexExampleLosses(problem, minus, [i])[0]!) / (2 * h);
        expect(G[i * P + k]).toBeCloseTo(fd, 8);
      }
    }
    const { gradient } = convexLogisticObjective(problem, theta);
    for (let k = 0; k < P; k++) {
      let mean = 0;
      for (let i = 0; i < problem.n; i++) mean += G[i * P + k]! / problem.n;
      expect(mean + 0.1 * theta[k]!).toBeCloseTo(gradient[k]!, 13);
    }
  });

  it('margins are z_y − max_{c≠y} z_c', () => {
    const margins = convexExampleMargins(problem, theta);
    for (let i = 0; i < problem.n; i++) {
      const z = logits(problem, theta, i);
      const y = problem.labels[i]!;
      const other = Math.max(...z.filter((_, c) => c !== y));
      expect(margins[i]).toBeCloseTo(z[y]! - other, 12);
    }
  });
});

describe('solvers', () => {
  it('Cholesky and preconditioned CG solve a random SPD system like ml-matrix', () => {
    const P = 12;
    const A0 = randomVector(P * P, 4);
    const A = new Float64Array(P * P);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < P; k++) s += A0[i * P + k]! * A0[j * P + k]!;
      A[i * P + j] = s;
    }
    const b = randomVector(P, 5);
    const rows = Array.from({ length: P }, (_, i) => Array.from(A.subarray(i * P, (i + 1) * P)));
    const expected = new CholeskyDecomposition(new Matrix(rows)).solve(Matrix.columnVector(Array.from(b))).getColumn(0);
    const x = choleskyFactor(A, P).solveRows(b, 1);
    const apply = (v: Float64Array, out = new Float64Array(P)) => {
      for (let i = 0; i < P; i++) {
        let s = 0;
        for (let j = 0; j < P; j++) s += A[i * P + j]! * v[j]!;
        out[i] = s;
      }
      return out;
    };
    const diagonal = Float64Array.from({ length: P }, (_, i) => A[i * P + i]!);
    const cg = conjugateGradient({ dim: P, apply: (v) => apply(v) }, b, 1, { tolerance: 1e-13, diagonal });
    for (let i = 0; i < P; i++) {
      expect(x[i]).toBeCloseTo(expected[i]!, 8);
      expect(cg.x[i]).toBeCloseTo(expected[i]!, 8);
    }
    expect(cg.converged).toBe(true);
  });
  it('Cholesky rejects a matrix that is not positive definite', () => {
    try {
      choleskyFactor(Float64Array.from([1, 2, 2, 1]), 2);
      expect.unreachable();
    } catch (e) {
      expect(isProvenantError(e, 'ATTRIBUTION_INPUT_INVALID')).toBe(true);
    }
  });
});

describe('fitConvexLogistic', () => {
  const problem = blobs(200, 5, 3, 7, 0.01);

  it('reaches the gradient tolerance; a warm start from the full optimum needs fewer steps', () => {
    const fit = fitConvexLogistic(problem, { tolerance: 1e-11, recordPath: true });
    expect(fit.converged).toBe(true);
    expect(fit.gradientNorm).toBeLessThanOrEqual(1e-11);
    expect(fit.path!.length).toBe(fit.iterations);
    const { gradient } = convexLogisticObjective(problem, fit.theta);
    expect(Math.hypot(...gradient)).toBeLessThanOrEqual(1e-11);
    expect(convexAccuracy(problem, fit.theta)).toBeGreaterThan(0.8);
    const rows = Array.from({ length: 199 }, (_, k) => (k < 17 ? k : k + 1));
    const warm = fitConvexLogistic(problem, { rows, init: fit.theta, tolerance: 1e-11 });
    const cold = fitConvexLogistic(problem, { rows, tolerance: 1e-11 });
    expect(warm.iterations).toBeLessThan(cold.iterations);
    for (let k = 0; k < fit.theta.length; k++) expect(warm.theta[k]).toBeCloseTo(cold.theta[k]!, 9);
  });

  it('throws ATTRIBUTION_NOT_CONVERGED when the iteration budget is too small', () => {
    try {
      fitConvexLogistic(problem, { maxIterations: 1, tolerance: 1e-14 });
      expect.unreachable();
    } catch (e) {
      expect(isProvenantError(e, 'ATTRIBUTION_NOT_CONVERGED')).toBe(true);
    }
  });

  it('validates its inputs', () => {
    expect(() => createConvexLogisticProblem([[1]], [0], { numClasses: 2, lambda: 0 })).toThrow(/positive definite/);
    expect(() => createConvexLogisticProblem([[1]], [2], { numClasses: 2 })).toThrow(/not an integer in/);
    expect(() => convexLogisticLoss(problem, new Float64Array(3))).toThrow(/parameters/);
  });
});

describe('influence functions against actual leave-one-out retraining', () => {
  // λ = 0.1, n = 200: large enough that no single row has a high-leverage (strongly second-order) effect.
  const train = blobs(200, 4, 3, 11, 0.1);
  const test = blobs(6, 4, 3, 12);
  const fit = fitConvexLogistic(train, { tolerance: 1e-12 });
  const scores = convexInfluenceScores(train, fit.theta, test);
  const n = train.n;
  // e(i, t) = ℓ_t(θ₋ᵢ) − ℓ_t(θ̂), one exact retrain per row.
  const base = convexExampleLosses(test, fit.theta);
  const effects = new Float64Array(n * test.n);
  for (let i = 0; i < n; i++) {
    const rows = Array.from({ length: n - 1 }, (_, k) => (k < i ? k : k + 1));
    const loo = fitConvexLogistic(train, { rows, init: fit.theta, tolerance: 1e-12 });
    const losses = convexExampleLosses(test, loo.theta);
    for (let t = 0; t < test.n; t++) effects[i * test.n + t] = losses[t]! - base[t]!;
  }

  it('predicts LOO loss changes with Pearson ≥ 0.995 per test point', () => {
    for (let t = 0; t < test.n; t++) {
      const tau = Array.from({ length: n }, (_, i) => scores.values[i * test.n + t]!);
      const e = Array.from({ length: n }, (_, i) => effects[i * test.n + t]!);
      expect(pearson(tau, e)).toBeGreaterThan(0.995);
    }
  });

  it('matches the first-order LOO formula, scale and constant term included: e ≈ (τ + ∇ℓ_tᵀH⁻¹λθ̂)/(|R| − 1)', () => {
    // The constant term, computed with an explicit dense solve (ml-matrix), independent of the code under test.
    const P = 5 * 3;
    const H = convexLogisticHessian(train, fit.theta);
    const Hm = new Matrix(Array.from({ length: P }, (_, i) => Array.from(H.subarray(i * P, (i + 1) * P))));
    const regularGrad = Matrix.columnVector(Array.from(fit.theta, (v) => v * train.lambda));
    const shift = new CholeskyDecomposition(Hm).solve(regularGrad).getColumn(0);
    const testGrads = convexExampleGradients(test, fit.theta);
    // Least squares of (e − c_t/(|R|−1)) on τ/(|R|−1) through the origin: the slope must be 1 (the scale of τ is
    // right) and the residual small (what is left is second order).
    let sxy = 0;
    let sxx = 0;
    let see = 0;
    const pairs: Array<[number, number]> = [];
    for (let t = 0; t < test.n; t++) {
      let c = 0;
      for (let k = 0; k < P; k++) c += testGrads[t * P + k]! * shift[k]!;
      for (let i = 0; i < n; i++) {
        const predicted = scores.values[i * test.n + t]! / (n - 1);
        const actual = effects[i * test.n + t]! - c / (n - 1);
        pairs.push([predicted, actual]);
        sxy += predicted * actual;
        sxx += predicted * predicted;
        see += actual * actual;
      }
    }
    const slope = sxy / sxx;
    // Second order is O(leverage) ≈ O(P/n) = 15/200 here; measured slope 1.036.
    expect(Math.abs(slope - 1)).toBeLessThan(0.06);
    const residual = Math.sqrt(pairs.reduce((a, [p, e]) => a + (e - p) ** 2, 0) / see);
    expect(residual).toBeLessThan(0.08);
  });

  it('the CG solver agrees with the explicit one; self-influence is the diagonal of train-on-train scores', () => {
    const cg = convexInfluenceScores(train, fit.theta, test, { solver: 'cg', cgTolerance: 1e-13 });
    for (let k = 0; k < scores.values.length; k++) expect(cg.values[k]).toBeCloseTo(scores.values[k]!, 12);
    const self = convexSelfInfluence(train, fit.theta);
    const onTrain = convexInfluenceScores(train, fit.theta, train);
    for (let i = 0; i < n; i++) {
      expect(self[i]).toBeCloseTo(onTrain.values[i * n + i]!, 12);
      expect(self[i]).toBeGreaterThan(0);
    }
  });
});
