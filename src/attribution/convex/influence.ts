/**
 * Influence functions on the exact reference (Koh & Liang 2017, Eq. 2–3):
 *   removing row i moves the optimum by  Δθ ≈ (1/|R|) H⁻¹ ∇ℓ_i(θ̂),  so the loss on test point t rises by τ(i, t)/|R| with
 *   τ(i, t) = ∇ℓ_t(θ̂)ᵀ H⁻¹ ∇ℓ_i(θ̂),
 * H the exact Hessian of J_R (λI and the 1/|R| included). τ > 0: row i is a proponent of t, and τ = |R|·ΔL_t(removal) to
 * first order (../conventions.ts). Exactly removing a row also reweights the mean from 1/|R| to 1/(|R| − 1): then
 * ΔL_t ≈ (τ(i, t) + ∇ℓ_tᵀH⁻¹λθ̂)/(|R| − 1), a second term the same for every i, which no per-test-point correlation sees.
 *
 * Solvers: 'explicit' factors H once by Cholesky (P up to a few thousand: memory P², time P³/3); 'cg' solves H v_t = ∇ℓ_t
 * per test point by Jacobi-preconditioned conjugate gradients on exact Hessian-vector products (any P).
 */
import { ProvenantError, createProgressReporter, type ProgressCallback } from '../../core/index.js';
import type { ScoreMatrix } from '../quality/score-matrix.js';
import { projectRow } from './kernels.js';
import { choleskyInPlace, choleskySolve, conjugateGradient, forwardSubstitute } from './linear-algebra.js';
import { convexExampleResiduals, convexHessianOperator, convexLogisticHessian } from './objective.js';
import { assertTheta, parameterCount, resolveRows, type ConvexLogisticProblem } from './problem.js';

export type ConvexInfluenceSolver = 'explicit' | 'cg';

export interface ConvexInfluenceOptions {
  /** The rows θ̂ was fitted on (the Hessian's rows); default all. Scores are returned for every row of the problem. */
  rows?: ArrayLike<number>;
  /** Default 'explicit' when P ≤ 3000, else 'cg'. */
  solver?: ConvexInfluenceSolver;
  /** Relative residual for 'cg'. Default 1e-10. */
  cgTolerance?: number;
  onProgress?: ProgressCallback;
}

function chooseSolver(P: number, solver?: ConvexInfluenceSolver): ConvexInfluenceSolver {
  return solver ?? (P <= 3000 ? 'explicit' : 'cg');
}

/** Cholesky factor of the exact Hessian at θ̂ (row-major lower triangle), for repeated explicit solves. */
export function convexHessianCholesky(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): Float64Array {
  return choleskyInPlace(convexLogisticHessian(problem, theta, rows), parameterCount(problem));
}

/** ∇ℓ for the given rows of `problem` as dense vectors (|rows| × P). */
function gradientsOf(problem: ConvexLogisticProblem, theta: Float64Array): Float64Array {
  const { x, d, numClasses: C, n } = problem;
  const P = (d + 1) * C;
  const residuals = convexExampleResiduals(problem, theta);
  const out = new Float64Array(n * P);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const xij = x[i * d + j]!;
      if (xij === 0) continue;
      for (let c = 0; c < C; c++) out[i * P + j * C + c] = xij * residuals[i * C + c]!;
    }
    for (let c = 0; c < C; c++) out[i * P + d * C + c] = residuals[i * C + c]!;
  }
  return out;
}

/**
 * The influence score matrix τ(i, t) for every training row i and test point t (nTrain × nTest, row-major; see
 * ../quality/score-matrix.ts). `test` holds the test features and labels (its lambda is ignored).
 *
 * @example
 * const fit = fitConvexLogistic(train);
 * const scores = convexInfluenceScores(train, fit.theta, test);
 * linearDatamodelingScore(scores, truth);
 */
export function convexInfluenceScores(
  train: ConvexLogisticProblem,
  theta: Float64Array,
  test: ConvexLogisticProblem,
  options: ConvexInfluenceOptions = {},
): ScoreMatrix {
  assertTheta(train, theta);
  if (test.d !== train.d || test.numClasses !== train.numClasses) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Test data has d = ${test.d}, C = ${test.numClasses}; the model has d = ${train.d}, C = ${train.numClasses}.`);
  }
  const R = resolveRows(train, options.rows);
  const P = parameterCount(train);
  const C = train.numClasses;
  const solver = chooseSolver(P, options.solver);
  const progress = createProgressReporter('convex-influence', test.n, options.onProgress);
  const testGrads = gradientsOf(test, theta);
  // v_t = H⁻¹ ∇ℓ_t, one solve per test point.
  const solved = new Float64Array(test.n * P);
  if (solver === 'explicit') {
    const L = convexHessianCholesky(train, theta, R);
    for (let t = 0; t < test.n; t++) {
      solved.set(choleskySolve(L, P, testGrads.subarray(t * P, (t + 1) * P)), t * P);
      progress.tick(t + 1);
    }
  } else {
    const H = convexHessianOperator(train, theta, R);
    const diagonal = H.diagonal();
    for (let t = 0; t < test.n; t++) {
      const cg = conjugateGradient((v, out) => H.apply(v, out), testGrads.slice(t * P, (t + 1) * P), {
        tolerance: options.cgTolerance ?? 1e-10,
        diagonal,
      });
      solved.set(cg.x, t * P);
      progress.tick(t + 1);
    }
  }
  // τ(i, t) = Σ_c r_{i,c} · (x̃_iᵀ V_t)_c, using ∇ℓ_i = x̃_i ⊗ r_i: n·(d + 1)·C per test point, no n × P matrix.
  const residuals = convexExampleResiduals(train, theta);
  const values = new Float64Array(train.n * test.n);
  const u = new Float64Array(C);
  for (let t = 0; t < test.n; t++) {
    const v = solved.subarray(t * P, (t + 1) * P);
    for (let i = 0; i < train.n; i++) {
      projectRow(train, i, v, u);
      let s = 0;
      for (let c = 0; c < C; c++) s += residuals[i * C + c]! * u[c]!;
      values[i * test.n + t] = s;
    }
  }
  return { values, nTrain: train.n, nTest: test.n };
}

/**
 * Self-influence ∇ℓ_iᵀ H⁻¹ ∇ℓ_i of every training row — how much a row's own loss depends on its presence; high
 * for mislabelled and atypical rows (Koh & Liang 2017, §5.4). Explicit solver only (one Cholesky, P²/2 per row).
 */
export function convexSelfInfluence(problem: ConvexLogisticProblem, theta: Float64Array, options: Omit<ConvexInfluenceOptions, 'solver' | 'cgTolerance'> = {}): Float64Array {
  assertTheta(problem, theta);
  const R = resolveRows(problem, options.rows);
  const P = parameterCount(problem);
  if (P > 6000) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Self-influence needs the explicit Hessian; P = ${P} is too large (limit 6000).`, {
      details: 'Reduce the feature dimension (PCA or a random projection) first.',
    });
  }
  const L = convexHessianCholesky(problem, theta, R);
  const grads = gradientsOf(problem, theta);
  const out = new Float64Array(problem.n);
  const progress = createProgressReporter('convex-self-influence', problem.n, options.onProgress);
  for (let i = 0; i < problem.n; i++) {
    const y = forwardSubstitute(L, P, grads.slice(i * P, (i + 1) * P));
    let s = 0;
    for (let k = 0; k < P; k++) s += y[k]! * y[k]!;
    out[i] = s;
    progress.tick(i + 1);
  }
  return out;
}
