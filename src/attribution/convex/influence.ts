/**
 * Influence functions on the exact reference (Koh & Liang 2017, Eq. 2–3):
 *   removing row i moves the optimum by  Δθ ≈ (1/|R|) H⁻¹ ∇ℓ_i(θ̂),  so the loss on test point t rises by τ(i, t)/|R| with
 *   τ(i, t) = ∇ℓ_t(θ̂)ᵀ H⁻¹ ∇ℓ_i(θ̂),
 * H the exact Hessian of J_R (λI and the 1/|R| included). τ > 0: row i is a proponent of t, and τ = |R|·ΔL_t(removal) to
 * first order (../conventions.ts). Exactly removing a row also reweights the mean from 1/|R| to 1/(|R| − 1): then
 * ΔL_t ≈ (τ(i, t) + ∇ℓ_tᵀH⁻¹λθ̂)/(|R| − 1), a second term the same for every i, which no per-test-point correlation sees.
 *
 * Solvers (./solver-choice.ts picks one by estimated cost and says why): 'explicit' factors H once by the blocked float64
 * Cholesky (../linalg) — on the subspace the gradients live in (./influence-factor.ts: the data-free directions split off
 * exactly) — and solves every query against it; 'cg' solves H v_t = ∇ℓ_t per test point by Jacobi-preconditioned
 * conjugate gradients on exact Hessian-vector products (no P² memory).
 */
import { ProvenantError, createProgressReporter, resolve, type ParamTable, type ProgressCallback } from '../../core/index.js';
import type { ScoreMatrix } from '../quality/score-matrix.js';
import { choleskyFactor, conjugateGradient, createDenseWorkspace, gemmStrassen, type CholeskyFactor, type DenseEngine } from '../linalg/index.js';
import { convexExampleResiduals, convexHessianOperator, convexLogisticHessian } from './objective.js';
import { convexInfluenceFactor } from './influence-factor.js';
import { assertTheta, parameterCount, resolveRows, type ConvexLogisticProblem } from './problem.js';
import { CONVEX_SOLVER_FIELDS, chooseConvexSolver, type ConvexSolverChoice, type ConvexSolverChoiceOptions } from './solver-choice.js';

/** Defaults of {@link ConvexInfluenceOptions}. */
export const CONVEX_INFLUENCE_DEFAULTS = {
  /** Relative residual for 'cg': 1e-10, so the solve error stays far below the leave-one-out signal (~1e-4). */
  cgTolerance: 1e-10,
} as const;

/** The options of {@link convexInfluenceScores} and {@link convexSelfInfluence}: a misspelt name is refused with the nearest field. */
export const CONVEX_INFLUENCE_PARAMS: ParamTable = Object.freeze({
  name: 'convexInfluence',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    ...CONVEX_SOLVER_FIELDS,
    { name: 'rows', default: null, meaning: 'The rows θ̂ was fitted on (the Hessian\'s rows; null: all).' },
    { name: 'cgTolerance', default: CONVEX_INFLUENCE_DEFAULTS.cgTolerance, meaning: 'Relative residual at which CG stops.' },
    { name: 'engine', default: null, meaning: 'Dense engine for the explicit route: wasm or js (null: wasm where available).' },
  ],
  inputs: ['onProgress'],
});

/** The solver-choice options out of the influence options (the rest are not the cost model's). */
const solverOptions = (o: ConvexInfluenceOptions): ConvexSolverChoiceOptions => ({ solver: o.solver, cgIterations: o.cgIterations, kernelSpeedup: o.kernelSpeedup, maxExplicitBytes: o.maxExplicitBytes });

export interface ConvexInfluenceOptions extends ConvexSolverChoiceOptions {
  /** The rows θ̂ was fitted on (the Hessian's rows); default all. Scores are returned for every row of the problem. */
  rows?: ArrayLike<number>;
  /** Default {@link CONVEX_INFLUENCE_DEFAULTS}.cgTolerance. */
  cgTolerance?: number;
  /** Dense engine for the explicit route: 'wasm' (default where available) or 'js'. */
  engine?: DenseEngine;
  onProgress?: ProgressCallback;
}

/** A score matrix with the solver route that produced it (for the audit record). */
export interface ConvexInfluenceScores extends ScoreMatrix {
  solver: ConvexSolverChoice & { cgIterationsUsed?: number };
}

/**
 * The Cholesky factor of the exact Hessian H = ∇²J_R at θ̂ (P × P, λI included), for repeated explicit influence solves
 * H⁻¹∇ℓ (Koh & Liang 2017, Eq. 2–3) against one factorisation. `engine` picks the dense kernel ('wasm' where available,
 * else 'js').
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length; `ATTRIBUTION_INPUT_INVALID` for bad
 *   `rows`; the factorisation's error when H is not positive definite (it is for λ > 0).
 * @example
 * ```ts
 * import { convexExampleGradients, convexHessianCholesky, convexParameterCount, createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 1, 0], { numClasses: 2, lambda: 1e-2 });
 * const { theta } = fitConvexLogistic(problem);
 * const factor = convexHessianCholesky(problem, theta);
 * const hInvGrads = factor.solveRows(convexExampleGradients(problem, theta), problem.n); // n × P: row i = H⁻¹∇ℓ_i
 * ```
 */
export function convexHessianCholesky(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>, engine?: DenseEngine): CholeskyFactor {
  return choleskyFactor(convexLogisticHessian(problem, theta, rows), parameterCount(problem), { engine });
}

/** ∇ℓ for rows [start, end) of `problem` as dense vectors ((end − start) × P), from precomputed residuals. */
function gradientsOf(problem: ConvexLogisticProblem, residuals: Float64Array, start = 0, end = problem.n): Float64Array {
  const { x, d, numClasses: C } = problem;
  const P = (d + 1) * C;
  const out = new Float64Array((end - start) * P);
  for (let i = start; i < end; i++) {
    const o = (i - start) * P;
    for (let j = 0; j < d; j++) {
      const xij = x[i * d + j]!;
      if (xij === 0) continue;
      for (let c = 0; c < C; c++) out[o + j * C + c] = xij * residuals[i * C + c]!;
    }
    for (let c = 0; c < C; c++) out[o + d * C + c] = residuals[i * C + c]!;
  }
  return out;
}

/** v_t = H⁻¹ ∇ℓ_t for every row of `grads` (q × P) by the chosen route; returns the solutions and CG's iteration count. */
function solveQueries(
  train: ConvexLogisticProblem,
  theta: Float64Array,
  R: Uint32Array,
  grads: Float64Array,
  q: number,
  choice: ConvexSolverChoice,
  options: ConvexInfluenceOptions,
  progress: { tick(done: number): void },
): { solved: Float64Array; iterations?: number } {
  const P = parameterCount(train);
  if (choice.solver === 'explicit') {
    const solved = convexInfluenceFactor(train, theta, R, options.engine).solveRows(grads, q);
    progress.tick(q);
    return { solved };
  }
  const H = convexHessianOperator(train, theta, R);
  const diagonal = H.diagonal();
  const op = { dim: P, apply: (V: Float64Array, rows: number) => applyRows(H, V, rows, P) };
  const solved = new Float64Array(q * P);
  let iterations = 0;
  // One query at a time: the rows would share operator passes, but each pass is a loop over the data per row anyway.
  for (let t = 0; t < q; t++) {
    const cg = conjugateGradient(op, grads.subarray(t * P, (t + 1) * P), 1, { tolerance: options.cgTolerance ?? CONVEX_INFLUENCE_DEFAULTS.cgTolerance, diagonal });
    solved.set(cg.x, t * P);
    iterations = Math.max(iterations, cg.iterations);
    progress.tick(t + 1);
  }
  return { solved, iterations };
}

function applyRows(H: { apply(v: Float64Array, out?: Float64Array): Float64Array }, V: Float64Array, rows: number, P: number): Float64Array {
  const out = new Float64Array(rows * P);
  for (let r = 0; r < rows; r++) H.apply(V.subarray(r * P, (r + 1) * P), out.subarray(r * P, (r + 1) * P));
  return out;
}

/**
 * Test points per product: bounds the |R| × (chunk·C) intermediate (5,000 × 2,250 float64 = 90 MB at raw-pixel MNIST) while
 * keeping the product wide enough for Strassen–Winograd (../linalg/strassen.ts) where |R| and D reach its crossover.
 */
const SCORE_CHUNK = 250;

/**
 * Whether every residual row sums to zero to rounding (|Σ_c r_ic| ≤ 2C·u·Σ_c |r_ic|), as softmax residuals p − e_y do:
 * then the last class's column can be folded into the others (see {@link convexScoresFromSolutions}) at an error no
 * larger than the rounding the sum itself carries.
 */
function residualRowsSumToZero(residuals: Float64Array, n: number, C: number): boolean {
  const tol = 2 * C * 2 ** -53;
  for (let i = 0; i < n; i++) {
    let s = 0, a = 0;
    for (let c = 0; c < C; c++) {
      s += residuals[i * C + c]!;
      a += Math.abs(residuals[i * C + c]!);
    }
    if (Math.abs(s) > tol * a) return false;
  }
  return true;
}

/**
 * τ(i, t) = Σ_c r_{i,c} · (x̃_iᵀ V_t)_c for all rows i and solved queries V_t ((d + 1) × C each), using ∇ℓ_i = x̃_i ⊗ r_i:
 * per chunk of test points one product X̃ · Wᵀ on the dense kernel (Strassen–Winograd when large), W's rows the (t, c)
 * columns of V — no n × P matrix. When every residual row sums to zero (softmax residuals p_i − e_{y_i}: Σ_c p_ic = 1),
 * τ(i, t) = Σ_{c<C−1} r_{i,c} · x̃_iᵀ(V_t[:, c] − V_t[:, C−1]) needs only C − 1 columns per test point: 1/C of the
 * product's flops saved, exactly in exact arithmetic; residuals that do not sum to zero take all C columns.
 * `residuals` are p_i − e_{y_i} of every training row (n × C); `solved` holds q solutions (q × P); returns n × q.
 *
 * @example
 * ```ts
 * import { convexExampleResiduals, convexHessianCholesky, convexScoresFromSolutions, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const train: ConvexLogisticProblem;
 * declare const theta: Float64Array;
 * declare const testGradients: Float64Array; // q × P, row-major
 * declare const q: number;
 * const V = convexHessianCholesky(train, theta).solveRows(testGradients, q);
 * const tau = convexScoresFromSolutions(train, convexExampleResiduals(train, theta), V, q); // n × q scores
 * ```
 */
export function convexScoresFromSolutions(train: ConvexLogisticProblem, residuals: Float64Array, solved: Float64Array, q: number, engine?: DenseEngine): Float64Array {
  const { x, d, numClasses: C, n } = train;
  const D = d + 1;
  const P = D * C;
  // Columns per test point: C − 1 when the last class folds into the others.
  const folded = C > 1 && residualRowsSumToZero(residuals, n, C);
  const K = folded ? C - 1 : C;
  const chunk = Math.min(SCORE_CHUNK, q);
  const ws = createDenseWorkspace(n * D + chunk * K * D + n * chunk * K + 8, engine);
  const xa = ws.alloc(n * D);
  const w = ws.alloc(chunk * K * D);
  const out = ws.alloc(n * chunk * K);
  {
    const h = ws.heap();
    for (let i = 0; i < n; i++) {
      h.set(x.subarray(i * d, (i + 1) * d), xa + i * D);
      h[xa + i * D + d] = 1;
    }
  }
  const values = new Float64Array(n * q);
  for (let t0 = 0; t0 < q; t0 += chunk) {
    const m = Math.min(chunk, q - t0);
    let h = ws.heap();
    for (let t = 0; t < m; t++) {
      const v = (t0 + t) * P;
      for (let c = 0; c < K; c++) {
        const row = w + (t * K + c) * D;
        if (folded) for (let j = 0; j < D; j++) h[row + j] = solved[v + j * C + c]! - solved[v + j * C + C - 1]!;
        else for (let j = 0; j < D; j++) h[row + j] = solved[v + j * C + c]!;
      }
    }
    h.fill(0, out, out + n * m * K);
    gemmStrassen(ws, n, m * K, D, 1, xa, D, 1, w, D, 1, out, m * K);
    h = ws.heap();
    for (let i = 0; i < n; i++) {
      const o = out + i * m * K;
      for (let t = 0; t < m; t++) {
        let s = 0;
        for (let c = 0; c < K; c++) s += residuals[i * C + c]! * h[o + t * K + c]!;
        values[i * q + t0 + t] = s;
      }
    }
  }
  return values;
}

/**
 * The influence score matrix τ(i, t) for every training row i and test point t (nTrain × nTest, row-major; see
 * ../quality/score-matrix.ts), with the solver route taken and why. `test` holds the test features and labels (its
 * lambda is ignored).
 *
 * @example
 * ```ts
 * import { convexInfluenceScores, fitConvexLogistic, linearDatamodelingScore, type ConvexLogisticProblem, type LdsGroundTruth } from 'provenant/attribution';
 * declare const train: ConvexLogisticProblem;
 * declare const test: ConvexLogisticProblem;
 * declare const truth: LdsGroundTruth;
 * const fit = fitConvexLogistic(train);
 * const scores = convexInfluenceScores(train, fit.theta, test);
 * scores.solver.reason; // e.g. "500 queries amortise the factorisation: …"
 * linearDatamodelingScore(scores, truth);
 * ```
 */
export function convexInfluenceScores(
  train: ConvexLogisticProblem,
  theta: Float64Array,
  test: ConvexLogisticProblem,
  options: ConvexInfluenceOptions = {},
): ConvexInfluenceScores {
  resolve(CONVEX_INFLUENCE_PARAMS, options);
  assertTheta(train, theta);
  if (test.d !== train.d || test.numClasses !== train.numClasses) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Test data has d = ${test.d}, C = ${test.numClasses}; the model has d = ${train.d}, C = ${train.numClasses}.`);
  }
  const R = resolveRows(train, options.rows);
  const choice = chooseConvexSolver({ d: train.d, numClasses: train.numClasses, trainingRows: R.length, queries: test.n }, solverOptions(options));
  const progress = createProgressReporter('convex-influence', test.n, options.onProgress);
  const testGrads = gradientsOf(test, convexExampleResiduals(test, theta));
  const { solved, iterations } = solveQueries(train, theta, R, testGrads, test.n, choice, options, progress);
  const values = convexScoresFromSolutions(train, convexExampleResiduals(train, theta), solved, test.n, options.engine);
  return { values, nTrain: train.n, nTest: test.n, solver: iterations === undefined ? choice : { ...choice, cgIterationsUsed: iterations } };
}

/** Training rows per forward-solve batch in self-influence: bounds the batch × P gradient block. */
const SELF_CHUNK = 512;

/**
 * Self-influence ∇ℓ_iᵀ H⁻¹ ∇ℓ_i of every training row — how much a row's own loss depends on its presence; high for
 * mislabelled and atypical rows (Koh & Liang 2017, §5.4). At any P the memory holds: by the explicit route it is
 * ‖L'⁻¹Tᵀ∇ℓ_i‖² on the reduced factor of ./influence-factor.ts (one forward solve per row); when the P² Hessian exceeds
 * the budget, by CG per row.
 *
 * @example
 * ```ts
 * import { convexSelfInfluence, fitConvexLogistic, mislabelAuc, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const train: ConvexLogisticProblem;
 * declare const flipped: Uint32Array; // indices of the rows whose labels were flipped
 * const fit = fitConvexLogistic(train);
 * const self = convexSelfInfluence(train, fit.theta); // Float64Array, one score per training row
 * mislabelAuc(self, flipped);
 * ```
 */
export function convexSelfInfluence(
  problem: ConvexLogisticProblem,
  theta: Float64Array,
  options: Omit<ConvexInfluenceOptions, 'onProgress'> & { onProgress?: ProgressCallback } = {},
): Float64Array {
  resolve(CONVEX_INFLUENCE_PARAMS, options);
  assertTheta(problem, theta);
  const R = resolveRows(problem, options.rows);
  const P = parameterCount(problem);
  const choice = chooseConvexSolver({ d: problem.d, numClasses: problem.numClasses, trainingRows: R.length, queries: problem.n }, solverOptions(options));
  const residuals = convexExampleResiduals(problem, theta);
  const out = new Float64Array(problem.n);
  const progress = createProgressReporter('convex-self-influence', problem.n, options.onProgress);
  const factor = choice.solver === 'explicit' ? convexInfluenceFactor(problem, theta, R, options.engine) : null;
  for (let s = 0; s < problem.n; s += SELF_CHUNK) {
    const e = Math.min(problem.n, s + SELF_CHUNK);
    const grads = gradientsOf(problem, residuals, s, e);
    if (factor) {
      out.set(factor.quadraticRows(grads, e - s), s);
    } else {
      const { solved } = solveQueries(problem, theta, R, grads, e - s, choice, options, { tick: () => undefined });
      for (let i = s; i < e; i++) {
        let v = 0;
        for (let k = (i - s) * P; k < (i - s + 1) * P; k++) v += solved[k]! * grads[k]!;
        out[i] = v;
      }
    }
    progress.tick(e);
  }
  return out;
}
