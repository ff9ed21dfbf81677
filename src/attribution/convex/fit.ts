/**
 * Training the reference to a tight gradient norm by truncated Newton (Newton–CG: Nocedal & Wright, Alg. 7.1) on the
 * exact Hessian, with an Armijo backtracking line search. Influence values are ~1e-4 and below, so loose convergence
 * (a few SGD epochs) swamps the leave-one-out signal (DESIGN.md); Newton converges quadratically, and warm-starting from
 * the full-data optimum makes leave-one-out and subset retrains a handful of steps.
 */
import { ProvenantError, createProgressReporter, resolve, type ParamTable, type ProgressCallback } from '../../core/index.js';
import { conjugateGradient } from '../linalg/index.js';
import { hessianOperatorFromProbabilities, objectiveOnRows } from './objective.js';
import { assertTheta, parameterCount, resolveRows, type ConvexLogisticProblem } from './problem.js';

/** The options of {@link fitConvexLogistic}: a misspelt name is refused with the nearest field, never ignored. */
const FIT_CONVEX_PARAMS: ParamTable = Object.freeze({
  name: 'fitConvexLogistic',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'rows', default: null, meaning: 'Train on these rows only (null: all).' },
    { name: 'init', default: null, meaning: 'Warm start θ (null: zeros).' },
    { name: 'tolerance', default: 1e-10, meaning: 'Stop when ‖∇J‖₂ ≤ tolerance.', aliases: ['tol'] },
    { name: 'maxIterations', default: 50, meaning: 'Newton iterations.', aliases: ['max_iter', 'maxIter'] },
    { name: 'maxCgIterations', default: null, meaning: 'CG iterations per Newton step (null: 10·P capped at 2000).' },
    { name: 'preconditioner', default: null, meaning: 'M⁻¹ for the Newton systems\' CG (null: Jacobi).' },
    { name: 'recordPath', default: false, meaning: 'Keep θ after every Newton step.' },
    { name: 'throwIfNotConverged', default: true, meaning: 'Throw ATTRIBUTION_NOT_CONVERGED when the tolerance is not met.' },
  ],
  inputs: ['onProgress'],
});

export interface FitConvexLogisticOptions {
  /** Train on these rows only (mean over them); default all. */
  rows?: ArrayLike<number>;
  /** Warm start (e.g. the full-data optimum when retraining without a few rows); default zeros. */
  init?: Float64Array;
  /** Stop when ‖∇J‖₂ ≤ tolerance. Default 1e-10. */
  tolerance?: number;
  /** Newton iterations. Default 50. */
  maxIterations?: number;
  /** Conjugate-gradient iterations per Newton step. Default 10·P capped at 2000. */
  maxCgIterations?: number;
  /**
   * M⁻¹ for the Newton systems' conjugate gradients (rows × P in and out) instead of Jacobi: e.g. the full-data
   * Hessian's Cholesky solve when retraining on a subset, so each Newton step takes a few iterations.
   */
  preconditioner?: (R: Float64Array, rows: number) => Float64Array;
  /** Keep a copy of θ after every Newton step (TracIn-style checkpoints along the optimisation path). */
  recordPath?: boolean;
  /** Throw `ATTRIBUTION_NOT_CONVERGED` when the tolerance is not met. Default true. */
  throwIfNotConverged?: boolean;
  onProgress?: ProgressCallback;
}

export interface ConvexLogisticFit {
  theta: Float64Array;
  /** Final objective J_R(θ). */
  value: number;
  gradientNorm: number;
  iterations: number;
  /** Hessian-vector products spent in conjugate gradients. */
  cgIterations: number;
  converged: boolean;
  /** θ after each Newton step when `recordPath` (the initial point excluded). */
  path?: Float64Array[];
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k]! * v[k]!;
  return Math.sqrt(s);
}

/**
 * Minimises J_R to ‖∇J_R‖ ≤ tolerance.
 *
 * @example
 * ```ts
 * import { fitConvexLogistic, type ConvexLogisticProblem } from 'provenant/attribution';
 * declare const problem: ConvexLogisticProblem;
 * const full = fitConvexLogistic(problem); // { theta, value, gradientNorm, … }
 * const allBut7 = Array.from({ length: problem.n }, (_, i) => i).filter((i) => i !== 7);
 * const withoutRow7 = fitConvexLogistic(problem, { rows: allBut7, init: full.theta }); // warm start: a few Newton steps
 * ```
 */
export function fitConvexLogistic(problem: ConvexLogisticProblem, options: FitConvexLogisticOptions = {}): ConvexLogisticFit {
  resolve(FIT_CONVEX_PARAMS, options);
  const R = resolveRows(problem, options.rows);
  const P = parameterCount(problem);
  const tolerance = options.tolerance ?? 1e-10;
  const maxIterations = options.maxIterations ?? 50;
  const maxCg = options.maxCgIterations ?? Math.min(10 * P, 2000);
  let theta = new Float64Array(P);
  if (options.init) {
    assertTheta(problem, options.init, 'init');
    theta = options.init.slice();
  }
  const path: Float64Array[] | undefined = options.recordPath ? [] : undefined;
  const progress = createProgressReporter('convex-fit', undefined, options.onProgress);
  let current = objectiveOnRows(problem, theta, R);
  let gNorm = norm(current.gradient);
  let iterations = 0;
  let cgIterations = 0;
  while (gNorm > tolerance && iterations < maxIterations) {
    const H = hessianOperatorFromProbabilities(problem, R, current.probabilities);
    // Forcing sequence η = min(0.5, √‖g‖) gives superlinear convergence (Nocedal & Wright, Thm. 7.2); the floor keeps the
    // last steps solved well below the target gradient norm.
    const eta = Math.max(Math.min(0.5, Math.sqrt(gNorm)), (0.1 * tolerance) / gNorm, 1e-14);
    const negGrad = current.gradient.map((g) => -g);
    const cg = conjugateGradient({ dim: P, apply: (v) => H.apply(v) }, negGrad, 1, {
      tolerance: eta,
      maxIterations: maxCg,
      diagonal: options.preconditioner ? undefined : H.diagonal(),
      preconditioner: options.preconditioner,
      throwIfNotConverged: false,
    });
    cgIterations += cg.iterations;
    const direction = cg.x;
    let slope = 0;
    for (let k = 0; k < P; k++) slope += current.gradient[k]! * direction[k]!;
    let step = 1;
    let next = null as ReturnType<typeof objectiveOnRows> | null;
    let candidate = theta;
    for (let tries = 0; tries < 40; tries++) {
      candidate = theta.map((t, k) => t + step * direction[k]!);
      next = objectiveOnRows(problem, candidate, R);
      // Armijo condition, with slack for rounding in J near the optimum (where J changes by less than its ulp).
      if (next.value <= current.value + 1e-4 * step * slope + 1e-15 * Math.abs(current.value)) break;
      step *= 0.5;
      next = null;
    }
    if (!next) break;
    theta = candidate;
    current = next;
    gNorm = norm(current.gradient);
    iterations++;
    path?.push(theta.slice());
    progress.tick(iterations, { gradientNorm: gNorm, value: current.value, cgIterations: cg.iterations });
  }
  const converged = gNorm <= tolerance;
  if (!converged && (options.throwIfNotConverged ?? true)) {
    throw new ProvenantError('ATTRIBUTION_NOT_CONVERGED', `The convex reference stopped at ‖∇J‖ = ${gNorm.toExponential(2)} after ${iterations} Newton steps (tolerance ${tolerance}).`, {
      details: 'Raise maxIterations or lambda, or loosen the tolerance (at the cost of leave-one-out fidelity).',
      data: { gradientNorm: gNorm, iterations, tolerance },
    });
  }
  return { theta, value: current.value, gradientNorm: gNorm, iterations, cgIterations, converged, path };
}
