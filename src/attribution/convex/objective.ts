/**
 * Value, gradient, Hessian-vector product and explicit Hessian of the reference objective (see problem.ts):
 *   ∇J_R = (1/|R|) Σ_i x̃_i ⊗ (p_i − e_{y_i}) + λθ
 *   ∇²J_R = (1/|R|) Σ_i (x̃_i x̃_iᵀ) ⊗ (diag p_i − p_i p_iᵀ) + λI
 */
import { accumulateOuter, forwardRows, projectRow } from './kernels.js';
import { probabilitiesOnRows } from './outputs.js';
import { assertTheta, parameterCount, resolveRows, type ConvexLogisticProblem } from './problem.js';

export interface ConvexObjective {
  value: number;
  gradient: Float64Array;
  /** Softmax probabilities of the rows (|R| × C), reused by Hessian products at the same θ. */
  probabilities: Float64Array;
}

function l2(theta: Float64Array): number {
  let s = 0;
  for (let k = 0; k < theta.length; k++) s += theta[k]! * theta[k]!;
  return s;
}

/** J_R(θ). */
export function convexLogisticLoss(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): number {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const probs = new Float64Array(R.length * problem.numClasses);
  return forwardRows(problem, theta, R, probs) / R.length + 0.5 * problem.lambda * l2(theta);
}

/** J_R(θ) and ∇J_R(θ) in one pass. */
export function convexLogisticObjective(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): ConvexObjective {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  return objectiveOnRows(problem, theta, R);
}

export function objectiveOnRows(problem: ConvexLogisticProblem, theta: Float64Array, R: Uint32Array): ConvexObjective {
  const C = problem.numClasses;
  const probabilities = new Float64Array(R.length * C);
  const lossSum = forwardRows(problem, theta, R, probabilities);
  const residual = probabilities.slice();
  for (let r = 0; r < R.length; r++) residual[r * C + problem.labels[R[r]!]!]! -= 1;
  const gradient = new Float64Array(theta.length);
  accumulateOuter(problem, R, residual, 1 / R.length, gradient);
  for (let k = 0; k < theta.length; k++) gradient[k]! += problem.lambda * theta[k]!;
  return { value: lossSum / R.length + 0.5 * problem.lambda * l2(theta), gradient, probabilities };
}

/** The exact Hessian of J_R at one θ as an operator: v ↦ ∇²J_R·v, and its diagonal (a Jacobi preconditioner). */
export interface ConvexHessianOperator {
  size: number;
  apply(v: Float64Array, out?: Float64Array): Float64Array;
  diagonal(): Float64Array;
}

/**
 * The Hessian operator at θ (matrix-free: one pass over the rows per product, 2·n·(d + 1)·C multiply-adds).
 *
 * @example
 * const H = convexHessianOperator(problem, theta);
 * const Hv = H.apply(v);
 */
export function convexHessianOperator(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): ConvexHessianOperator {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const probs = new Float64Array(R.length * problem.numClasses);
  forwardRows(problem, theta, R, probs);
  return hessianOperatorFromProbabilities(problem, R, probs);
}

export function hessianOperatorFromProbabilities(problem: ConvexLogisticProblem, R: Uint32Array, probs: Float64Array): ConvexHessianOperator {
  const C = problem.numClasses;
  const P = parameterCount(problem);
  const { lambda } = problem;
  const u = new Float64Array(C);
  const a = new Float64Array(R.length * C);
  return {
    size: P,
    apply(v, out = new Float64Array(P)) {
      out.fill(0);
      for (let r = 0; r < R.length; r++) {
        projectRow(problem, R[r]!, v, u);
        // (diag p − p pᵀ) u = p ⊙ (u − pᵀu)
        let s = 0;
        for (let c = 0; c < C; c++) s += probs[r * C + c]! * u[c]!;
        for (let c = 0; c < C; c++) a[r * C + c] = probs[r * C + c]! * (u[c]! - s);
      }
      accumulateOuter(problem, R, a, 1 / R.length, out);
      for (let k = 0; k < P; k++) out[k]! += lambda * v[k]!;
      return out;
    },
    diagonal() {
      const diag = new Float64Array(P);
      const { x, d } = problem;
      for (let r = 0; r < R.length; r++) {
        const xo = R[r]! * d;
        for (let c = 0; c < C; c++) {
          const pc = probs[r * C + c]!;
          const w = (pc * (1 - pc)) / R.length;
          for (let j = 0; j < d; j++) diag[j * C + c]! += w * x[xo + j]! * x[xo + j]!;
          diag[d * C + c]! += w;
        }
      }
      for (let k = 0; k < P; k++) diag[k]! += lambda;
      return diag;
    },
  };
}

/**
 * The explicit P × P Hessian (row-major), for small models (P up to a few thousand): C(C+1)/2 weighted Gram matrices
 * x̃ᵀ diag(A_{cc'}) x̃, each ~n·(d + 1)²/2 multiply-adds.
 */
export function convexLogisticHessian(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): Float64Array {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  return hessianFromProbabilities(problem, R, probabilitiesOnRows(problem, theta, R));
}

export function hessianFromProbabilities(problem: ConvexLogisticProblem, R: Uint32Array, probs: Float64Array): Float64Array {
  const { x, d, numClasses: C, lambda } = problem;
  const D = d + 1;
  const P = D * C;
  const H = new Float64Array(P * P);
  const gram = new Float64Array(D * D);
  const xt = new Float64Array(D);
  for (let c = 0; c < C; c++) {
    for (let c2 = c; c2 < C; c2++) {
      gram.fill(0);
      for (let r = 0; r < R.length; r++) {
        const pc = probs[r * C + c]!;
        const w = (c === c2 ? pc * (1 - pc) : -pc * probs[r * C + c2]!) / R.length;
        if (w === 0) continue;
        const xo = R[r]! * d;
        for (let j = 0; j < d; j++) xt[j] = x[xo + j]!;
        xt[d] = 1;
        for (let j = 0; j < D; j++) {
          const wj = w * xt[j]!;
          if (wj === 0) continue;
          const go = j * D;
          for (let k = j; k < D; k++) gram[go + k]! += wj * xt[k]!;
        }
      }
      for (let j = 0; j < D; j++) {
        for (let k = j; k < D; k++) {
          const g = gram[j * D + k]!;
          // H[(j,c),(k,c2)] = H[(k,c),(j,c2)] = g, and the transposes.
          H[(j * C + c) * P + k * C + c2] = g;
          H[(k * C + c2) * P + j * C + c] = g;
          H[(k * C + c) * P + j * C + c2] = g;
          H[(j * C + c2) * P + k * C + c] = g;
        }
      }
    }
  }
  for (let k = 0; k < P; k++) H[k * P + k]! += lambda;
  return H;
}

/**
 * Per-example gradients of the loss (no regulariser): row r of the result (|R| × P) is ∇ℓ_{R[r]} = x̃ ⊗ (p − e_y).
 * P·|R| doubles: keep |R| or P modest, or use `convexExampleResiduals` and the outer-product structure.
 */
export function convexExampleGradients(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): Float64Array {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const residuals = convexExampleResiduals(problem, theta, R);
  const { x, d, numClasses: C } = problem;
  const P = parameterCount(problem);
  const out = new Float64Array(R.length * P);
  for (let r = 0; r < R.length; r++) {
    const go = r * P;
    const xo = R[r]! * d;
    for (let j = 0; j < d; j++) for (let c = 0; c < C; c++) out[go + j * C + c] = x[xo + j]! * residuals[r * C + c]!;
    for (let c = 0; c < C; c++) out[go + d * C + c] = residuals[r * C + c]!;
  }
  return out;
}

/** p_i − e_{y_i} for rows R (|R| × C): with x̃_i, the whole per-example gradient. */
export function convexExampleResiduals(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>): Float64Array {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const C = problem.numClasses;
  const probs = probabilitiesOnRows(problem, theta, R);
  for (let r = 0; r < R.length; r++) probs[r * C + problem.labels[R[r]!]!]! -= 1;
  return probs;
}
