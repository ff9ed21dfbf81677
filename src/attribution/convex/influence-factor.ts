/**
 * Exact H⁻¹ solves of the reference on the subspace where its gradients live — a smaller Cholesky factor, the same answer.
 *
 * H = (1/|R|) Σ_i x̃_i x̃_iᵀ ⊗ Λ_i + λI (objective.ts) with Λ_i = diag p_i − p_i p_iᵀ, Λ_i 1 = 0. Two subspaces are
 * eigenspaces of H with eigenvalue λ and carry no data:
 *  - every direction v ⊗ 1 (moving all classes' logits together: Λ_i 1 = 0), and
 *  - every coordinate (j, c) of a feature j that is zero on all rows R (an MNIST border pixel: 130 of the 784 on 5,000
 *    training digits).
 * Their complement S = A ⊗ 1^⊥ (A: the active features and the bias) is invariant too, so H⁻¹ splits: with T = S_A ⊗ B,
 * B = [I_{C−1}; −1ᵀ] (columns e_c − e_{C−1}, a basis of 1^⊥) and H' = Tᵀ H T (|A|·(C − 1) square),
 *   H⁻¹ g = T H'⁻¹ Tᵀ g + (g − Π g)/λ,    gᵀ H⁻¹ g = ‖L'⁻¹ Tᵀ g‖² + ‖g − Π g‖²/λ,
 * Π the orthogonal projector onto S (subtract each active feature's class mean; zero the inactive features). Every
 * per-example gradient x̃_i ⊗ (p_i − e_{y_i}) of a row in R lies in S. At raw-pixel MNIST (5,000 rows) the factor is
 * 5,895 instead of 7,850 wide: (5,895/7,850)³ ≈ 0.42 of the factorisation and 0.56 of each solve.
 * H' = (1/|R|) Σ_i x̃_{i,A} x̃_{i,A}ᵀ ⊗ BᵀΛ_iB + λ (I ⊗ BᵀB), BᵀB = I + 11ᵀ: C(C − 1)/2 weighted Gram blocks on the
 * blocked float64 kernel (../linalg), as the full Hessian's off-diagonal blocks.
 */
import type { CholeskyFactor, DenseEngine } from '../linalg/index.js';
import { choleskyFactor, createDenseWorkspace } from '../linalg/index.js';
import { weightedGramLower } from './objective.js';
import { probabilitiesOnRows } from './outputs.js';
import { activeFeatures, assertTheta, parameterCount, resolveRows, type ConvexLogisticProblem } from './problem.js';
import { ProvenantError } from '../../core/index.js';

/** Exact solves with the Hessian of J_R at θ through its reduced factor (see the file header). Rows are vectors (rows × P). */
export interface ConvexInfluenceFactor {
  /** P = (d + 1)·C, the length of every vector. */
  readonly size: number;
  /** Width of the reduced factor: |A|·(C − 1), A the features nonzero on some row of R, plus the bias. */
  readonly reducedSize: number;
  /** Indices of the active features A (the bias, index d, last). */
  readonly activeFeatures: Uint32Array;
  /** H⁻¹ v for each row v of V (rows × P). */
  solveRows(V: ArrayLike<number>, rows: number): Float64Array;
  /** vᵀ H⁻¹ v for each row v of V (rows × P): e.g. self-influence, in half the work of a solve. */
  quadraticRows(V: ArrayLike<number>, rows: number): Float64Array;
  /** The Cholesky factor of the reduced Hessian H' = Tᵀ H T. */
  readonly reduced: CholeskyFactor;
}

/**
 * The reduced exact factor of the Hessian of J_R at θ (Koh & Liang 2017, Eq. 2–3 solves; see the file header for the
 * subspace and the identities): `solveRows` returns H⁻¹v and `quadraticRows` vᵀH⁻¹v for any vectors, exactly as a full
 * P × P Cholesky factor would (to rounding), at |A|·(C − 1) instead of P = (d + 1)·C width. `rows` are the rows θ was
 * fitted on (default all); `engine` picks the dense kernel.
 *
 * @throws ProvenantError `ATTRIBUTION_SHAPE_MISMATCH` for a θ of the wrong length or vectors that are not rows × P;
 *   `ATTRIBUTION_INPUT_INVALID` for bad `rows`; the factorisation's error when H' is not positive definite (it is for λ > 0).
 * @example
 * ```ts
 * import { convexExampleGradients, convexInfluenceFactor, createConvexLogisticProblem, fitConvexLogistic } from 'provenant/attribution';
 *
 * const problem = createConvexLogisticProblem([[0, 1, 0], [1, 0, 0], [1, 1, 0], [0, 0, 0]], [0, 1, 2, 0], { numClasses: 3, lambda: 1e-2 });
 * const { theta } = fitConvexLogistic(problem);
 * const factor = convexInfluenceFactor(problem, theta); // feature 2 is zero on every row: reducedSize (2 + 1)·2 = 6, not 12
 * const grads = convexExampleGradients(problem, theta);
 * const self = factor.quadraticRows(grads, problem.n);   // ∇ℓ_iᵀ H⁻¹ ∇ℓ_i per row
 * const solved = factor.solveRows(grads, problem.n);      // n × P: row i = H⁻¹∇ℓ_i
 * ```
 */
export function convexInfluenceFactor(problem: ConvexLogisticProblem, theta: Float64Array, rows?: ArrayLike<number>, engine?: DenseEngine): ConvexInfluenceFactor {
  assertTheta(problem, theta);
  const R = resolveRows(problem, rows);
  const { x, d, numClasses: C, lambda } = problem;
  const P = parameterCount(problem);
  const n = R.length;
  const K = C - 1;
  const active = activeFeatures(problem, R);
  const A = active.length;
  const Q = A * K;
  const probs = probabilitiesOnRows(problem, theta, R);
  const H = new Float64Array(Q * Q);
  if (K > 0) {
    const ws = createDenseWorkspace(2 * A * n + A * A + 16, engine);
    const xt = ws.alloc(A * n);
    const xw = ws.alloc(A * n);
    const g = ws.alloc(A * A);
    {
      const h = ws.heap();
      for (let r = 0; r < n; r++) {
        const xo = R[r]! * d;
        for (let ja = 0; ja < A; ja++) {
          const j = active[ja]!;
          h[xt + ja * n + r] = j === d ? 1 : x[xo + j]!;
        }
      }
    }
    const w = new Float64Array(n);
    const L = K; // the reference class (index C − 1)
    for (let a = 0; a < K; a++) {
      for (let b = a; b < K; b++) {
        // (BᵀΛB)_ab = Λ_ab − Λ_aL − Λ_Lb + Λ_LL with Λ = diag p − p pᵀ, over |R|.
        for (let r = 0; r < n; r++) {
          const pa = probs[r * C + a]!, pb = probs[r * C + b]!, pl = probs[r * C + L]!;
          w[r] = ((a === b ? pa : 0) - pa * pb + pa * pl + pb * pl + pl * (1 - pl)) / n;
        }
        weightedGramLower(ws, A, n, xt, xw, w, g);
        const hh = ws.heap();
        // Block (a, b) and its transpose (b, a): H'[(i,a),(k,b)] = G[i,k], G symmetric (lower triangle computed).
        for (let i = 0; i < A; i++) {
          for (let k = 0; k <= i; k++) {
            const v = hh[g + i * A + k]!;
            H[(i * K + a) * Q + k * K + b] = v;
            H[(k * K + a) * Q + i * K + b] = v;
            H[(i * K + b) * Q + k * K + a] = v;
            H[(k * K + b) * Q + i * K + a] = v;
          }
        }
      }
    }
    // λ Tᵀ T = λ (I ⊗ (I + 11ᵀ)).
    for (let i = 0; i < A; i++) for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) H[(i * K + a) * Q + i * K + b]! += lambda * (a === b ? 2 : 1);
  }
  const reduced = choleskyFactor(H, Q, { engine });

  const check = (V: ArrayLike<number>, count: number) => {
    if (!Number.isInteger(count) || count < 0 || V.length !== count * P) {
      throw new ProvenantError('ATTRIBUTION_SHAPE_MISMATCH', `Vectors hold ${V.length} values, expected rows × P = ${count} × ${P}.`, { data: { length: V.length, rows: count, P } });
    }
  };
  /** Tᵀ v per row (count × Q), and (I − Π) v per row (count × P). */
  const split = (V: ArrayLike<number>, count: number) => {
    const z = new Float64Array(count * Q);
    const rest = Float64Array.from(V);
    for (let r = 0; r < count; r++) {
      for (let ja = 0; ja < A; ja++) {
        const o = r * P + active[ja]! * C;
        let mean = 0;
        for (let c = 0; c < C; c++) mean += V[o + c]!;
        mean /= C;
        for (let a = 0; a < K; a++) z[r * Q + ja * K + a] = V[o + a]! - V[o + K]!;
        // What remains of an active feature's block after Π is its class mean; inactive features keep everything.
        for (let c = 0; c < C; c++) rest[o + c] = mean;
      }
    }
    return { z, rest };
  };
  return {
    size: P,
    reducedSize: Q,
    activeFeatures: active,
    reduced,
    solveRows(V, count) {
      check(V, count);
      const { z, rest } = split(V, count);
      const y = reduced.solveRows(z, count);
      const out = new Float64Array(count * P);
      for (let k = 0; k < out.length; k++) out[k] = rest[k]! / lambda;
      for (let r = 0; r < count; r++) {
        for (let ja = 0; ja < A; ja++) {
          const o = r * P + active[ja]! * C;
          const yo = r * Q + ja * K;
          let s = 0;
          for (let a = 0; a < K; a++) {
            out[o + a]! += y[yo + a]!;
            s += y[yo + a]!;
          }
          out[o + K]! -= s;
        }
      }
      return out;
    },
    quadraticRows(V, count) {
      check(V, count);
      const { z, rest } = split(V, count);
      const y = reduced.forwardRows(z, count);
      const out = new Float64Array(count);
      for (let r = 0; r < count; r++) {
        let s = 0;
        for (let k = r * Q; k < (r + 1) * Q; k++) s += y[k]! * y[k]!;
        let t = 0;
        for (let k = r * P; k < (r + 1) * P; k++) t += rest[k]! * rest[k]!;
        out[r] = s + t / lambda;
      }
      return out;
    },
  };
}
