/**
 * An exact float64 multinomial logistic regression: the convex reference against which attribution is measured.
 *
 * Objective on training rows R (all rows by default):
 *   J_R(θ) = (1/|R|) Σ_{i∈R} ℓ_i(θ) + (λ/2)·‖θ‖²,   ℓ_i = −log softmax(x̃_iᵀ Θ)_{y_i},   x̃_i = [x_i, 1].
 * λ regularises *every* parameter, the bias included: softmax is invariant to adding one vector to every class, so an
 * unregularised bias leaves the Hessian singular (DESIGN.md, numerical traps). The Hessian carries the same 1/|R|.
 *
 * Parameter layout: θ is a Float64Array of length P = (d + 1)·C, the row-major (d + 1) × C matrix Θ whose last row is
 * the bias: θ[j·C + c] = W[j][c] for j < d, θ[d·C + c] = b[c] (tfjs's [in, out] kernel layout, bias appended).
 */
import { ProvenantError, resolve, type ParamTable } from '../../core/index.js';

export interface ConvexLogisticProblem {
  /** Row-major n × d features. */
  x: Float64Array;
  /** n labels in [0, numClasses). */
  labels: Int32Array;
  n: number;
  d: number;
  numClasses: number;
  /** L2 strength λ on every parameter (bias included), beside the mean loss. */
  lambda: number;
}

/** The options of {@link createConvexLogisticProblem}: a misspelt name is refused with the nearest field. */
const CONVEX_PROBLEM_PARAMS: ParamTable = Object.freeze({
  name: 'createConvexLogisticProblem',
  code: 'ATTRIBUTION_INPUT_INVALID',
  fields: [
    { name: 'lambda', default: 1e-3, meaning: 'L2 coefficient λ > 0 (strict convexity needs it).', aliases: ['l2', 'weightDecay'] },
    { name: 'd', default: null, meaning: 'Feature count when x is a flat array.', aliases: ['features', 'dim'] },
  ],
  inputs: ['numClasses'],
});

export interface CreateConvexLogisticProblemOptions {
  numClasses: number;
  /** λ > 0 (strict convexity needs it). Default 1e-3. */
  lambda?: number;
  /** Feature count d when `x` is a flat array. */
  d?: number;
}

/**
 * Validates and packs a data set for the float64 reference. `x` is rows (number[][]) or a flat row-major array with
 * `options.d`. Values are copied into a Float64Array.
 *
 * @example
 * ```ts
 * import { createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0]], [0, 1], { numClasses: 2, lambda: 1e-2 });
 * const fit = fitConvexLogistic(problem);
 * ```
 */
export function createConvexLogisticProblem(
  x: ArrayLike<number> | ArrayLike<ArrayLike<number>>,
  labels: ArrayLike<number>,
  options: CreateConvexLogisticProblemOptions,
): ConvexLogisticProblem {
  resolve(CONVEX_PROBLEM_PARAMS, options);
  const { numClasses } = options;
  const lambda = options.lambda ?? 1e-3;
  const n = labels.length;
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `numClasses must be an integer ≥ 2, got ${numClasses}.`);
  }
  if (!(lambda > 0) || !Number.isFinite(lambda)) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `lambda must be a positive finite number (the Hessian must be positive definite), got ${lambda}.`);
  }
  if (n < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'The convex reference needs at least one row.');
  let flat: Float64Array;
  let d: number;
  const first = (x as ArrayLike<unknown>)[0];
  if (typeof first === 'object' && first !== null) {
    const rows = x as ArrayLike<ArrayLike<number>>;
    if (rows.length !== n) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${rows.length} feature rows but ${n} labels.`);
    d = rows[0]!.length;
    flat = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      if (rows[i]!.length !== d) throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Feature row ${i} has ${rows[i]!.length} values, row 0 has ${d}.`);
      flat.set(rows[i]!, i * d);
    }
  } else {
    d = options.d ?? (x as ArrayLike<number>).length / n;
    if (!Number.isInteger(d) || (x as ArrayLike<number>).length !== n * d) {
      throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `A flat feature array needs n × d values; got ${(x as ArrayLike<number>).length} for n = ${n}, d = ${options.d}.`);
    }
    flat = Float64Array.from(x as ArrayLike<number>);
  }
  if (d < 1) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'Features must have at least one column.');
  const bad = flat.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Feature value non-finite at row ${Math.floor(bad / d)}, column ${bad % d}.`);
  }
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `Label of row ${i} is ${label}, not an integer in [0, ${numClasses}).`, { data: { row: i, label } });
    }
    y[i] = label;
  }
  return { x: flat, labels: y, n, d, numClasses, lambda };
}

/**
 * The parameter count P = (d + 1)·C of the float64 reference (weights plus a bias row, C classes). Exported as
 * `convexParameterCount`.
 *
 * @example
 * ```ts
 * import { convexParameterCount, createConvexLogisticProblem } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1], [1, 0], [1, 1]], [0, 1, 1], { numClasses: 2 });
 * convexParameterCount(problem); // 6 = (2 + 1) · 2
 * ```
 */
export function parameterCount(problem: ConvexLogisticProblem): number {
  return (problem.d + 1) * problem.numClasses;
}

/** 0..n-1, or the given rows after checking them. */
export function resolveRows(problem: ConvexLogisticProblem, rows?: ArrayLike<number>): Uint32Array {
  if (!rows) return Uint32Array.from({ length: problem.n }, (_, i) => i);
  const out = Uint32Array.from(rows);
  if (out.length === 0) throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', 'The training row subset is empty.');
  for (let k = 0; k < out.length; k++) {
    if (out[k]! >= problem.n || rows[k] !== out[k]) {
      throw new ProvenantError('ATTRIBUTION_INPUT_INVALID', `rows[${k}] = ${rows[k]} is not a row index in [0, ${problem.n}).`);
    }
  }
  return out;
}

/**
 * The features that are nonzero on some row of R, then the bias (index d): the columns of x̃ that carry data. A feature
 * that is zero on every row of R contributes nothing to any product over those rows, and its coordinates of the Hessian
 * are λI (./influence-factor.ts), so products and factorisations may skip it exactly.
 */
export function activeFeatures(problem: ConvexLogisticProblem, R: ArrayLike<number>): Uint32Array {
  const { x, d } = problem;
  const isActive = new Uint8Array(d + 1);
  isActive[d] = 1;
  for (let r = 0; r < R.length; r++) {
    const xo = R[r]! * d;
    for (let j = 0; j < d; j++) if (x[xo + j] !== 0) isActive[j] = 1;
  }
  return Uint32Array.from({ length: d + 1 }, (_, j) => j).filter((j) => isActive[j] === 1);
}

export function assertTheta(problem: ConvexLogisticProblem, theta: Float64Array, name = 'theta'): void {
  const P = parameterCount(problem);
  if (!(theta instanceof Float64Array) || theta.length !== P) {
    throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `${name} must be a Float64Array of (d + 1)·C = ${P} parameters, got ${theta instanceof Float64Array ? `${theta.length}` : `${Array.isArray(theta) ? `an Array of ${(theta as unknown[]).length}` : typeof theta}`}.`);
  }
}
